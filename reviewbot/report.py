"""Report: the PTL's cycle report as of T — per-priority progress, waits, stale changes.

Pure: snapshots + roster + per-change classes (priority matches, gate exemption)
+ config + as_of -> Report. The cycle-wide core-review figures come from
`reviewbot.core_effort`. DESIGN "PTL report" and "Change state" are the contract:
a change is in scope if created on or before T and updated (as of T) on or after
the cycle start; it counts as merged/abandoned only if that happened on or before T.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from reviewbot.clock import day_start
from reviewbot.config import Config
from reviewbot.core_effort import (
    CoreEffort,
    Distribution,
    ReviewEvent,
    code_review_events,
    core_effort_from_events,
    distribution,
)
from reviewbot.people import Roster
from reviewbot.snapshot import ChangeSnapshot

STATES = ("waiting_on_reviewers", "waiting_on_author", "blocked", "approved")
STATE_LABELS = {
    "waiting_on_reviewers": "waiting on reviewers",
    "waiting_on_author": "waiting on author",
    "blocked": "blocked",
    "approved": "approved",
}
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ChangeClass:
    """What the rules decided about a change: the priorities it matches, gate exemption."""

    priorities: tuple[str, ...] = ()
    exempt: bool = False


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """One change as of T: the per-change row of the CSV export and the stuck lists."""

    number: int
    project: str
    branch: str
    subject: str
    owner: str
    priorities: tuple[str, ...]
    status: str  # open | merged | abandoned (as of T)
    state: str | None  # one of STATES for open changes, else None
    wip: bool
    patch_set: int
    patch_set_created: datetime
    created: datetime
    last_update: datetime
    closed: datetime | None
    wait_days: float | None  # since the current patch set (open changes)
    age_days: float | None  # since creation (open changes)
    stale: bool


@dataclass(frozen=True, slots=True)
class WeekCount:
    week_start: date
    merged: int


@dataclass(frozen=True, slots=True)
class BurnupPoint:
    day: date
    total: int
    merged: int


@dataclass
class PriorityReport:
    id: str
    title: str
    rank: int
    owners: tuple[str, ...]
    spec: str | None
    open: int = 0
    merged: int = 0
    abandoned: int = 0
    states: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATES, 0))
    wait_since_patch_set: Distribution = Distribution(0, None, None)
    age: Distribution = Distribution(0, None, None)
    merges_per_week: list[WeekCount] = field(default_factory=list)
    burnup: list[BurnupPoint] = field(default_factory=list)
    stale: list[ChangeRow] = field(default_factory=list)
    changes: list[ChangeRow] = field(default_factory=list)


@dataclass
class Report:
    cycle: str
    cycle_start: date
    cycle_end: date
    feature_freeze: date | None
    milestones: dict[str, date]
    as_of: datetime
    stale_days: int
    priorities: list[PriorityReport]
    other: PriorityReport  # changes matching no priority, same counts
    effort: CoreEffort
    rows: list[ChangeRow]
    notes: list[str]


class ChangeFacts(NamedTuple):
    """What the report reads of one change, from a snapshot or straight from the store."""

    number: int
    project: str
    branch: str
    subject: str
    status: str
    wip: bool
    owner_id: int
    created: datetime
    updated: datetime
    current_patch_set: int
    submitted: datetime | None
    closed_at: datetime | None
    patch_sets: tuple[tuple[int, datetime, int | None], ...]  # (number, created, uploader)
    current_votes: tuple[tuple[str, int], ...]  # (label, value) from Gerrit's labels
    # (patch set, account, label, value, date, removed) in vote order, up to T. Only read
    # for changes updated after T (the others are answered by their labels).
    history: tuple[tuple[int, int, str, int, datetime, bool], ...]


def facts_of(c: ChangeSnapshot, as_of: datetime) -> ChangeFacts:
    return ChangeFacts(
        c.number, c.project, c.branch, c.subject, c.status, c.wip, c.owner_id, c.created,
        c.updated, c.current_patch_set, c.submitted, c.closed_at,
        tuple((p.number, p.created, p.uploader_id) for p in c.patch_sets),
        tuple((v.label, v.value) for v in c.current_votes),
        tuple((e.patch_set, e.account_id, e.label, e.value, e.date, e.removed)
              for e in c.vote_events if e.date <= as_of) if c.updated > as_of else (),
    )


def _days(delta: timedelta) -> float:
    return delta / _DAY


def _last_update(c: ChangeFacts, as_of: datetime) -> datetime:
    """The change's latest activity at or before T (uploads, votes, closing)."""
    if c.updated <= as_of:
        return c.updated
    # History known to the facts: patch sets, vote events, closing. Comment-only
    # messages are not loaded for the report, so they do not count as activity here.
    latest = c.created
    for _, created, _ in c.patch_sets:
        if latest < created <= as_of:
            latest = created
    for e in c.history:
        if latest < e[4] <= as_of:
            latest = e[4]
    for t in (c.submitted, c.closed_at):
        if t is not None and latest < t <= as_of:
            latest = t
    return latest


