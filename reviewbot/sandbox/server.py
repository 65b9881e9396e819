"""Sandbox Gerrit REST: the endpoints a polling bot uses, over a real threaded HTTP server.

A real `http.server.ThreadingHTTPServer` on a port of its own in a daemon
thread (the Zuul fake-Gerrit model), so production code (pygerrit2 +
requests) runs unchanged against it. Every request is recorded; faults
injected with `inject_fault` answer the next matching requests
(transport.py does the recording and the damage).

Size: ~740 lines, one handler per Gerrit endpoint plus the audit log and HTML pages'
routing; the endpoint groups (changes, accounts/groups, writes) are where it would split.
Not yet split (see the README's notes).
"""

from __future__ import annotations

import base64
import contextlib
import json
import random
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from http.server import ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import unquote

from reviewbot.clock import utcnow
from reviewbot.sandbox.model import LABELS, Account, Change, Group, State
from reviewbot.sandbox.pages import change_page, change_path, dashboard_page
from reviewbot.sandbox.query import QueryError, compile_query
from reviewbot.sandbox.render import (
    DETAIL_OPTIONS,
    KNOWN_OPTIONS,
    PREFIX,
    Renderer,
    account_info,
    change_bytes,
    ts,
)
from reviewbot.sandbox.transport import (
    FAULT_KINDS,
    VERSION,
    Fault,
    GerritHandler,
    HttpError,
    RecordedRequest,
    Reply,
    json_reply,
    text_reply,
)

if TYPE_CHECKING:
    from reviewbot.sandbox.generator import Activity

__all__ = ["FAULT_KINDS", "SYNC_OPTIONS", "VERSION", "RecordedRequest", "SandboxGerrit"]

# What `reviewbot sync` asks for (issue 2): pre-rendered by `prewarm()`.
SYNC_OPTIONS = frozenset(
    {
        "DETAILED_LABELS",
        "DETAILED_ACCOUNTS",
        "MESSAGES",
        "ALL_REVISIONS",
        "CURRENT_COMMIT",
        "CURRENT_FILES",
    }
)
DEFAULT_LIMIT = 500


_CHANGE_TRIPLET = re.compile(
    r"^(?P<project>[^~]+)~(?P<branch>[^~]+)~(?P<cid>I[0-9a-f]{40})(?:/(?P<rest>.*))?$"
)
_CHANGE_PROJ_NUM = re.compile(r"^(?P<project>[^~]+)~(?P<num>\d+)(?:/(?P<rest>.*))?$")
_CHANGE_SINGLE = re.compile(r"^(?P<single>[^/]+)(?:/(?P<rest>.*))?$")
# Web URLs: /c/<project>/+/<n>[/<patch set>[/<file>]] and the short /<n>.
_WEB_CHANGE = re.compile(r"/c/(?P<project>.+?)/\+/(?P<num>\d+)(?:/\d+(?:/.*)?)?/?")
_WEB_NUMBER = re.compile(r"/(?P<num>\d+)/?")


def _html(body: bytes) -> Reply:
    return Reply(200, body, "text/html; charset=UTF-8")


