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
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from reviewbot.clock import utcnow
from reviewbot.config import Config
from reviewbot.rules.facts import read_facts
from reviewbot.store import launchpad_cache as cache
from reviewbot.store import session_scope
from reviewbot.store.snapshots import load_changes
from reviewbot.sync.launchpad_source import (
    BlueprintFacts,
    BugFacts,
    LaunchpadSource,
    LaunchpadUnavailable,
    source_for,
)
from reviewbot.timeline.snapshot import ChangeSnapshot

log = logging.getLogger(__name__)

# After this many lookups in a row fail because Launchpad is unreachable or
# erroring, stop asking this cycle: the rest would fail the same way.
GIVE_UP_AFTER = 3

Ref = tuple[str, str]


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

