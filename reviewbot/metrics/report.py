"""Report: the PTL's cycle report as of T — per-priority progress, waits, stale changes.

Pure: snapshots + roster + per-change classes (priority matches, gate exemption)
+ config + as_of -> Report. The cycle-wide core-review figures come from
`reviewbot.metrics.core_effort`. DESIGN "PTL report" and "Change state" are the contract:
a change is in scope if created on or before T and updated (as of T) on or after
the cycle start; it counts as merged/abandoned only if that happened on or before T.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from reviewbot.clock import day_start
from reviewbot.config import Config, branch_policy_for
from reviewbot.metrics.core_effort import (
    CoreEffort,
    Distribution,
    code_review_events,
    core_effort_from_events,
    distribution,
)
from reviewbot.timeline.people import Roster
from reviewbot.timeline.snapshot import (
    ChangeClass,
    ChangeSnapshot,
    PatchSetInfo,
    ReportFacts,
    ReviewEvent,
    VoteRow,
)
from reviewbot.timeline.state import (
    REVIEW_STATE_LABELS,
    closed_time,
    current_patch_set_at,
    is_human_message,
    last_human_activity,
    latest_votes,
    live_at,
    review_state,
    status_at,
)

# Open changes by review state, in the order the report lists them.
STATES = ("waiting_on_reviewers", "waiting_on_author", "blocked", "approved")
STATE_LABELS = REVIEW_STATE_LABELS
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ReportChange:
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
    last_update: datetime  # any activity up to T (bot hashtag writes included)
    last_activity: datetime  # human activity up to T: what "stale" is measured from
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
    stale: list[ReportChange] = field(default_factory=list)
    changes: list[ReportChange] = field(default_factory=list)


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
    rows: list[ReportChange]
    notes: list[str]


def report_facts_of(c: ChangeSnapshot, as_of: datetime, bots: frozenset[int] = frozenset()
             ) -> ReportFacts:
    """The report's facts of a snapshot (loaded with its messages), as the store gives them."""
    newest: dict[int, datetime] = {}
    for e in c.vote_events:
        if (e.label == "Code-Review" and e.value == -1 and not e.removed and e.date <= as_of
                and e.date >= newest.get(e.patch_set, e.date)):
            newest[e.patch_set] = e.date
    # Votes are messages: a snapshot built without its message rows still shows them.
    human = [m.date for m in c.messages
             if m.date <= as_of and is_human_message(m.author_id, m.tag, bots)]
    human += [e.date for e in c.vote_events
              if e.date <= as_of and is_human_message(e.account_id, None, bots)]
    return ReportFacts(
        c.number, c.project, c.branch, c.subject, c.status, c.wip, c.owner_id, c.created,
        c.updated, c.current_patch_set, c.submitted, c.closed_at,
        tuple((p.number, p.created, p.uploader_id) for p in c.patch_sets),
        tuple(v for v in c.current_votes if v.value),
        tuple(VoteRow(e.patch_set, e.account_id, e.label, e.value, e.date, e.removed)
              for e in c.vote_events if e.date <= as_of) if c.updated > as_of else (),
        tuple(d for d in c.owner_replies if d <= as_of),
        tuple(sorted(newest.items())),
        max(human, default=None),
    )


def _days(delta: timedelta) -> float:
    return delta / _DAY


def _last_update(c: ReportFacts, as_of: datetime) -> datetime:
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
        if latest < e.date <= as_of:
            latest = e.date
    for t in (c.submitted, c.closed_at):
        if t is not None and latest < t <= as_of:
            latest = t
    return latest


