"""Trends: per week over the cycle, core queue size, gate latency and core latency, as of T.

- queue size: at each week's end, the open changes waiting on reviewers whose gate lets
  them into the core queues (DESIGN "Core queue" candidates before each core's own
  exclusions), from `queue_at.changes_at` (the timeline at that time);
- gate latency: for the changes created in a week, days from creation to the first
  qualifying non-core Code-Review +1 (timeline.counts_toward_gate, core membership at
  the vote's time);
- core latency: days from creation to the first Code-Review vote by a core reviewer
  (core at the vote's time) who does not own the change.

Latencies are medians over the week's changes that got the vote by T; the ones still
waiting are counted, never guessed. Only facts up to T are read, so a past T reproduces.
The worker stores the present's trends once an hour (`store_trends`) for the pages and
/metrics; a past T is replayed on request.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import median
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from reviewbot.config import Config
from reviewbot.metrics.queue import QUEUE_GATE_STATES
from reviewbot.store import session_scope
from reviewbot.store.snapshots import load_changes
from reviewbot.store.state import get_state, set_state
from reviewbot.timeline.people import Roster
from reviewbot.timeline.roster import load_roster
from reviewbot.timeline.snapshot import ChangeSnapshot
from reviewbot.timeline.state import CODE_REVIEW, counts_toward_gate
from reviewbot.views.queue_at import changes_at


@dataclass(frozen=True, slots=True)
class TrendWeek:
    week_start: date
    queue_size: int  # at the week's end (or at T for the week T falls in)
    created: int  # changes created in the week
    gate_latency_days: float | None  # median, over the week's changes that got one
    gate_waiting: int  # created in the week, no qualifying non-core +1 by T
    core_latency_days: float | None
    core_waiting: int

    def as_json(self) -> dict[str, Any]:
        return {"week_start": self.week_start.isoformat(), "queue_size": self.queue_size,
                "created": self.created, "gate_latency_days": self.gate_latency_days,
                "gate_waiting": self.gate_waiting, "core_latency_days": self.core_latency_days,
                "core_waiting": self.core_waiting}


def week_starts(start: date, end: date, at: datetime) -> list[date]:
    """Weeks counted from the cycle start (as the report's merges per week),
    up to the week T falls in and never past the cycle end."""
    last = min(end, at.date())
    out, day = [], start
    while day <= last:
        out.append(day)
        day += timedelta(days=7)
    return out


def _days(delta: timedelta) -> float:
    return round(delta.total_seconds() / 86400, 2)


def first_gate_plus1(change: ChangeSnapshot, roster: Roster, at: datetime) -> datetime | None:
    """When the change first got a qualifying non-core +1 (any patch set), up to T."""
    uploader = {ps.number: ps.uploader_id for ps in change.patch_sets}
    for e in sorted(change.vote_events, key=lambda e: e.date):
        if e.date > at:
            break
        if e.label != CODE_REVIEW or e.value != 1 or e.removed:
            continue
        if counts_toward_gate(e.account_id, owner=change.owner_id,
                              uploader=uploader.get(e.patch_set), bots=roster.bots,
                              core=roster.is_core(e.account_id, e.date)):
            return e.date
    return None


def first_core_review(change: ChangeSnapshot, roster: Roster, at: datetime) -> datetime | None:
    """When a core reviewer (core then, not the owner) first voted Code-Review, up to T."""
    for e in sorted(change.vote_events, key=lambda e: e.date):
        if e.date > at:
            break
        if (e.label == CODE_REVIEW and e.value != 0 and e.account_id != change.owner_id
                and roster.is_core(e.account_id, e.date)):
            return e.date
    return None


def latency_weeks(changes: Sequence[ChangeSnapshot], roster: Roster, starts: Sequence[date],
                  at: datetime) -> dict[date, tuple[int, list[float], int, list[float], int]]:
    """Per week start: (created, gate latencies, gate waiting, core latencies, core waiting)."""
    out: dict[date, tuple[int, list[float], int, list[float], int]] = {
        s: (0, [], 0, [], 0) for s in starts}
    if not starts:
        return out
    first, horizon = starts[0], starts[-1] + timedelta(days=7)
    for change in changes:
        day = change.created.date()
        if change.created > at or day < first or day >= horizon:
            continue
        week = starts[(day - first).days // 7]
        created, gates, gate_wait, cores, core_wait = out[week]
        opened = first_gate_plus1(change, roster, at)
        reviewed = first_core_review(change, roster, at)
        if opened is not None:
            gates.append(_days(opened - change.created))
        if reviewed is not None:
            cores.append(_days(reviewed - change.created))
        out[week] = (created + 1, gates, gate_wait + (opened is None),
                     cores, core_wait + (reviewed is None))
    return out


def _median(values: list[float]) -> float | None:
    return round(median(values), 2) if values else None


def queue_size_at(session: Session, config: Config, at: datetime) -> int:
    """The open changes waiting on reviewers in the core queues' gate states at T."""
    changes, _roster = changes_at(session, config, at)
    return sum(1 for c in changes if c.open and c.gate_state in QUEUE_GATE_STATES)


def cycle_trends(session: Session, config: Config, at: datetime) -> list[TrendWeek]:
    """One TrendWeek per week of the cycle up to T."""
    starts = week_starts(config.cycle.start, config.cycle.end, at)
    if not starts:
        return []
    roster = load_roster(session, config)
    changes = load_changes(session, projects=config.gerrit.projects,
                           branches=config.gerrit.branches, history=True, content=False,
                           history_labels=(CODE_REVIEW,))
    latencies = latency_weeks(changes, roster, starts, at)
    out = []
    for start in starts:
        end = datetime.combine(start + timedelta(days=7), time())
        sample = min(end, at)
        created, gates, gate_wait, cores, core_wait = latencies[start]
        out.append(TrendWeek(start, queue_size_at(session, config, sample), created,
                             _median(gates), gate_wait, _median(cores), core_wait))
    return out


# --- the worker's copy of the present's trends -----------------------------------------------

TRENDS_KEY = "trends.present"


def trend_hour(at: datetime) -> datetime:
    """The present's trends are as of the current hour's start: one replay per hour."""
    return at.replace(minute=0, second=0, microsecond=0)


def _week_from_json(data: dict[str, Any]) -> TrendWeek:
    return TrendWeek(date.fromisoformat(data["week_start"]), data["queue_size"],
                     data["created"], data["gate_latency_days"], data["gate_waiting"],
                     data["core_latency_days"], data["core_waiting"])


def stored_trends(session: Session, key: str = TRENDS_KEY
                  ) -> tuple[datetime, list[TrendWeek]] | None:
    """The trends the worker stored last (as of, weeks), or None before the first.
    `key`: a team's (`config.state_key(TRENDS_KEY)`) in a deployment of several."""
    raw = get_state(session, key)
    if not raw:
        return None
    data = json.loads(raw)
    return (datetime.fromisoformat(data["as_of"]),
            [_week_from_json(w) for w in data["weeks"]])


def store_trends(engine: Engine, config: Config, now: datetime) -> dict[str, Any]:
    """Pipeline step: replay the cycle's trends as of this hour, once an hour (replaying
    every week's queue costs seconds on a big store; pages and /metrics read the copy)."""
    at = trend_hour(now)
    with session_scope(engine) as session:
        key = config.state_key(TRENDS_KEY)
        held = stored_trends(session, key)
        if held is not None and held[0] == at:
            return {"weeks": len(held[1]), "computed": 0}
        weeks = cycle_trends(session, config, at)
        set_state(session, key, json.dumps(
            {"as_of": at.isoformat(), "weeks": [w.as_json() for w in weeks]}))
    return {"weeks": len(weeks), "computed": 1}
