"""Launchpad enrichment: fetch the blueprints and bugs changes cite, cache their facts in the store.

Data flow: store (changes) -> references -> launchpadlib (devel API) -> store
(LaunchpadRecord). Rules never call Launchpad; they read the cached facts from
`ChangeSnapshot.launchpad[(kind, key)]`:

- ("blueprint", name-lowercase) -> {"priority", "definition_status",
  "implementation_status", "milestone": str|None, "series": str|None, "title"}
- ("bug", "N") -> {"importance", "status", "tags": [str], "title", "target"}
  where importance and status come from the bug task of `launchpad.project`
  ("" when the bug has no task there).

Each id is looked up at most once per `cache_ttl` however many changes cite it.
Launchpad being down or slow never fails the cycle: lookups stop at
`deadline_seconds`, failures keep the last good facts, and the reason is stored
under SyncState `launchpad_stale` for the dashboard.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypedDict

from sqlalchemy.engine import Engine

from reviewbot.clock import utcnow
from reviewbot.config import Config
from reviewbot.rules.facts import read_facts
from reviewbot.store import launchpad_cache as cache
from reviewbot.store import session_scope
from reviewbot.store.snapshots import load_changes
from reviewbot.timeline.snapshot import ChangeSnapshot

log = logging.getLogger(__name__)

# Launchpad asks automated clients to identify themselves in the consumer key.
CONSUMER_NAME = "reviewbot (Gerrit review-priority bot)"
API_VERSION = "devel"  # 1.0 exports no blueprint fields and no getSpecification
# lazr.restfulclient retries a 502/503 six times with up to 31 s of sleep; one
# immediate retry is enough for a blip, and the cycle deadline handles the rest.
MAX_RETRIES = 1
# After this many lookups in a row fail because Launchpad is unreachable or
# erroring, stop asking this cycle: the rest would fail the same way.
GIVE_UP_AFTER = 3

Ref = tuple[str, str]


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


# -- which ids changes cite ---------------------------------------------------


def references(change: ChangeSnapshot) -> list[Ref]:
    """("blueprint", name) and ("bug", "N") cited by footers and topic, as the rules see them."""
    facts = read_facts(change, None, frozenset())
    refs: list[Ref] = [("blueprint", name) for name in facts.blueprints]
    refs += [("bug", str(number)) for number in facts.bugs]
    return refs


def wanted_references(changes: Iterable[ChangeSnapshot], since: datetime) -> list[Ref]:
    """Distinct refs, those of open changes first (they matter most if the deadline cuts in).

    Closed changes updated since `since` (the cycle start) count too: the PTL
    report matches merged and abandoned changes against priorities.
    """
    first: dict[Ref, None] = {}
    later: dict[Ref, None] = {}
    for change in changes:
        if change.status == "NEW":
            first.update(dict.fromkeys(references(change)))
        elif change.updated >= since:
            later.update(dict.fromkeys(references(change)))
    return list(first) + [r for r in later if r not in first]


# -- the launchpadlib side ----------------------------------------------------


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


# -- the enrichment step ------------------------------------------------------


@dataclass
class EnrichSummary:
    referenced: int = 0  # distinct bugs/blueprints cited by the changes considered
    cache_hits: int = 0  # fresh in the store: not asked again
    looked_up: int = 0  # asked of Launchpad this run (found + missing + errors)
    found: int = 0
    missing: int = 0  # Launchpad says there is no such bug/blueprint
    errors: int = 0
    skipped: int = 0  # due but not asked (deadline reached or Launchpad gave up)
    stale: bool = False
    reason: str | None = None
    seconds: float = 0.0
    enabled: bool = True


def enrich(
    engine: Engine,
    config: Config,
    *,
    now: datetime | None = None,
    launchpad: LaunchpadSource | None = None,
) -> EnrichSummary:
    """Refresh the Launchpad facts the configured changes cite; never raises for Launchpad."""
    started = time.monotonic()
    if not config.launchpad.enabled:
        return EnrichSummary(enabled=False)
    now = now or utcnow()
    refs, due = _due_references(engine, config, now)
    summary = EnrichSummary(referenced=len(refs), cache_hits=len(refs) - len(due))
    source = launchpad or source_for(config)
    source.begin_run()
    outcomes, problems = _look_up_due(source, due, summary, started,
                                      config.launchpad.deadline_seconds)
    summary.reason = _staleness(summary, outcomes, problems, now)
    summary.stale = summary.reason is not None
    with session_scope(engine) as session:
        for ref, data, error in outcomes:
            if error is None:
                cache.record_lookup(session, ref, None if data is None else dict(data), now)
            else:
                cache.record_failure(session, ref, error, now)
        cache.set_staleness(session, summary.reason, now)
    summary.seconds = round(time.monotonic() - started, 3)
    log.info(
        "launchpad: %d cited, %d cache hits, %d looked up (%d missing, %d errors), %d skipped",
        summary.referenced, summary.cache_hits, summary.looked_up, summary.missing,
        summary.errors, summary.skipped,
    )
    return summary


# One lookup's outcome: the facts (None: no such record), or the error that kept them.
Outcome = tuple[Ref, BlueprintFacts | BugFacts | None, str | None]


def _due_references(engine: Engine, config: Config, now: datetime
                    ) -> tuple[list[Ref], list[Ref]]:
    """Every ref the configured changes cite, and those due a lookup (not fresh in the
    store), never-seen ones first."""
    since = datetime.combine(config.cycle.start, datetime.min.time())
    with session_scope(engine) as session:
        changes = load_changes(
            session, projects=config.gerrit.projects, branches=config.gerrit.branches,
            history=False,
        )
        refs = wanted_references(changes, since)
        records = cache.load_records(session, refs)
    ttl = config.launchpad.cache_ttl
    due = [r for r in refs if not cache.is_fresh(records.get(r), now, ttl)]
    # Never-seen ids before expired ones: an expired record still has usable facts.
    due.sort(key=lambda r: r in records)
    return refs, due


def _look_up_due(source: LaunchpadSource, due: list[Ref], summary: EnrichSummary,
                 started: float, deadline_seconds: float
                 ) -> tuple[list[Outcome], list[str]]:
    """Ask Launchpad for each due ref until `deadline_seconds` after `started` (monotonic)
    or GIVE_UP_AFTER failures in a row, counting into `summary`. Returns the outcomes and
    why lookups were left out."""
    deadline = started + deadline_seconds
    outcomes: list[Outcome] = []
    problems: list[str] = []
    failures_in_a_row = 0
    for index, ref in enumerate(due):
        if time.monotonic() >= deadline:
            summary.skipped = len(due) - index
            problems.append(
                f"{summary.skipped} lookups not attempted: the {deadline_seconds:g} s "
                "deadline was reached"
            )
            break
        if failures_in_a_row >= GIVE_UP_AFTER:
            summary.skipped = len(due) - index
            problems.append(f"{summary.skipped} lookups not attempted: Launchpad kept failing")
            break
        summary.looked_up += 1
        try:
            data = _look_up(source, ref)
        except LaunchpadUnavailable as exc:
            failures_in_a_row += 1
            summary.errors += 1
            outcomes.append((ref, None, str(exc)))
            log.warning("Launchpad lookup of %s %s failed: %s", ref[0], ref[1], exc)
            continue
        except Exception as exc:  # one odd record must not stop the cycle
            failures_in_a_row = 0
            summary.errors += 1
            message = f"{type(exc).__name__}: {exc}"
            outcomes.append((ref, None, message))
            log.warning("Launchpad lookup of %s %s failed: %s", ref[0], ref[1], message)
            continue
        failures_in_a_row = 0
        if data is None:
            summary.missing += 1
        else:
            summary.found += 1
        outcomes.append((ref, data, None))
    return outcomes, problems


def _staleness(summary: EnrichSummary, outcomes: list[Outcome], problems: list[str],
               now: datetime) -> str | None:
    """Why the cached facts may be out of date (failed or skipped lookups), else None."""
    if summary.errors:
        first_error = next(err for _, _, err in outcomes if err)
        problems = [f"{summary.errors} of {summary.looked_up} lookups failed ({first_error})",
                    *problems]
    if not problems:
        return None
    return (
        f"Launchpad data may be out of date (checked {now:%Y-%m-%d %H:%M} UTC): "
        + "; ".join(problems)
        + ". Launchpad matchers use the last facts fetched, where there are any."
    )


def _look_up(source: LaunchpadSource, ref: Ref) -> BlueprintFacts | BugFacts | None:
    kind, key = ref
    if kind == "blueprint":
        return source.blueprint(key)
    if kind == "bug":
        return source.bug(int(key))
    raise ValueError(f"unknown Launchpad record kind {kind!r}")

