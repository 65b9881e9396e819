"""Launchpad enrichment test double: a local Launchpad-shaped HTTP server (devel WADL + JSON).

The real launchpadlib talks to it over a loopback socket, so tests exercise
launchpadlib, lazr.restfulclient, wadllib and httplib2 unchanged. It serves the
hand-written WADL in fixtures/launchpad/ or JSON by the Accept header, with
every link pointing back at this server (wadllib refuses definitions that live
at another URL), records every request, and can inject failures and delays.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

WADL_TEMPLATE = (Path(__file__).parent / "fixtures" / "launchpad" / "devel.wadl").read_text()
WADL_TYPE = "application/vnd.sun.wadl+xml"
DATE = "2016-10-06T09:00:00.000000+00:00"


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str  # without the query string
    query: dict[str, str]
    accept: str


@dataclass
class Fault:
    status: int
    path_contains: str = ""
    times: int | None = None  # None: until cleared


@dataclass
class LaunchpadServer:
    """Launchpad data by name; build it, then `with server.running() as root:`."""

    projects: dict[str, dict] = field(default_factory=dict)
    series: dict[tuple[str, str], dict] = field(default_factory=dict)
    milestones: dict[tuple[str, str], dict] = field(default_factory=dict)
    specs: dict[tuple[str, str], dict] = field(default_factory=dict)
    bugs: dict[int, dict] = field(default_factory=dict)
    requests: list[SeenRequest] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    delay: float = 0.0  # seconds before each response ("Launchpad is slow")
    root: str = ""

    # -- building the data ---------------------------------------------------

    def add_project(self, name: str, display_name: str | None = None) -> None:
        self.projects[name] = {"name": name, "display_name": display_name or name.title()}

    def add_series(self, project: str, name: str, status: str = "Active Development") -> None:
        self.series[(project, name)] = {"name": name, "status": status}

    def add_milestone(self, project: str, name: str, series: str) -> None:
        self.milestones[(project, name)] = {"name": name, "series": series}

    def add_blueprint(
        self,
        project: str,
        name: str,
        *,
        priority: str = "High",
        definition_status: str = "Approved",
        implementation_status: str = "Started",
        milestone: str | None = None,
        title: str | None = None,
    ) -> None:
        self.specs[(project, name)] = {
            "name": name,
            "title": title or name.replace("-", " ").title(),
            "priority": priority,
            "definition_status": definition_status,
            "implementation_status": implementation_status,
            "milestone": milestone,
        }

    def add_bug(
        self,
        number: int,
        *,
        title: str = "A bug",
        tags: list[str] | tuple[str, ...] = (),
        tasks: list[tuple[str, str, str]] = (),  # (target name, importance, status)
    ) -> None:
        self.bugs[number] = {"title": title, "tags": list(tags), "tasks": list(tasks)}

    def fail(self, status: int, *, path_contains: str = "", times: int | None = None) -> None:
        """Answer `status` to matching requests (`times` of them, or until clear_faults)."""
        self.faults.append(Fault(status, path_contains, times))

    def clear_faults(self) -> None:
        self.faults.clear()

    def requests_to(self, fragment: str) -> list[SeenRequest]:
        return [r for r in self.requests if fragment in r.path]

    # -- representations -----------------------------------------------------

    def _api(self, path: str) -> str:
        return f"{self.root}devel/{path}"

    def _entry(self, kind: str, path: str, **fields: object) -> dict:
        return {
            "self_link": self._api(path),
            "resource_type_link": self._api(f"#{kind}"),
            "http_etag": f'"{abs(hash((kind, path))):x}"',
            **fields,
        }

    def _project_json(self, name: str) -> dict:
        p = self.projects[name]
        return self._entry(
            "project", name, web_link=f"https://launchpad.net/{name}", name=name,
            display_name=p["display_name"], title=p["display_name"], active=True,
        )

    def _spec_json(self, project: str, name: str) -> dict:
        s = self.specs[(project, name)]
        milestone = s["milestone"]
        return self._entry(
            "specification", f"{project}/+spec/{name}",
            web_link=f"https://blueprints.launchpad.net/{project}/+spec/{name}",
            name=name, title=s["title"], summary="", specification_url=None,
            information_type="Public", priority=s["priority"],
            definition_status=s["definition_status"],
            implementation_status=s["implementation_status"],
            lifecycle_status="Started", is_complete=False, is_started=True,
            has_accepted_goal=milestone is not None, date_created=DATE,
            target_link=self._api(project),
            milestone_link=self._api(f"{project}/+milestone/{milestone}") if milestone else None,
        )

    def _milestone_json(self, project: str, name: str) -> dict:
        m = self.milestones[(project, name)]
        return self._entry(
            "milestone", f"{project}/+milestone/{name}",
            web_link=f"https://launchpad.net/{project}/+milestone/{name}",
            name=name, title=name, code_name=None, is_active=True, date_targeted=None,
            target_link=self._api(project),
            series_target_link=self._api(f"{project}/{m['series']}"),
        )

    def _series_json(self, project: str, name: str) -> dict:
        s = self.series[(project, name)]
        return self._entry(
            "project_series", f"{project}/{name}",
            web_link=f"https://launchpad.net/{project}/{name}",
            name=name, title=name, display_name=name, active=True, status=s["status"],
            project_link=self._api(project),
        )

    def _bug_json(self, number: int) -> dict:
        b = self.bugs[number]
        return self._entry(
            "bug", f"bugs/{number}", web_link=f"https://bugs.launchpad.net/bugs/{number}",
            id=number, title=b["title"], description="", tags=b["tags"], heat=6,
            information_type="Public", private=False, date_created=DATE,
            date_last_updated=DATE,
            bug_tasks_collection_link=self._api(f"bugs/{number}/bug_tasks"),
        )

    def _tasks_json(self, number: int) -> dict:
        entries = []
        for target, importance, status in self.bugs[number]["tasks"]:
            entries.append(self._entry(
                "bug_task", f"{target}/+bug/{number}",
                web_link=f"https://bugs.launchpad.net/{target}/+bug/{number}",
                title=f"Bug #{number} in {target}", bug_target_name=target,
                bug_target_display_name=target.title(), importance=importance,
                status=status, is_complete=status.startswith("Fix Released"),
                date_created=DATE, bug_link=self._api(f"bugs/{number}"),
                target_link=self._api(target.split("/")[0]), milestone_link=None,
            ))
        return {
            "resource_type_link": self._api("#bug_task-page-resource"),
            "total_size": len(entries), "start": 0, "entries": entries,
        }

    def respond(self, path: str, query: dict[str, str], accept: str) -> tuple[int, str, str]:
        """(status, content type, body) for one GET."""
        if not path.startswith("/devel/"):
            return 404, "text/plain", "Not found"
        rest = unquote(path[len("/devel/"):]).strip("/")
        parts = rest.split("/") if rest else []
        if not parts:
            if WADL_TYPE in accept:
                return 200, WADL_TYPE, WADL_TEMPLATE.replace("{root}", self.root)
            return 200, "application/json", json.dumps({
                "resource_type_link": self._api("#service-root"),
                "projects_collection_link": self._api("projects"),
                "bugs_collection_link": self._api("bugs"),
            })
        found = self._lookup(parts, query)
        if found is _MISSING:
            return 404, "text/plain", f"Object: {rest!r}, name: not found"
        return 200, "application/json", json.dumps(found)

    def _lookup(self, parts: list[str], query: dict[str, str]) -> object:
        if parts[0] == "bugs" and len(parts) >= 2 and parts[1].isdigit():
            number = int(parts[1])
            if number not in self.bugs:
                return _MISSING
            if len(parts) == 2:
                return self._bug_json(number)
            if parts[2:] == ["bug_tasks"]:
                return self._tasks_json(number)
            return _MISSING
        project = parts[0]
        if project not in self.projects:
            return _MISSING
        if len(parts) == 1:
            op = query.get("ws.op")
            if op is None:
                return self._project_json(project)
            name = _decode_arg(query.get("name", ""))
            if op == "getSpecification":
                # Launchpad answers a missing blueprint with a JSON null, not a 404.
                return self._spec_json(project, name) if (project, name) in self.specs else None
            if op == "getMilestone":
                ok = (project, name) in self.milestones
                return self._milestone_json(project, name) if ok else None
            if op == "getSeries":
                return self._series_json(project, name) if (project, name) in self.series else None
            return _MISSING
        if len(parts) == 3 and parts[1] == "+spec" and (project, parts[2]) in self.specs:
            return self._spec_json(project, parts[2])
        if len(parts) == 3 and parts[1] == "+milestone" and (project, parts[2]) in self.milestones:
            return self._milestone_json(project, parts[2])
        if len(parts) == 2 and (project, parts[1]) in self.series:
            return self._series_json(project, parts[1])
        return _MISSING

    def _fault_for(self, path: str) -> int | None:
        for fault in self.faults:
            if fault.path_contains in path and (fault.times is None or fault.times > 0):
                if fault.times is not None:
                    fault.times -= 1
                return fault.status
        return None

    # -- running ---------------------------------------------------------------

    @contextmanager
    def running(self) -> Iterator[str]:
        """Serve on 127.0.0.1 (free port); yields the service root, e.g. http://127.0.0.1:P/."""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # http.server's naming
                url = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                accept = self.headers.get("Accept", "")
                owner.requests.append(SeenRequest("GET", url.path, query, accept))
                if owner.delay:
                    time.sleep(owner.delay)
                status = owner._fault_for(url.path)
                if status is not None:
                    ctype, body = "text/plain", f"Injected failure {status}"
                else:
                    status, ctype, body = owner.respond(url.path, query, accept)
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output clean

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self.root = f"http://127.0.0.1:{server.server_address[1]}/"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self.root
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