def change_row(
    c: ReportFacts, owner: str, priorities: tuple[str, ...], as_of: datetime, stale_days: int,
    bots: frozenset[int] = frozenset(), last: datetime | None = None,
) -> ReportChange:
    """The change as it stood at T (`last`: its last update as of T, when known); every
    state question is the timeline's."""
    closed = closed_time(c.status, c.submitted, c.closed_at, c.updated)
    status = status_at(c.status, c.created, closed, as_of)
    if status != "open":
        status = status or "open"  # the caller keeps changes created by T only
    else:
        closed = None
    live = live_at(c.updated, as_of)
    patch_sets = [PatchSetInfo(n, t, u) for n, t, u in c.patch_sets]
    if live:
        ps = next((p for p in patch_sets if p.number == c.current_patch_set), None)
    else:
        ps = current_patch_set_at(patch_sets, c.current_patch_set, as_of)
    ps_number = ps.number if ps else c.current_patch_set
    ps_created = ps.created if ps else c.created
    if last is None:
        last = _last_update(c, as_of)
    activity = last_human_activity(
        c.created, ((p.created, p.uploader_id) for p in patch_sets), (), bots, as_of)
    if c.last_human_message is not None and c.last_human_message > activity:
        activity = c.last_human_message
    state = wait = age = None
    stale = False
    if status == "open":
        votes = (c.current_votes if live
                 else latest_votes(c.history, ps_number, as_of))
        state = review_state(votes, ps_number,
                             newest_minus1_at=dict(c.newest_minus1).get(ps_number),
                             uploaded=ps_created, owner_replies=c.owner_replies,
                             at=as_of).state
        wait = _days(as_of - ps_created)
        age = _days(as_of - c.created)
        stale = as_of - activity >= timedelta(days=stale_days)
    # Positional, in field order: built once per change of the cycle.
    return ReportChange(
        c.number, c.project, c.branch, c.subject, owner, priorities, status, state, c.wip,
        ps_number, ps_created, c.created, last, activity, closed, wait, age, stale,
    )


def _weeks(start: date, until: date) -> list[date]:
    """Week starts from the cycle start (weeks run start, start+7d, ...) up to `until`."""
    weeks, day = [], start
    while day <= until:
        weeks.append(day)
        day += timedelta(days=7)
    return weeks


def last_chart_day(rows: Sequence[ReportChange], config: Config, as_of: datetime) -> date:
    """The last day the charts cover: the cycle end (or T, if earlier), and later when
    changes were created after the end (they still count, and are charted)."""
    last_day = min(config.cycle.end, as_of.date())
    return max([last_day, *(r.created.date() for r in rows)])


def _fill(p: PriorityReport, rows: list[ReportChange], config: Config, as_of: datetime) -> None:
    start = config.cycle.start
    last_day = last_chart_day(rows, config, as_of)
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
            if r.state is None or r.wait_days is None or r.age_days is None:
                raise ValueError(f"change {r.number} is open at T but has no review state")
            p.open += 1
            p.states[r.state] += 1
            waits.append(r.wait_days)
            ages.append(r.age_days)
            if r.stale:
                p.stale.append(r)
    p.changes = sorted(rows, key=lambda r: r.number)
    p.stale.sort(key=lambda r: (r.last_activity, r.number))
    p.wait_since_patch_set = distribution(waits)
    p.age = distribution(ages)
    p.merges_per_week = [WeekCount(w, n) for w, n in zip(weeks, merges, strict=True)]
    p.burnup = _burnup(rows, start, last_day)


def _burnup(rows: list[ReportChange], start: date, last_day: date) -> list[BurnupPoint]:
    """Daily totals at the end of each day: changes created so far vs merged so far."""
    if last_day < start:
        return []
    n_days = (last_day - start).days + 1
    created = [0] * n_days
    merged = [0] * n_days
    for r in rows:
        created[min(n_days - 1, max(0, (r.created.date() - start).days))] += 1
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
        [report_facts_of(c, as_of, roster.bots) for c in changes],
        code_review_events(changes, as_of), roster,
        classes, config, as_of,
    )