class SandboxGerrit(State):
    """Gerrit REST emulator: State + HTTP server + request log + fault switches."""

    def __init__(self, *, now: Callable[[], datetime] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.now = now or utcnow
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self.fault_random = random.Random(0)
        self.version_string = VERSION
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._query_cache: dict[tuple[str, str | None], tuple[int, list[Change], int | None]] = {}
        self._activity: Activity | None = None
        self.url: str | None = None

    # ---- lifecycle -------------------------------------------------------------------

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        if self._server is not None and self.url is not None:
            return self.url
        sandbox = self

        class Handler(GerritHandler):
            gerrit = sandbox

        server = ThreadingHTTPServer((host, port), Handler)
        server.daemon_threads = True
        self._server = server
        # A short poll interval keeps stop() (and so each test's teardown) fast.
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="sandbox-gerrit",
            daemon=True,
        )
        self._thread.start()
        bound_host = server.server_address[0]  # an IPv4 socket's address: (str, port)
        if isinstance(bound_host, bytes):
            bound_host = bound_host.decode()
        self.url = f"http://{bound_host}:{server.server_port}"
        return self.url

    def stop(self) -> None:
        self.stop_activity()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            self._thread = None

    @contextlib.contextmanager
    def running(self, port: int = 0, host: str = "127.0.0.1") -> Iterator[str]:
        url = self.start(port=port, host=host)
        try:
            yield url
        finally:
            self.stop()

    def prewarm(self, options: Iterable[str] = SYNC_OPTIONS) -> int:
        """Render every change for `options` ahead of the first query (benchmarks, demo).

        Holds the lock per change only, so the server keeps answering meanwhile.
        Returns how many changes were rendered.
        """
        opts = frozenset(options)
        with self.lock:
            numbers = list(self.changes)
        done = 0
        for number in numbers:
            with self.lock:
                change = self.changes.get(number)
                if change is not None:
                    change_bytes(self, change, opts)
                    done += 1
        return done

    def start_activity(self, every_seconds: float = 3.0, seed: int = 0) -> None:
        from reviewbot.sandbox.generator import Activity

        self.stop_activity()
        activity = Activity(self, every_seconds=every_seconds, seed=seed)
        self._activity = activity
        activity.start()

    def stop_activity(self) -> None:
        if self._activity is not None:
            self._activity.stop()
            self._activity = None

    # ---- request log and faults ------------------------------------------------------

    def clear_requests(self) -> None:
        with self.lock:
            self.requests.clear()

    def inject_fault(
        self,
        kind: str,
        *,
        count: int = 1,
        path_contains: str | None = None,
        status: int = 503,
        retry_after: str | int | None = None,
        delay: float = 0.0,
        method: str | None = None,
        chance: float | None = None,
    ) -> None:
        """Answer the next `count` matching requests with a fault (see FAULT_KINDS).

        A request matches when its path and query contain `path_contains` and, if
        given, its method is `method`. With `chance`, each matching request is hit
        with that probability (drawn from `fault_random`, seed it for a repeatable
        run) until `count` hits are used up.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(FAULT_KINDS)}")
        with self.lock:
            self.faults.append(
                Fault(
                    kind,
                    count,
                    path_contains,
                    status,
                    None if retry_after is None else str(retry_after),
                    delay,
                    method,
                    chance,
                )
            )

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def _take_fault(self, target: str, method: str = "GET") -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.count > 0 and (
                    fault.path_contains is None or fault.path_contains in target
                ) and (fault.method is None or fault.method == method) and (
                    fault.chance is None or self.fault_random.random() < fault.chance
                ):
                    fault.count -= 1
                    if fault.count == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    # ---- dispatch --------------------------------------------------------------------

    def handle(
        self,
        method: str,
        raw_path: str,
        params: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> tuple[Reply, str | None]:
        user: Account | None = None
        path = raw_path
        if path == "/a" or path.startswith("/a/"):
            user = self._authenticate(headers)
            if user is None:
                return text_reply(
                    401, "Unauthorized", {"WWW-Authenticate": 'Basic realm="Gerrit Code Review"'}
                ), None
            path = path[2:] or "/"
        try:
            reply = self._route(method, path, params, body, headers, user)
        except HttpError as exc:
            reply = text_reply(exc.status, exc.text, exc.headers)
        except QueryError as exc:
            reply = text_reply(400, str(exc))
        return reply, (user.username if user else None)

    def _authenticate(self, headers: dict[str, str]) -> Account | None:
        auth = headers.get("authorization", "")
        if not auth.lower().startswith("basic "):
            return None
        try:
            username, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        with self.lock:
            account = self.by_username.get(username)
        if account is None or account.password is None or account.password != password:
            return None
        return account

    def _route(
        self,
        method: str,
        path: str,
        params: dict[str, list[str]],
        body: bytes,
        headers: dict[str, str],
        user: Account | None,
    ) -> Reply:
        if method in ("POST", "PUT", "DELETE") and user is None:
            raise HttpError(403, "Authentication required")
        parts = path.strip("/").split("/", 1)
        root, rest = parts[0], (parts[1] if len(parts) > 1 else "")
        if root == "config" and rest.strip("/") == "server/version" and method == "GET":
            return json_reply(self.version_string)
        if root == "changes":
            if rest.strip("/") == "":
                if method != "GET":
                    raise HttpError(405, "Method Not Allowed")
                return self._query(params, user)
            return self._change_endpoint(method, rest, params, body, headers, user)
        if root == "groups" and method == "GET":
            return self._groups(rest, params, user)
        if root == "accounts" and method == "GET":
            return self._accounts(rest, params, user)
        if method == "GET":
            page = self._web_page(path, params, user)
            if page is not None:
                return page
        raise HttpError(404, "Not Found")

    # ---- web pages (the URLs people follow from the app's links) ----------------------

    def _web_page(self, path: str, params: dict[str, list[str]],
                  user: Account | None) -> Reply | None:
        m = _WEB_CHANGE.fullmatch(path)
        if m:
            with self.lock:
                change, _ = self.find_change(f"{unquote(m['project'])}~{m['num']}", user)
                return _html(change_page(self, change))
        m = _WEB_NUMBER.fullmatch(path)
        if m:
            with self.lock:
                change, _ = self.find_change(m["num"], user)
                # Gerrit answers the short form with a redirect to the canonical URL.
                return Reply(302, b"", "text/plain; charset=UTF-8",
                             {"Location": change_path(change)})
        if path in ("/dashboard", "/dashboard/"):
            def visible(c: Change) -> bool:
                return not c.private or (user is not None and user.id == c.owner)

            with self.lock:
                return _html(dashboard_page(self, params, visible, self.now))
        return None

    # ---- /changes/ query -------------------------------------------------------------

    @staticmethod
    def _options(params: dict[str, list[str]]) -> frozenset[str]:
        opts = []
        for value in params.get("o", []):
            name = value.strip().upper()
            if name not in KNOWN_OPTIONS:
                raise HttpError(400, f'"{value}" is not a valid value for "-o"')
            opts.append(name)
        return frozenset(opts)

    @staticmethod
    def _int_param(params: dict[str, list[str]], *names: str) -> int | None:
        for name in names:
            if name in params and params[name]:
                raw = params[name][-1]
                try:
                    value = int(raw)
                except ValueError:
                    raise HttpError(400, f'"{raw}" is not a valid value for "-{name}"') from None
                if value < 0:
                    raise HttpError(400, f'"{raw}" is not a valid value for "-{name}"')
                return value
        return None

    def _matching(self, query: str, user: Account | None) -> tuple[list[Change], int | None]:
        key = (query, user.username if user else None)
        with self.lock:
            cached = self._query_cache.get(key)
            if cached is not None and cached[0] == self.version:
                return cached[1], cached[2]
            pred, limit = compile_query(self, query, self.now)
            visible = [
                c
                for c in self.ordered()
                if (not c.private or (user is not None and user.id == c.owner)) and pred(c)
            ]
            if len(self._query_cache) > 64:
                self._query_cache.clear()
            self._query_cache[key] = (self.version, visible, limit)
            return visible, limit

    def _query(self, params: dict[str, list[str]], user: Account | None) -> Reply:
        options = self._options(params)
        queries = params.get("q") or ["status:open"]
        n = self._int_param(params, "n", "limit")
        start = self._int_param(params, "S", "start") or 0
        pages = []
        with self.lock:
            for query in queries:
                matching, limit = self._matching(query, user)
                size = DEFAULT_LIMIT if not n else min(n, DEFAULT_LIMIT)
                if limit is not None:
                    size = min(size, limit)
                page = matching[start : start + size]
                more = len(matching) > start + size and bool(page)
                chunks = [change_bytes(self, c, options) for c in page]
                if more:
                    chunks[-1] = chunks[-1][:-1] + b',"_more_changes":true}'
                pages.append(b"[" + b",".join(chunks) + b"]")
        body = pages[0] if len(queries) == 1 else b"[" + b",".join(pages) + b"]"
        return Reply(200, PREFIX + body, "application/json; charset=UTF-8")

    # ---- /changes/{id}/... ------------------------------------------------------------

    def find_change(self, ident: str, user: Account | None) -> tuple[Change, str]:
        """Resolve `project~number` (encoded or literal /), triplet, number or Change-Id."""
        change: Change | None = None
        rest = ""
        m = _CHANGE_TRIPLET.match(ident)
        if m:
            project, branch, cid = unquote(m["project"]), unquote(m["branch"]), m["cid"]
            rest = m["rest"] or ""
            change = next(
                (
                    c
                    for c in self.changes.values()
                    if c.change_id == cid and c.project == project and c.branch == branch
                ),
                None,
            )
            shown = unquote(ident.split("/" + rest)[0] if rest else ident)
        else:
            m = _CHANGE_PROJ_NUM.match(ident)
            if m:
                project, number = unquote(m["project"]), int(m["num"])
                rest = m["rest"] or ""
                found = self.changes.get(number)
                change = found if found is not None and found.project == project else None
                shown = f"{project}~{number}"
            else:
                m = _CHANGE_SINGLE.match(ident)
                single = unquote(m["single"]) if m else ident
                rest = (m["rest"] or "") if m else ""
                if single.isdigit():
                    change = self.changes.get(int(single))
                else:
                    hits = [c for c in self.changes.values() if c.change_id == single]
                    change = hits[0] if len(hits) == 1 else None
                shown = single
        if change is None or (change.private and (user is None or user.id != change.owner)):
            raise HttpError(404, f"Not found: {shown}")
        return change, rest.strip("/")

    def _change_endpoint(
        self,
        method: str,
        ident: str,
        params: dict[str, list[str]],
        body: bytes,
        headers: dict[str, str],
        user: Account | None,
    ) -> Reply:
        with self.lock:
            change, sub = self.find_change(ident, user)
            if method == "GET":
                if sub == "":
                    return self._change_json(change, self._options(params))
                if sub == "detail":
                    return self._change_json(change, self._options(params) | DETAIL_OPTIONS)
                if sub == "messages":
                    return json_reply(self._legacy_messages(change))
                if sub == "hashtags":
                    return json_reply(sorted(change.hashtags))
                if sub == "topic":
                    return json_reply(change.topic or "")
                if sub in ("reviewers", "reviewers/"):
                    return json_reply(self._reviewer_infos(change))
                if sub == "comments":
                    return json_reply({})
            if user is None:  # anonymous: only the reads above (_route refused the writes)
                raise HttpError(404, "Not Found" if method == "GET" else "Method Not Allowed")
            if method in ("PUT", "DELETE") and sub == "topic":
                return self._put_topic(change, method, body, headers, user)
            if method == "POST" and sub in ("wip", "ready"):
                if user.id != change.owner and not self.is_core(user.id):
                    raise HttpError(403, "not permitted: toggle work in progress state")
                self.set_wip(change.number, sub == "wip", when=self.now(), by=user.id)
                return Reply(200, b"", "text/plain; charset=UTF-8")
            m = re.fullmatch(r"reviewers/([^/]+)/votes/([^/]+)", sub)
            if method == "DELETE" and m:
                return self._delete_vote(change, unquote(m[1]), unquote(m[2]), user)
            if method == "POST" and sub == "hashtags":
                return self._post_hashtags(change, body, headers, user)
            if method == "POST":
                m = re.fullmatch(r"revisions/([^/]+)/review", sub)
                if m:
                    return self._post_review(change, unquote(m[1]), body, headers, user)
            raise HttpError(404, "Not Found" if method == "GET" else "Method Not Allowed")

    def _legacy_messages(self, change: Change) -> list[dict]:
        """`GET .../messages`: detailed authors, `<GERRIT_ACCOUNT_n>` replaced by names."""
        r = Renderer(self, frozenset({"DETAILED_ACCOUNTS"}))
        out = []
        for k, m in enumerate(change.messages):
            info = r.message(change, k)
            for account_id in m.accounts:
                a = self.accounts[account_id]
                info["message"] = info["message"].replace(
                    f"<GERRIT_ACCOUNT_{account_id}>", f"{a.name} <{a.email}>"
                )
            out.append(info)
        return out

    def _put_topic(
        self, change: Change, method: str, body: bytes, headers: dict[str, str], user: Account
    ) -> Reply:
        topic = None
        if method == "PUT":
            topic = self._json_body(body, headers).get("topic")
            if topic is not None and not isinstance(topic, str):
                raise HttpError(400, "Invalid application/json in request")
            if topic and '"' in topic:
                raise HttpError(400, "topic must not contain quotation marks")
        self.set_topic(change.number, user.id, topic, when=self.now())
        if change.topic is None:
            return Reply(204, b"", "text/plain; charset=UTF-8")
        return json_reply(change.topic)

    def _delete_vote(self, change: Change, who: str, label: str, user: Account) -> Reply:
        try:
            voter = self.account(user.id if who in ("self", "me") else who)
        except ValueError:
            raise HttpError(404, f"Not found: {who}") from None
        vote = change.current.approvals.get(label, {}).get(voter.id)
        if vote is None or not vote.value:
            raise HttpError(404, f"Not found: {label}")
        if voter.id != user.id and not self.is_core(user.id):
            raise HttpError(403, f"delete vote not permitted: {label} on change {change.number}")
        self.delete_vote(change.number, voter.id, label, by=user.id, when=self.now())
        return Reply(204, b"", "text/plain; charset=UTF-8")

    def _change_json(self, change: Change, options: frozenset[str]) -> Reply:
        return Reply(
            200, PREFIX + change_bytes(self, change, options), "application/json; charset=UTF-8"
        )

    def _reviewer_infos(self, change: Change) -> list[dict]:
        out = []
        for account_id in change.reviewers:
            info = account_info(self.accounts[account_id], True, self.is_service_user(account_id))
            approvals = {}
            for label in LABELS:
                vote = change.current.approvals.get(label, {}).get(account_id)
                approvals[label] = " 0" if vote is None or not vote.value else f"{vote.value:+d}"
            info["approvals"] = approvals
            out.append(info)
        return out

    @staticmethod
    def _json_body(body: bytes, headers: dict[str, str]) -> dict:
        ctype = headers.get("content-type", "")
        if body and not ctype.startswith("application/json"):
            raise HttpError(400, f"Invalid Content-Type: {ctype or '(none)'}; use application/json")
        try:
            data = json.loads(body.decode("utf-8") or "{}")
        except (ValueError, UnicodeDecodeError):
            raise HttpError(400, "Invalid application/json in request") from None
        if not isinstance(data, dict):
            raise HttpError(400, "Invalid application/json in request")
        return data

    def _post_hashtags(
        self, change: Change, body: bytes, headers: dict[str, str], user: Account
    ) -> Reply:
        data = self._json_body(body, headers)
        add, remove = data.get("add"), data.get("remove")
        if add is None and remove is None:
            return json_reply([])  # Gerrit's SetHashtagsOp quirk
        if not user.may_edit_hashtags and user.id != change.owner:
            raise HttpError(403, f"not permitted: edit hashtags on change {change.number}")

        def clean(values: object) -> list[str]:
            if values is None:
                return []
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise HttpError(400, "Invalid application/json in request")
            out = []
            for v in values:
                tag = v.lstrip().lstrip("#").strip()
                if "," in tag:
                    raise HttpError(400, "hashtags may not contain commas")
                if tag:
                    out.append(tag)
            return out

        result = self.set_hashtags(
            change.number, user.id, add=clean(add), remove=clean(remove), when=self.now()
        )
        return json_reply(result)

    def _post_review(
        self, change: Change, revision: str, body: bytes, headers: dict[str, str], user: Account
    ) -> Reply:
        data = self._json_body(body, headers)
        ps = self._revision(change, revision)
        labels = data.get("labels") or {}
        if not isinstance(labels, dict):
            raise HttpError(400, "Invalid application/json in request")
        labels = {k: int(v) for k, v in labels.items() if k in LABELS}
        if labels and change.status != "NEW":
            raise HttpError(409, "change is closed")
        for label, value in labels.items():
            lo, hi = self.voting_range(user.id, label, change.owner)
            if value and not lo <= value <= hi:
                raise HttpError(403, f'Applying label "{label}": {value:+d} is restricted')
        comments = data.get("comments") or {}
        n_comments = sum(len(v) for v in comments.values()) if isinstance(comments, dict) else 0
        message = data.get("message") or ""
        tag = data.get("tag")
        if labels or message or n_comments:
            self.review(
                change.number,
                user.id,
                labels=labels,
                message=message,
                comments=n_comments,
                when=self.now(),
                patch_set=ps,
                tag=tag,
            )
        return json_reply({"labels": labels} if labels else {})

    @staticmethod
    def _revision(change: Change, revision: str) -> int:
        if revision == "current":
            return change.current.number
        if revision.isdigit() and 0 < int(revision) <= len(change.patch_sets):
            return int(revision)
        if len(revision) >= 4:
            for ps in change.patch_sets:
                if ps.sha.startswith(revision):
                    return ps.number
        raise HttpError(404, f"Not found: {revision}")

    # ---- /groups/ and /accounts/ ---------------------------------------------------

    def _group_info(self, name: str) -> dict:
        g = self.groups[name]
        return {
            "id": g.uuid,
            "url": f"#/admin/groups/uuid-{g.uuid}",
            "options": {"visible_to_all": True} if g.visible else {},
            "description": f"{g.name} group",
            "group_id": g.group_id,
            "owner": g.name,
            "owner_id": g.uuid,
            "created_on": ts(g.created_on),
            "name": g.name,
        }

    def _groups(self, rest: str, params: dict[str, list[str]], user: Account | None) -> Reply:
        with self.lock:
            parts = [unquote(p) for p in rest.split("/")]
            if not parts or parts[0] == "":
                return json_reply({g: self._group_info(g) for g in sorted(self.groups)})
            group = self.find_group(parts[0])
            if group is None:
                raise HttpError(404, f"Not found: {parts[0]}")
            sub = "/".join(p for p in parts[1:] if p)
            if sub == "":
                return json_reply(self._group_info(group.name))
            if sub == "members":
                if not group.visible:
                    return json_reply([])  # members of an invisible group read back empty
                recursive = "recursive" in params
                ids = self.group_member_ids(group.name, recursive=recursive)
                members = sorted(
                    (self.accounts[i] for i in ids), key=lambda a: (a.name, a.email, a.id)
                )
                return json_reply(
                    [account_info(a, True, self.is_service_user(a.id)) for a in members]
                )
            if sub == "groups":
                return json_reply([self._group_info(g) for g in group.includes if g in self.groups])
            if sub == "log.audit":
                return self._audit_log(group, user)
            raise HttpError(404, "Not Found")

    def _audit_log(self, group: Group, user: Account | None) -> Reply:
        """GET /groups/{id}/log.audit: GroupAuditEventInfo list, newest first (as Gerrit).
        Gerrit serves it to group owners and administrators only; the sandbox treats every
        caller as an owner unless the group says otherwise (`audit_readable`), then 403."""
        if not group.audit_readable:
            raise HttpError(403, "Not group owner")
        events = sorted(group.audit, key=lambda e: e.date, reverse=True)
        return json_reply([
            {
                "member": account_info(self.accounts[e.member], True,
                                       self.is_service_user(e.member)),
                "type": e.type,
                "user": account_info(self.accounts[e.by if e.by is not None else e.member],
                                     True),
                "date": ts(e.date),
            }
            for e in events
        ])

    def _accounts(self, rest: str, params: dict[str, list[str]], user: Account | None) -> Reply:
        with self.lock:
            ident = unquote(rest.strip("/").split("/")[0]) if rest.strip("/") else ""
            if ident == "":
                return self._account_query(params)
            if ident in ("self", "me"):
                if user is None:
                    raise HttpError(403, "Authentication required")
                account = user
            else:
                try:
                    account = self.account(ident)
                except ValueError:
                    raise HttpError(404, f"Account '{ident}' not found") from None
            return json_reply(account_info(account, True, self.is_service_user(account.id)))

    def _account_query(self, params: dict[str, list[str]]) -> Reply:
        query = (params.get("q") or params.get("query") or [""])[-1].strip()
        detailed = any(o.upper() in ("DETAILS", "ALL_EMAILS") for o in params.get("o", []))
        if not query:
            raise HttpError(400, "missing query field")
        op, _, value = query.partition(":") if ":" in query else ("", "", query)
        value = value.strip('"').lower()
        hits = []
        for a in self.accounts.values():
            fields = {
                "username": a.username.lower(),
                "email": a.email.lower(),
                "name": a.name.lower(),
            }
            if op == "":
                ok = value in (str(a.id),) or any(f.startswith(value) for f in fields.values())
            elif op in fields:
                ok = fields[op].startswith(value)
            elif op == "is" and value == "active":
                ok = True
            else:
                raise HttpError(400, f"Unsupported query: {query}")
            if ok:
                hits.append(a)
        n = self._int_param(params, "n", "limit") or DEFAULT_LIMIT
        start = self._int_param(params, "S", "start") or 0
        page = hits[start : start + n]
        out = [account_info(a, detailed, self.is_service_user(a.id)) for a in page]
        if len(hits) > start + n and out:
            out[-1]["_more_accounts"] = True
        return json_reply(out)