_MISSING = object()


def _decode_arg(raw: str) -> str:
    """Named-operation arguments arrive JSON-encoded (`"name"`); fall back to the raw text,
    as lazr.restful does."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return value if isinstance(value, str) else raw


def glance_ocata() -> LaunchpadServer:
    """Glance-like data: Ocata blueprints with milestones, bugs with several tasks."""
    lp = LaunchpadServer()
    lp.add_project("glance", "Glance")
    lp.add_project("nova", "Nova")
    lp.add_series("glance", "ocata")
    lp.add_series("glance", "newton", status="Current Stable Release")
    lp.add_milestone("glance", "ocata-2", "ocata")
    lp.add_milestone("glance", "newton-3", "newton")
    lp.add_blueprint("glance", "image-import-refactor", priority="Essential",
                     implementation_status="Good progress", milestone="ocata-2")
    lp.add_blueprint("glance", "community-level-v2-image-sharing", priority="High",
                     implementation_status="Needs Code Review", milestone="ocata-2")
    lp.add_blueprint("glance", "rolling-upgrades", priority="High", milestone="newton-3")
    lp.add_blueprint("glance", "someday-maybe", priority="Undefined",
                     definition_status="New", implementation_status="Unknown")
    lp.add_bug(1639487, title="Remove incubated oslo code", tags=["goal", "ocata-rc-potential"],
               tasks=[("nova", "Low", "Fix Released"), ("glance", "High", "In Progress")])
    lp.add_bug(1654321, title="Image import stalls", tags=["import"],
               tasks=[("glance", "Critical", "Triaged")])
    lp.add_bug(1700001, title="Nova only", tags=[], tasks=[("nova", "Medium", "New")])
    return lp