def report_from_facts(
    changes: Sequence[ReportFacts],
    review_events: Sequence[ReviewEvent],
    roster: Roster,
    classes: Mapping[int, ChangeClass],
    config: Config,
    as_of: datetime,
) -> Report:
    """`build_report` over plain facts: `review_events` are the Code-Review events up to T,
    grouped by change and patch set, in vote order (`core_effort_from_events`)."""
    in_scope, rows, by_priority, other_rows = _change_rows(changes, roster, classes, config,
                                                           as_of)
    reports = []
    for p in sorted(config.priorities, key=lambda p: (p.rank, p.id)):
        pr = PriorityReport(p.id, p.title, p.rank, tuple(p.owners), p.spec)
        _fill(pr, by_priority[p.id], config, as_of)
        reports.append(pr)
    other = PriorityReport("other", "Not a cycle priority", 0, (), None)
    _fill(other, other_rows, config, as_of)
    effort = core_effort_from_events(in_scope, review_events, roster,
                                     _with_ungated_branches(changes, classes, config),
                                     config, as_of)
    rows.sort(key=lambda r: r.number)
    return Report(
        cycle=config.cycle.name, cycle_start=config.cycle.start, cycle_end=config.cycle.end,
        feature_freeze=config.cycle.feature_freeze, milestones=dict(config.cycle.milestones),
        as_of=as_of, stale_days=config.report.stale_days, priorities=reports, other=other,
        effort=effort, rows=rows, notes=_notes(roster, as_of, day_start(config.cycle.start)),
    )


def _change_rows(
    changes: Sequence[ReportFacts],
    roster: Roster,
    classes: Mapping[int, ChangeClass],
    config: Config,
    as_of: datetime,
) -> tuple[list[tuple[int, int, tuple[tuple[int, datetime, int | None], ...]]],
           list[ReportChange], dict[str, list[ReportChange]], list[ReportChange]]:
    """The changes in the report's scope: (number, owner, patch sets) of each for the
    core-review figures, and the row of each touched during the cycle, all of them, by
    priority, and those matching no priority."""
    cycle_start = day_start(config.cycle.start)
    projects, branches = set(config.gerrit.projects), set(config.gerrit.branches)
    stale_days = config.report.stale_days
    known = {p.id for p in config.priorities}
    username = roster.username
    in_scope: list[tuple[int, int, tuple[tuple[int, datetime, int | None], ...]]] = []
    rows: list[ReportChange] = []
    by_priority: dict[str, list[ReportChange]] = {p.id: [] for p in config.priorities}
    other_rows: list[ReportChange] = []
    for c in changes:
        if c.project not in projects or c.branch not in branches or c.created > as_of:
            continue
        in_scope.append((c.number, c.owner_id, c.patch_sets))
        last = _last_update(c, as_of)
        if last < cycle_start:
            continue  # not touched during the cycle (as of T)
        cls = classes.get(c.number)
        priorities = tuple(p for p in cls.priorities if p in known) if cls else ()
        row = change_row(c, username(c.owner_id), priorities, as_of, stale_days, roster.bots,
                         last)
        rows.append(row)
        for pid in priorities:
            by_priority[pid].append(row)
        if not priorities:
            other_rows.append(row)
    return in_scope, rows, by_priority, other_rows


def _with_ungated_branches(changes: Sequence[ReportFacts], classes: Mapping[int, ChangeClass],
                           config: Config) -> Mapping[int, ChangeClass]:
    """`classes`, with the changes on a branch without the gate (`[[branch_policy]] gate =
    false`) exempt from it: a core reviewing them there jumps no gate."""
    if not config.branch_policy:
        return classes
    ungated = {c.number for c in changes
               if (policy := branch_policy_for(config.branch_policy, c.branch)) is not None
               and not policy.gate}
    return {**classes, **{n: ChangeClass(classes[n].priorities if n in classes else (), True)
                          for n in ungated}}


def _notes(roster: Roster, as_of: datetime, cycle_start: datetime) -> list[str]:
    notes = []
    if not roster.core_known:
        notes.append(
            "Core group membership is unknown (Gerrit returned no members); core figures "
            "count only users listed in [[core_history]]."
        )
    if as_of < cycle_start:
        notes.append("The as-of date is before the cycle start: nothing to report yet.")
    return notes
