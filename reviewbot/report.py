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

from reviewbot.clock import day_start
from reviewbot.config import Config
from reviewbot.core_effort import CoreEffort, Distribution, distribution, measure_core_effort
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


def _days(delta: timedelta) -> float:
    return delta / _DAY


def _last_update(c: ChangeSnapshot, as_of: datetime) -> datetime:
    """The change's latest activity at or before T (uploads, votes, closing)."""
    if c.updated <= as_of:
        return c.updated
    # History known to the snapshot: patch sets, vote events, closing. Comment-only
    # messages are not loaded for the report, so they do not count as activity here.
    latest = c.created
    for ps in c.patch_sets:
        if latest < ps.created <= as_of:
            latest = ps.created
    for e in c.vote_events:
        if latest < e.date <= as_of:
            latest = e.date
    for t in (c.submitted, c.closed_at):
        if t is not None and latest < t <= as_of:
            latest = t
    return latest


def closed_time(c: ChangeSnapshot) -> datetime | None:
    """When the change was merged or abandoned (None while open)."""
    if c.status == "MERGED":
        return c.submitted or c.closed_at or c.updated
    if c.status == "ABANDONED":
        return c.closed_at or c.updated
    return None


def _current_patch_set(c: ChangeSnapshot, as_of: datetime, live: bool) -> tuple[int, datetime]:
    if live or not c.patch_sets:
        ps = c.current
        return c.current_patch_set, (ps.created if ps else c.created)
    best = None
    for ps in c.patch_sets:
        if ps.created <= as_of and (best is None or ps.number > best.number):
            best = ps
    if best is None:  # uploaded before T by definition of created; be lenient with bad data
        return c.patch_sets[0].number, c.patch_sets[0].created
    return best.number, best.created


def _votes_on(c: ChangeSnapshot, patch_set: int, as_of: datetime, live: bool) -> list[tuple]:
    """(label, value) of the non-zero votes on the patch set as of T.

    Live (nothing happened to the change after T): Gerrit's `labels`, which include
    votes copied forward. Otherwise history: each voter's latest event per label.
    """
    if live:
        return [(v.label, v.value) for v in c.current_votes if v.value]
    latest: dict[tuple[int, str], tuple[datetime, int]] = {}
    for e in c.vote_events:
        if e.patch_set != patch_set or e.date > as_of:
            continue
        key = (e.account_id, e.label)
        prev = latest.get(key)
        if prev is None or e.date >= prev[0]:
            latest[key] = (e.date, 0 if e.removed else e.value)
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
    c: ChangeSnapshot, roster: Roster, cls: ChangeClass, as_of: datetime, stale_days: int
) -> ChangeRow:
    """The change as it stood at T."""
    live = c.updated <= as_of
    closed = closed_time(c)
    if closed is not None and closed <= as_of:
        status = "merged" if c.status == "MERGED" else "abandoned"
    else:
        status, closed = "open", None
    ps_number, ps_created = _current_patch_set(c, as_of, live)
    last = _last_update(c, as_of)
    state = wait = age = None
    stale = False
    if status == "open":
        state = change_state(_votes_on(c, ps_number, as_of, live))
        wait = _days(as_of - ps_created)
        age = _days(as_of - c.created)
        stale = as_of - last >= timedelta(days=stale_days)
    return ChangeRow(
        number=c.number, project=c.project, branch=c.branch, subject=c.subject,
        owner=roster.username(c.owner_id), priorities=cls.priorities, status=status,
        state=state, wip=c.wip, patch_set=ps_number, patch_set_created=ps_created,
        created=c.created, last_update=last, closed=closed, wait_days=wait, age_days=age,
        stale=stale,
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
    cycle_start = day_start(config.cycle.start)
    projects, branches = set(config.gerrit.projects), set(config.gerrit.branches)
    stale_days = config.report.stale_days
    known = {p.id for p in config.priorities}
    empty = ChangeClass()

    in_scope: list[ChangeSnapshot] = []
    rows: list[ChangeRow] = []
    by_priority: dict[str, list[ChangeRow]] = {p.id: [] for p in config.priorities}
    other_rows: list[ChangeRow] = []
    for c in changes:
        if c.project not in projects or c.branch not in branches or c.created > as_of:
            continue
        in_scope.append(c)
        if _last_update(c, as_of) < cycle_start:
            continue  # not touched during the cycle (as of T)
        cls = classes.get(c.number, empty)
        cls = ChangeClass(tuple(p for p in cls.priorities if p in known), cls.exempt)
        row = change_row(c, roster, cls, as_of, stale_days)
        rows.append(row)
        for pid in row.priorities:
            by_priority[pid].append(row)
        if not row.priorities:
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
    effort = measure_core_effort(in_scope, roster, classes, config, as_of)
    rows.sort(key=lambda r: r.number)
    return Report(
        cycle=config.cycle.name, cycle_start=config.cycle.start, cycle_end=config.cycle.end,
        feature_freeze=config.cycle.feature_freeze, milestones=dict(config.cycle.milestones),
        as_of=as_of, stale_days=stale_days, priorities=reports, other=other, effort=effort,
        rows=rows, notes=notes,
    )