def closed_time(c: ChangeSnapshot | ChangeFacts) -> datetime | None:
    """When the change was merged or abandoned (None while open)."""
    if c.status == "MERGED":
        return c.submitted or c.closed_at or c.updated
    if c.status == "ABANDONED":
        return c.closed_at or c.updated
    return None


def _current_patch_set(c: ChangeFacts, as_of: datetime, live: bool) -> tuple[int, datetime]:
    if live or not c.patch_sets:
        created = c.created
        for number, uploaded, _ in c.patch_sets:
            if number == c.current_patch_set:
                created = uploaded
                break
        return c.current_patch_set, created
    best = None
    for ps in c.patch_sets:
        if ps[1] <= as_of and (best is None or ps[0] > best[0]):
            best = ps
    if best is None:  # uploaded before T by definition of created; be lenient with bad data
        return c.patch_sets[0][0], c.patch_sets[0][1]
    return best[0], best[1]


def _votes_on(c: ChangeFacts, patch_set: int, as_of: datetime, live: bool) -> list[tuple]:
    """(label, value) of the non-zero votes on the patch set as of T.

    Live (nothing happened to the change after T): Gerrit's `labels`, which include
    votes copied forward. Otherwise history: each voter's latest event per label.
    """
    if live:
        return [(label, value) for label, value in c.current_votes if value]
    latest: dict[tuple[int, str], tuple[datetime, int]] = {}
    for ps, account, label, value, when, removed in c.history:
        if ps != patch_set or when > as_of:
            continue
        key = (account, label)
        prev = latest.get(key)
        if prev is None or when >= prev[0]:
            latest[key] = (when, 0 if removed else value)
    return [(label, value) for (_, label), (_, value) in latest.items() if value]


def change_state(votes: Sequence[tuple[str, int]]) -> str:
    """DESIGN: the first that holds of approved, blocked, waiting on author, else reviewers."""
    if any(label == "Workflow" and value > 0 for label, value in votes):
        return "approved"
    if any(
        (label == "Code-Review" and value <= -2) or (label == "Workflow" and value < 0)
        for label, value in votes
    ):
        return "blocked"
    if any(label in ("Code-Review", "Verified") and value < 0 for label, value in votes):
        return "waiting_on_author"
    return "waiting_on_reviewers"


def change_row(
    c: ChangeFacts, owner: str, priorities: tuple[str, ...], as_of: datetime, stale_days: int,
    last: datetime | None = None,
) -> ChangeRow:
    """The change as it stood at T (`last`: its last update as of T, when known)."""
    live = c.updated <= as_of
    closed = closed_time(c)
    if closed is not None and closed <= as_of:
        status = "merged" if c.status == "MERGED" else "abandoned"
    else:
        status, closed = "open", None
    ps_number, ps_created = _current_patch_set(c, as_of, live)
    if last is None:
        last = _last_update(c, as_of)
    state = wait = age = None
    stale = False
    if status == "open":
        state = change_state(_votes_on(c, ps_number, as_of, live))
        wait = _days(as_of - ps_created)
        age = _days(as_of - c.created)
        stale = as_of - last >= timedelta(days=stale_days)
    # Positional, in field order: built once per change of the cycle.
    return ChangeRow(
        c.number, c.project, c.branch, c.subject, owner, priorities, status, state, c.wip,
        ps_number, ps_created, c.created, last, closed, wait, age, stale,
    )


def _weeks(start: date, until: date) -> list[date]:
    """Week starts from the cycle start (weeks run start, start+7d, ...) up to `until`."""
    weeks, day = [], start
    while day <= until:
        weeks.append(day)
        day += timedelta(days=7)
    return weeks


