"""Launchpad enrichment: the launchpadlib side, one Launchpad object per process and the
lookups of a blueprint's and a bug's facts (what the enrichment step caches)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypedDict

from reviewbot.config import Config

# Launchpad asks automated clients to identify themselves in the consumer key.
CONSUMER_NAME = "reviewbot (Gerrit review-priority bot)"
API_VERSION = "devel"  # 1.0 exports no blueprint fields and no getSpecification
# lazr.restfulclient retries a 502/503 six times with up to 31 s of sleep; one
# immediate retry is enough for a blip, and the cycle deadline handles the rest.
MAX_RETRIES = 1


class BlueprintFacts(TypedDict):
    """What is cached of a blueprint (reviewbot.rules.launchpad_matchers reads it)."""

    priority: str
    definition_status: str
    implementation_status: str
    milestone: str | None
    series: str | None  # the milestone's series ("ocata")
    title: str


class BugFacts(TypedDict):
    """What is cached of a bug; importance, status and target are its task's in the team's
    project (see LaunchpadSource._pick_task)."""

    importance: str  # "" when no task is the project's (target None)
    status: str
    tags: list[str]
    title: str
    target: str | None


class LaunchpadUnavailable(Exception):
    """Launchpad did not answer usefully (5xx, timeout, connection refused)."""


# launchpadlib ships no types (and no stubs package): its entries (a blueprint, a bug, its
# tasks, the Launchpad root) are Any here, read attribute by attribute into the facts.
class LaunchpadSource:
    """One launchpadlib `Launchpad` object (created on first use) and the lookups we need.

    launchpadlib's cache is not thread-safe, so calls are serialised.
    """

    def __init__(
        self, service_root: str, project: str, cache_dir: str | Path, timeout: float,
        also: tuple[str, ...] = (),
    ) -> None:
        self.service_root = service_root
        self.project = project
        # The team's Launchpad projects, its own first (`[[team]] launchpad_projects`):
        # blueprints are looked up in each in turn, a bug's task is the first one's it has.
        self.projects = tuple(p for p in dict.fromkeys((project, *also)) if p)
        self.cache_dir = Path(cache_dir)
        self.timeout = timeout
        self._lp: Any = None
        self._lock = threading.Lock()
        self._milestones: dict[str, tuple[str | None, str | None]] = {}

    def _launchpad(self) -> Any:
        if self._lp is None:
            from launchpadlib.launchpad import Launchpad

            self.cache_dir.mkdir(parents=True, exist_ok=True)
            lp = Launchpad.login_anonymously(
                CONSUMER_NAME,
                self.service_root,
                launchpadlib_dir=str(self.cache_dir),
                timeout=self.timeout,
                proxy_info=None,
                version=API_VERSION,
            )
            lp._browser.max_retries = MAX_RETRIES  # not exposed by login_anonymously
            self._lp = lp
        return self._lp

    def begin_run(self) -> None:
        """Forget per-run memos (milestone -> series) so a retargeted milestone is seen."""
        self._milestones.clear()

    def blueprint(self, name: str) -> BlueprintFacts | None:
        """Facts of blueprint `name` of the configured project, or None if it does not exist."""
        if not self.project:
            raise ValueError("launchpad.project is not set; blueprints cannot be looked up")
        with self._lock, _translated_errors():
            lp = self._launchpad()
            spec = None
            for project in self.projects:
                spec = lp.projects(project).getSpecification(name=name)
                if spec is not None:
                    break
            if spec is None:
                return None
            milestone, series = self._milestone(spec)
            return {
                "priority": str(spec.priority),
                "definition_status": str(spec.definition_status),
                "implementation_status": str(spec.implementation_status),
                "milestone": milestone,
                "series": series,
                "title": str(spec.title),
            }

    def _milestone(self, spec: Any) -> tuple[str | None, str | None]:
        link = spec.milestone_link
        if not link:
            return None, None
        if link not in self._milestones:
            milestone = spec.milestone  # each attribute access is a new lazy entry: bind once
            series = milestone.series_target
            self._milestones[link] = (
                str(milestone.name),
                str(series.name) if series is not None else None,
            )
        return self._milestones[link]

    def bug(self, number: int) -> BugFacts | None:
        """Facts of bug `number` (task of the configured project), or None if it does not exist."""
        with self._lock, _translated_errors():
            lp = self._launchpad()
            try:
                bug = lp.bugs[number]
            except KeyError:
                return None
            task = self._pick_task(list(bug.bug_tasks))
            return {
                "importance": str(task.importance) if task is not None else "",
                "status": str(task.status) if task is not None else "",
                "tags": [str(t) for t in (bug.tags or [])],
                "title": str(bug.title),
                "target": str(task.bug_target_name) if task is not None else None,
            }

    def _pick_task(self, tasks: list[Any]) -> Any:
        """The project's own task; else a task of one of its series ("glance/ocata").

        Importance and status live on tasks, and a bug often has tasks in several
        projects, so the first task is not necessarily ours.
        """
        if not self.project:
            return tasks[0] if tasks else None
        for project in (p.lower() for p in self.projects):
            for task in tasks:
                if str(task.bug_target_name).lower() == project:
                    return task
            for task in tasks:
                if str(task.bug_target_name).lower().startswith(project + "/"):
                    return task
        return None


@contextmanager
def _translated_errors() -> Iterator[None]:
    """Turn transport and 5xx failures into LaunchpadUnavailable; let the rest through
    (never swallowed, so a lookup inside the `with` always returns or raises)."""
    try:
        yield
    except LaunchpadUnavailable:
        raise
    except Exception as exc:
        unavailable = describe_unavailable(exc)
        if unavailable is not None:
            raise LaunchpadUnavailable(unavailable) from exc
        raise


def describe_unavailable(exc: BaseException) -> str | None:
    """A short reason when `exc` means "Launchpad is down or slow", else None."""
    from httplib2 import HttpLib2Error
    from lazr.restfulclient.errors import HTTPError

    if isinstance(exc, HTTPError):
        status = getattr(exc.response, "status", None)
        if status is not None and (status >= 500 or status == 429):
            return f"HTTP {status} from Launchpad"
        return None
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "Launchpad timed out"
    if isinstance(exc, (OSError, HttpLib2Error)):
        return f"cannot reach Launchpad ({type(exc).__name__}: {exc})"
    return None


_SOURCES: dict[tuple[str, str, str, float, tuple[str, ...]], LaunchpadSource] = {}
_SOURCES_LOCK = threading.Lock()


def source_for(config: Config) -> LaunchpadSource:
    """The process-wide LaunchpadSource for this config (one Launchpad object per process)."""
    lp = config.launchpad
    cache_dir = str(Path(config.data_dir) / "launchpadlib")
    also = tuple(config.launchpad_projects[1:])
    key = (lp.service_root, lp.project, cache_dir, lp.timeout, also)
    with _SOURCES_LOCK:
        if key not in _SOURCES:
            _SOURCES[key] = LaunchpadSource(lp.service_root, lp.project, cache_dir, lp.timeout,
                                            also)
        return _SOURCES[key]