def _fill(p: PriorityReport, rows: list[ChangeRow], config: Config, as_of: datetime) -> None:
    start = config.cycle.start
    last_day = min(config.cycle.end, as_of.date())
    weeks = _weeks(start, last_day)
    merges = [0] * len(weeks)
    waits, ages = [], []
    for r in rows:
        if r.status == "merged":
            p.merged += 1
            if r.closed is not None and r.closed.date() >= start:
                index = (r.closed.date() - start).days // 7
                if index < len(merges):
                    merges[index] += 1
        elif r.status == "abandoned":
            p.abandoned += 1
        else:
            p.open += 1
            p.states[r.state] += 1
            waits.append(r.wait_days)
            ages.append(r.age_days)
            if r.stale:
                p.stale.append(r)
    p.changes = sorted(rows, key=lambda r: r.number)
    p.stale.sort(key=lambda r: (r.last_update, r.number))
    p.wait_since_patch_set = distribution(waits)
    p.age = distribution(ages)
    p.merges_per_week = [WeekCount(w, n) for w, n in zip(weeks, merges, strict=True)]
    p.burnup = _burnup(rows, start, last_day)


def _burnup(rows: list[ChangeRow], start: date, last_day: date) -> list[BurnupPoint]:
    """Daily totals at the end of each day: changes created so far vs merged so far."""
    if last_day < start:
        return []
    n_days = (last_day - start).days + 1
    created = [0] * n_days
    merged = [0] * n_days
    for r in rows:
        created[max(0, (r.created.date() - start).days)] += 1
        if r.status == "merged" and r.closed is not None:
            index = (r.closed.date() - start).days
            if index < n_days:
                merged[max(0, index)] += 1
    points, total, done = [], 0, 0
    for i in range(n_days):
        total += created[i]
        done += merged[i]
        points.append(BurnupPoint(start + timedelta(days=i), total, done))
    return points


def build_report(
    changes: Sequence[ChangeSnapshot],
    roster: Roster,
    classes: Mapping[int, ChangeClass],
    config: Config,
    as_of: datetime,
) -> Report:
    """The PTL report as of T over the configured projects and branches."""
    return report_from_facts(
        [facts_of(c, as_of) for c in changes], code_review_events(changes, as_of), roster,
        classes, config, as_of,
    )


def report_from_facts(
    changes: Sequence[ChangeFacts],
    review_events: Sequence[ReviewEvent],
    roster: Roster,
    classes: Mapping[int, ChangeClass],
    config: Config,
    as_of: datetime,
) -> Report:
    """`build_report` over plain facts: `review_events` are the Code-Review events up to T,
    grouped by change and patch set, in vote order (`core_effort_from_events`)."""
    cycle_start = day_start(config.cycle.start)
    projects, branches = set(config.gerrit.projects), set(config.gerrit.branches)
    stale_days = config.report.stale_days
    known = {p.id for p in config.priorities}
    username = roster.username

    in_scope: list[tuple[int, int, tuple]] = []
    rows: list[ChangeRow] = []
    by_priority: dict[str, list[ChangeRow]] = {p.id: [] for p in config.priorities}
    other_rows: list[ChangeRow] = []
    for c in changes:
        if c.project not in projects or c.branch not in branches or c.created > as_of:
            continue
        in_scope.append((c.number, c.owner_id, c.patch_sets))
        last = _last_update(c, as_of)
        if last < cycle_start:
            continue  # not touched during the cycle (as of T)
        cls = classes.get(c.number)
        priorities = tuple(p for p in cls.priorities if p in known) if cls else ()
        row = change_row(c, username(c.owner_id), priorities, as_of, stale_days, last)
        rows.append(row)
        for pid in priorities:
            by_priority[pid].append(row)
        if not priorities:
            other_rows.append(row)

    reports = []
    for p in sorted(config.priorities, key=lambda p: (p.rank, p.id)):
        pr = PriorityReport(p.id, p.title, p.rank, tuple(p.owners), p.spec)
        _fill(pr, by_priority[p.id], config, as_of)
        reports.append(pr)
    other = PriorityReport("other", "Not a cycle priority", 0, (), None)
    _fill(other, other_rows, config, as_of)

    notes = []
    if not roster.core_known:
        notes.append(
            "Core group membership is unknown (Gerrit returned no members); core figures "
            "count only users listed in [[core_history]]."
        )
    if as_of < cycle_start:
        notes.append("The as-of date is before the cycle start: nothing to report yet.")
    effort = core_effort_from_events(in_scope, review_events, roster, classes, config, as_of)
    rows.sort(key=lambda r: r.number)
    return Report(
        cycle=config.cycle.name, cycle_start=config.cycle.start, cycle_end=config.cycle.end,
        feature_freeze=config.cycle.feature_freeze, milestones=dict(config.cycle.milestones),
        as_of=as_of, stale_days=stale_days, priorities=reports, other=other, effort=effort,
        rows=rows, notes=notes,
    )
