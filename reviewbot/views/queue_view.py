"""Queue view: one reviewer's queue as of T from the store — the core queue for a core
reviewer, the first-crack queue for everyone else — and the why-not answer.

Two ways to the same answer. The present ("now", no `as_of`) reads the review and gate
states the evaluate step stored with every verdict, cached per store generation so a
queue request costs one walk of a sorted list. A past date replays every change open at
T through `reviewbot.timeline.state` and the gate rule (`evaluate.judge_at`), with the
priority matches of the stored verdicts. Tests hold the two equal.

Size: ~620 lines: the stored present, the settled-at-T shortcut and the replay all
answer the same question and are tested equal to each other, so they live side by side;
the answer types (QueueAnswer, QueueRow) are the natural split, not yet made.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from reviewbot.clock import full_days, utcnow
from reviewbot.config import Config, branch_policy_for
from reviewbot.evaluate.verdicts import evaluate_changes, judge_state, stored_classes
from reviewbot.metrics.queue import (
    FIRST_CRACK_GATE_STATE,
    QUEUE_GATE_STATES,
    FirstCrackItem,
    QueueChange,
    QueueItem,
    WhyNot,
    build_first_crack,
    build_queue,
    facts_of,
    first_crack_order,
    first_crack_reason,
    lead_reasons,
    order_key,
    points,
    score,
    why_not,
)
from reviewbot.rules.ruleset import ruleset_for
from reviewbot.rules.verdict import ChangeVerdict
from reviewbot.store.queue_reads import (
    ChangeSummary,
    Reviewer,
    StoreGeneration,
    candidate_rows,
    change_summaries,
    current_votes_of,
    is_tracked,
    open_current_votes,
    settled_evaluation_times,
)
from reviewbot.store.snapshots import load_changes, load_open_at
from reviewbot.timeline.people import Roster
from reviewbot.timeline.roster import load_roster
from reviewbot.timeline.snapshot import GATE_STATES, Vote
from reviewbot.timeline.state import (
    WAITING_ON_REVIEWERS,
    ChangeState,
    ReviewState,
    state_at,
    votes_of,
)

CORE, FIRST_CRACK = "core", "first-crack"


# One core candidate in queue order: (sort key, score, change).
CoreOrderEntry = tuple[tuple[tuple[int, int], int, datetime, int], int, QueueChange]


@dataclass(frozen=True, slots=True)
class QueueRow:
    item: QueueItem | FirstCrackItem
    summary: ChangeSummary
    change: QueueChange  # the change at T: current patch set, votes, gate state


@dataclass
class QueueAnswer:
    """One reviewer's queue as of T: what `queue --json`, /api/v1/queue and /queue show."""

    reviewer: Reviewer
    core: bool | None  # None: membership unknown (hidden group), answered as if core
    kind: str  # "core" | "first-crack"
    as_of: datetime
    total: int
    rows: list[QueueRow]
    roster: Roster
    note: str | None = None
    offset: int = 0
    limit: int | None = None

    def as_json(self, config: Config) -> dict[str, Any]:
        """One shape for the CLI's --json and the API."""
        return {
            "reviewer": self.reviewer.label,
            "account_id": self.reviewer.id,
            "core": self.core,
            "core_known": self.roster.core_known,
            "kind": self.kind,
            "as_of": self.as_of.isoformat(),
            "note": self.note,
            "total": self.total,
            "offset": self.offset,
            "limit": self.limit,
            "items": [self._row_json(row, config) for row in self.rows],
        }

    def _row_json(self, row: QueueRow, config: Config) -> dict[str, Any]:
        item, s, change = row.item, row.summary, row.change
        roster = self.roster
        data = {
            "number": item.number,
            "subject": s.subject,
            "project": s.project,
            "branch": s.branch,
            "owner": roster.username(s.owner_id),
            "patch_set": change.current_patch_set,
            "uploaded": item.uploaded.isoformat() if item.uploaded else None,
            "gate_state": change.gate_state,
            "ci": ci_state(change.votes),
            "votes": [{"label": v.label, "value": v.value, "account_id": v.account_id,
                       "by": roster.username(v.account_id),
                       "core": roster.is_core(v.account_id, self.as_of),
                       "bot": roster.is_bot(v.account_id)} for v in change.votes],
            "reasons": list(item.reasons),
            "gerrit_url": f"{config.gerrit_web_base}/c/{s.project}/+/{item.number}",
        }
        if isinstance(item, QueueItem):
            priority = config.priority(item.priority) if item.priority else None
            data.update(priority=item.priority,
                        priority_title=priority.title if priority else None,
                        rank=item.rank, score=item.score)
        else:
            data.update(wait_days=item.wait_days)
        return data


def ci_state(votes: Sequence[Vote]) -> str:
    """"failing", "passed" or "none": the Verified votes on the current patch set."""
    verified = [v.value for v in votes_of(votes, "Verified")]
    if any(v < 0 for v in verified):
        return "failing"
    return "passed" if any(v > 0 for v in verified) else "none"


# --- the present: stored states ---------------------------------------------------------------


@dataclass
class QueueBase:
    """Every candidate of either queue now, from the stored verdicts and current votes.

    A reviewer's queue is the candidates minus their own changes and the ones they
    voted on, so the reads happen once per store generation, not once per request.
    """

    core: list[QueueChange]
    first_crack: list[QueueChange]
    roster: Roster
    voted: dict[int, frozenset[int]]  # account -> changes with its Code-Review vote
    owned: dict[int, frozenset[int]]
    cores: BranchCores | None = None  # per-branch core groups, for the score's core +2s
    _orders: dict[tuple[date, int, frozenset[int]], list[CoreOrderEntry]] = field(
        default_factory=dict)
    _first_crack_order: list[QueueChange] | None = None

    def excluded(self, reviewer_id: int) -> frozenset[int]:
        return self.owned.get(reviewer_id, frozenset()) | self.voted.get(reviewer_id,
                                                                           frozenset())

    def core_order(self, now: datetime) -> list[CoreOrderEntry]:
        """All core candidates in queue order at `now`, as (key, score, change).

        Scores move only with the full-day counts and who is core, so the order is cached
        per (UTC day, core set) and the upload times' phase within the day.
        """
        core_ids = self.roster.core_at(now)
        phase = sum(1 for c in self.core if c.uploaded is not None
                    and (c.uploaded.hour, c.uploaded.minute, c.uploaded.second,
                         c.uploaded.microsecond) <= (now.hour, now.minute, now.second,
                                                     now.microsecond))
        key = (now.date(), phase, core_ids)
        cached = self._orders.get(key)
        if cached is not None:
            return cached
        out: list[CoreOrderEntry] = []
        is_core = core_ids.__contains__
        cores = self.cores if self.cores is not None and self.cores.groups else None
        for change in self.core:
            facts = facts_of(change, cores.core_test(change.branch, now, is_core)
                             if cores is not None else is_core)
            total = points(facts.uploaded, now, facts.ci_passed, len(facts.core_plus2),
                           bool(facts.minus1))
            out.append((order_key(facts.priority, facts.rank, total, facts.uploaded,
                                  facts.number), total, change))
        out.sort(key=lambda item: item[0])
        if len(self._orders) >= 16:
            self._orders.clear()
        self._orders[key] = out
        return out

    def first_crack_order(self) -> list[QueueChange]:
        if self._first_crack_order is None:
            self._first_crack_order = sorted(
                self.first_crack, key=lambda c: first_crack_order(c.uploaded, c.number))
        return self._first_crack_order


def _waiting() -> ReviewState:
    return ReviewState(WAITING_ON_REVIEWERS, "waiting on reviewers")


def build_base(session: Session, config: Config, *, reviewer_id: int | None = None,
               kinds: Sequence[str] = (CORE, FIRST_CRACK), roster: Roster | None = None
               ) -> QueueBase:
    """The candidates now: stored verdicts saying "waiting on reviewers", their votes.

    With `reviewer_id` (a one-off answer, as the CLI gives), only that reviewer's
    candidates of the queue `kinds` are read, and only their votes."""
    roster = roster or load_roster(session, config)
    rank_of = {p.id: p.rank for p in config.priorities}
    voted: dict[int, set[int]] = defaultdict(set)
    owned: dict[int, set[int]] = defaultdict(set)
    gates = {CORE: QUEUE_GATE_STATES, FIRST_CRACK: (FIRST_CRACK_GATE_STATE,)}
    rows = {kind: candidate_rows(session, config, gates[kind], WAITING_ON_REVIEWERS,
                                 reviewer_id=reviewer_id) if kind in kinds else []
            for kind in (CORE, FIRST_CRACK)}
    votes: dict[int, list[Vote]] = defaultdict(list)
    found = (open_current_votes(session, config) if reviewer_id is None else
             current_votes_of(session, [r[0] for kind in rows.values() for r in kind]))
    for number, label, account, value in found:
        votes[number].append(Vote(label, account, value))

    def changes(kind: str) -> list[QueueChange]:
        out = []
        for number, owner, ps, uploaded, gate_state, prios, rank, branch in rows[kind]:
            mine = tuple(sorted(votes.get(number, ()), key=lambda v: (v.label, v.account_id)))
            for v in votes_of(mine, "Code-Review"):
                voted[v.account_id].add(number)
            owned[owner].add(number)
            ordered = tuple(sorted(prios or (), key=lambda p: (rank_of.get(p, 10**6), p)))
            out.append(QueueChange(number, True, "open", owner, ps, uploaded, mine,
                                   _waiting(), gate_state, "", ordered, rank, (), branch))
        return out

    core, first = changes(CORE), changes(FIRST_CRACK)
    return QueueBase(core, first, roster, {a: frozenset(n) for a, n in voted.items()},
                     {a: frozenset(n) for a, n in owned.items()}, BranchCores(config, roster))


class QueueCache:
    """The QueueBase of one store and config, rebuilt when the store has changed."""

    def __init__(self, engine: Engine, config: Config) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._generation = StoreGeneration(engine)
        self._cached: tuple[object, QueueBase] | None = None

    def base(self, session: Session) -> QueueBase:
        with self._lock:
            generation = self._generation.read(session)
            if generation is not None and self._cached and self._cached[0] == generation:
                return self._cached[1]
            built = build_base(session, self.config)
            if generation is not None:
                self._cached = (generation, built)
            return built

    def close(self) -> None:
        self._generation.close()


# --- a past date: the timeline replayed ----------------------------------------------------


def queue_change(state: ChangeState, verdict: ChangeVerdict, branch: str = "") -> QueueChange:
    """The queues' view of a change at T from its timeline state and its verdict at T."""
    gate_state = verdict.gate.state
    # every gate state of an open change (a frozen one is open, only held back from the queue)
    is_open = state.is_open and gate_state in GATE_STATES
    if state.status is None:
        status = "absent"
    elif state.status == "open":
        status = "wip" if state.wip else "open"
    else:
        status = state.status
    return QueueChange(
        state.number, is_open, status, state.owner_id, state.patch_set, state.uploaded,
        state.votes, state.review, gate_state, verdict.gate.reason,
        tuple(verdict.priority_ids), verdict.rank,
        tuple(f"{p.title}: {r}" for p in verdict.priorities for r in p.reasons), branch)


def changes_at(session: Session, config: Config, at: datetime,
               numbers: Sequence[int] | None = None, *, replay_all: bool = False
               ) -> tuple[list[QueueChange], Roster]:
    """The changes as they stood at T, with their gate state at T: `numbers` whole, or else
    every change open at T that was waiting on reviewers then (no other can be in a queue).
    `replay_all` replays the settled changes too (tests hold both ways equal).
    """
    roster = load_roster(session, config)
    settled: list[QueueChange] = []
    if numbers is None:
        # A change nothing happened to since T, with a verdict from its rows as they are,
        # stands today as it stood at T: its stored states answer, when core membership
        # was the same at T as when they were judged. The others are replayed, read lean
        # (`load_open_at`) and judged only when waiting on reviewers.
        core_then = roster.core_at(at)
        freeze = ruleset_for(config).freeze
        frozen_then = freeze is not None and freeze.in_effect(at)
        # ... and when the feature freeze was in effect at T exactly as when they were judged
        use_stored = not replay_all and all(
            roster.core_at(t) == core_then
            and (freeze is not None and freeze.in_effect(t)) == frozen_then
            for t in settled_evaluation_times(session, config, at))
        if use_stored:
            settled = _settled_changes(session, config, at)
        states = [(change, state) for change in load_open_at(
                      session, config.gerrit.projects, config.gerrit.branches, at,
                      unsettled_only=use_stored)
                  if (state := state_at(change, at, roster.username)).review is not None
                  and state.review.state == WAITING_ON_REVIEWERS]
    else:
        states = [(change, state_at(change, at, roster.username)) for change in load_changes(
            session, numbers=list(numbers), history=True, content=False,
            include_missing=True)]
    if not states:
        return settled, roster
    known = stored_classes(session, [c.number for c, _s in states])
    unjudged = [c.number for c, _s in states if c.number not in known]
    if unjudged:  # synced since the last evaluate: match them on their full content
        for verdict in evaluate_changes(
                load_changes(session, numbers=unjudged, history=False, include_missing=True),
                config, roster, at):
            known[verdict.number] = verdict
    rules = ruleset_for(config)
    return settled + [queue_change(state, judge_state(change, state, known[change.number],
                                                      rules, roster), change.branch)
                      for change, state in states], roster


def _settled_changes(session: Session, config: Config, at: datetime) -> list[QueueChange]:
    """Candidates of either queue among the changes settled at T, from their stored states
    (`queue_reads.settled`), with their current votes and their verdicts' sentences."""
    rank_of = {p.id: p.rank for p in config.priorities}
    rows = candidate_rows(session, config, (*QUEUE_GATE_STATES, FIRST_CRACK_GATE_STATE),
                          WAITING_ON_REVIEWERS, settled_at=at)
    votes: dict[int, list[Vote]] = defaultdict(list)
    for number, label, account, value in current_votes_of(session, [r[0] for r in rows]):
        votes[number].append(Vote(label, account, value))
    classes = stored_classes(session, [r[0] for r in rows])
    out = []
    for number, owner, ps, uploaded, gate_state, prios, rank, branch in rows:
        verdict = classes[number]
        out.append(QueueChange(
            number, True, "open", owner, ps, uploaded,
            tuple(sorted(votes.get(number, ()), key=lambda v: (v.label, v.account_id))),
            _waiting(), gate_state, verdict.gate.reason,
            tuple(sorted(prios or (), key=lambda p: (rank_of.get(p, 10**6), p))), rank,
            tuple(f"{p.title}: {r}" for p in verdict.priorities for r in p.reasons), branch))
    return out


# --- core reviewers per branch ----------------------------------------------------------------


@dataclass
class BranchCores:
    """Who is core on which branch. A branch whose `[[branch_policy]]` names a core group has
    that group's members as its cores (Gerrit's stable-branch ACLs give +2 there to
    `<project>-stable-maint` only); every other branch has the project core group's.

    Kept simple: a reviewer who is core on some branch gets a core queue holding the
    changes of the branches they are core on (a stable-maint member outside the project
    core group: the stable changes only); the first-crack queue is for reviewers core
    nowhere. The score's "core +2" still counts the project core group's +2s.
    """

    config: Config
    roster: Roster
    _allowed: dict[tuple[int, str], bool] = field(default_factory=dict)
    _tests: dict[str, Callable[[int], bool]] = field(default_factory=dict)

    def core_test(self, branch: str, at: datetime,
                  default: Callable[[int], bool] | None = None) -> Callable[[int], bool]:
        """Is an account core on `branch` at T (whose +2 counts as a core's in the score)?
        `default`: the project core test at T, when the caller already has it."""
        group = self.group_of(branch) if self.groups else None
        if group is None:
            return default or self.roster.core_at(at).__contains__
        if group not in self._tests:  # a group's membership is its members now, at any T
            self._tests[group] = self.roster.for_group(group).core_at(at).__contains__
        return self._tests[group]

    def for_change(self, at: datetime, default: Callable[[int], bool] | None = None
                   ) -> Callable[[QueueChange], Callable[[int], bool]]:
        return lambda change: self.core_test(change.branch, at, default)

    @property
    def groups(self) -> list[str]:
        return [p.core_group for p in self.config.branch_policy if p.core_group]

    def group_of(self, branch: str) -> str | None:
        policy = branch_policy_for(self.config.branch_policy, branch)
        return policy.core_group if policy is not None else None

    def status(self, reviewer_id: int, branch: str, at: datetime) -> bool | None:
        return self.roster.for_group(self.group_of(branch)).core_status(reviewer_id, at)

    def reviewer_status(self, reviewer_id: int, at: datetime) -> bool | None:
        """Core somewhere at T (True), nowhere (False), or unknown (None)."""
        core = self.roster.core_status(reviewer_id, at)
        if core is False and any(self.roster.for_group(g).core_status(reviewer_id, at)
                                 for g in self.groups):
            return True
        return core

    def allows(self, reviewer_id: int, change: QueueChange, at: datetime) -> bool:
        """May the change be in the reviewer's core queue, as far as its branch goes?"""
        if not self.groups:
            return True
        key = (reviewer_id, change.branch)
        if key not in self._allowed:
            self._allowed[key] = self.status(reviewer_id, change.branch, at) is not False
        return self._allowed[key]

    def reviewers_at(self, at: datetime) -> frozenset[int]:
        """Every account core on some branch at T (the project core group's and the groups')."""
        found = set(self.roster.core_at(at))
        for g in self.groups:
            found |= self.roster.for_group(g).core_at(at)
        return frozenset(found)


# --- the answers -----------------------------------------------------------------------------


def _kind(core: bool | None) -> str:
    return FIRST_CRACK if core is False else CORE


def _note(reviewer: Reviewer, core: bool | None, cores: BranchCores | None = None,
          at: datetime | None = None) -> str | None:
    if (core and cores is not None and at is not None
            and cores.roster.core_status(reviewer.id, at) is False):
        groups = [g for g in cores.groups if cores.roster.for_group(g).core_status(
            reviewer.id, at)]
        return (f"{reviewer.label} is core only where {', '.join(groups)} are the core "
                "reviewers ([[branch_policy]]): this queue holds those branches' changes.")
    if core is False:
        return (f"{reviewer.label} is not a core reviewer at this date: this is the first-crack "
                "queue, the gated changes waiting for a non-core +1 that opens them to the "
                "cores.")
    if core is None:
        return ("Core membership is unknown: the core group read back empty from Gerrit (it "
                "may be hidden from the bot's account), so this queue is shown as if "
                f"{reviewer.label} were core, and no +2 counts as a core +2.")
    return None


def queue_for(session: Session, config: Config, reviewer: Reviewer, as_of: datetime | None,
              *, offset: int = 0, limit: int | None = None,
              cache: QueueCache | None = None, now: datetime | None = None) -> QueueAnswer:
    """The reviewer's queue as of T (None: the present, from the stored states, scored at
    `now`, the clock by default): the core queue when they are core at T, else the
    first-crack queue."""
    end = None if limit is None else offset + limit
    page: list[tuple[QueueItem | FirstCrackItem, QueueChange]]
    if as_of is None:
        now = now or utcnow()
        if cache is not None:
            base = cache.base(session)
        else:  # a one-off answer: read only this reviewer's candidates
            roster = load_roster(session, config)
            base = build_base(session, config, reviewer_id=reviewer.id, roster=roster,
                              kinds=(_kind(BranchCores(config, roster).reviewer_status(
                                  reviewer.id, now)),))
        roster = base.roster
        cores = BranchCores(config, roster)
        core = cores.reviewer_status(reviewer.id, now)
        excluded = base.excluded(reviewer.id)
        if core is False:
            ranked = [c for c in base.first_crack_order() if c.number not in excluded]
            total = len(ranked)
            page = [(_first_crack_item(c, now), c) for c in ranked[offset:end]]
        else:
            ordered = [row for row in base.core_order(now) if row[2].number not in excluded
                       and cores.allows(reviewer.id, row[2], now)]
            total = len(ordered)
            shown = _with_verdict_reasons(session, [c for _k, _t, c in ordered[offset:end]])
            core_ids = roster.core_at(now)  # once per answer, not once per row
            page = [(_core_item(c, t, now, roster,
                                cores.core_test(c.branch, now, core_ids.__contains__)), c)
                    for (_k, t, _c), c in zip(ordered[offset:end], shown, strict=True)]
    else:
        now = as_of
        changes, roster = changes_at(session, config, now)
        by_number = {c.number: c for c in changes}
        cores = BranchCores(config, roster)
        core = cores.reviewer_status(reviewer.id, now)
        if core is False:
            found: Sequence[QueueItem | FirstCrackItem] = build_first_crack(
                changes, reviewer.id, now, roster.username)
        else:
            core_now = roster.core_at(now).__contains__
            found = build_queue([c for c in changes if cores.allows(reviewer.id, c, now)],
                                reviewer.id, core_now, now, roster.username,
                                cores.for_change(now, core_now))
        total = len(found)
        page = [(it, by_number[it.number]) for it in found[offset:end]]
    summaries = change_summaries(session, [it.number for it, _c in page])
    return QueueAnswer(reviewer, core, _kind(core), now, total,
                       [QueueRow(it, summaries[it.number], c) for it, c in page], roster,
                       _note(reviewer, core, cores, now), offset, limit)


def queue_sizes(session: Session, config: Config, as_of: datetime | None,
                cache: QueueCache | None = None, now: datetime | None = None
                ) -> tuple[list[tuple[int, int]], Roster]:
    """(account, queue size) of every core reviewer at T, for the picker."""
    if as_of is None:
        now = now or utcnow()
        base = cache.base(session) if cache is not None else build_base(session, config)
        ordered = [row[2] for row in base.core_order(now)]
        branch_cores = BranchCores(config, base.roster)
        cores = sorted(branch_cores.reviewers_at(now), key=base.roster.username)
        return [(a, sum(1 for c in ordered if c.number not in base.excluded(a)
                        and branch_cores.allows(a, c, now))) for a in cores], base.roster
    changes, roster = changes_at(session, config, as_of)
    core_at = roster.core_at(as_of)
    branch_cores = BranchCores(config, roster)
    return [(a, len(build_queue([c for c in changes if branch_cores.allows(a, c, as_of)], a,
                                core_at.__contains__, as_of,
                                core_for=branch_cores.for_change(as_of, core_at.__contains__))))
            for a in sorted(branch_cores.reviewers_at(as_of), key=roster.username)], roster


def _with_verdict_reasons(session: Session, changes: list[QueueChange]) -> list[QueueChange]:
    """The stored path's candidates carry no sentences: read the priority matches and the
    gate reason of the rows being shown from their stored verdicts."""
    classes = stored_classes(session, [c.number for c in changes])
    out = []
    for change in changes:
        verdict = classes.get(change.number)
        if verdict is not None:
            change = dataclasses.replace(
                change, gate_reason=verdict.gate.reason,
                priority_reasons=tuple(f"{p.title}: {r}" for p in verdict.priorities
                                       for r in p.reasons))
        out.append(change)
    return out


def _first_crack_item(change: QueueChange, now: datetime) -> FirstCrackItem:
    days = full_days(change.uploaded, now) if change.uploaded else 0
    return FirstCrackItem(change.number, change.uploaded, days,
                          (first_crack_reason(change.current_patch_set, days),))


def _core_item(change: QueueChange, total: int, now: datetime, roster: Roster,
               is_core: Callable[[int], bool]) -> QueueItem:
    """A core queue row with its reasons (the stored verdict's lead reasons, the score's);
    `is_core` says who is core at `now` on the change's branch."""
    facts = facts_of(change, is_core)
    _same, reasons = score(facts, now, roster.username)
    return QueueItem(change.number, facts.priority, facts.rank, total,
                     tuple(lead_reasons(change)) + tuple(reasons), change.uploaded)


def why_not_for(session: Session, config: Config, number: int, reviewer: Reviewer,
                as_of: datetime | None, *, cache: QueueCache | None = None,
                now: datetime | None = None) -> WhyNot | None:
    """DESIGN "Why-not" for change `number` and the reviewer at T (None: the present at
    `now`); None if the change is unknown."""
    at = as_of or now or utcnow()
    changes, roster = changes_at(session, config, at, numbers=[number])
    if not changes:
        return None
    change = changes[0]
    if not is_tracked(session, config, number):
        return WhyNot(number, reviewer.label, False, "open",
                      f"Change {number} is outside the configured projects and branches.")
    cores = BranchCores(config, roster)
    core = cores.reviewer_status(reviewer.id, at)
    answer = why_not(change, reviewer.id, reviewer.label, reviewer_is_core=core,
                     name=roster.username)
    if not answer.in_queue:
        return answer
    if core is not False and not cores.allows(reviewer.id, change, at):
        group = cores.group_of(change.branch) or config.gerrit.core_group
        return WhyNot(number, reviewer.label, False, "branch",
                      f"Change {number} targets {change.branch}, whose core reviewers are "
                      f"the members of {group}; {reviewer.label} is not one of them.")
    whole = queue_for(session, config, reviewer, as_of, cache=cache, now=at)
    position = next((i for i, row in enumerate(whole.rows, 1) if row.item.number == number),
                    None)
    if position is None:
        # The stored present lags the change (not evaluated since it moved): say so.
        return WhyNot(number, reviewer.label, False, "gate",
                      f"Change {number} qualifies for {reviewer.label}'s "
                      f"{'first-crack ' if core is False else ''}queue but is not in it yet: "
                      "it has not been evaluated since it last changed (run `reviewbot "
                      "evaluate`).", kind=answer.kind)
    item = whole.rows[position - 1].item
    where = "first-crack queue" if core is False else "queue"
    message = f"Change {number} is in {reviewer.label}'s {where} at position {position} " \
              f"of {whole.total}"
    if isinstance(item, QueueItem):
        message += f" (score {item.score})"
    return WhyNot(number, reviewer.label, True, None, message + ".", position, whole.total,
                  item.score if isinstance(item, QueueItem) else None, item.reasons,
                  kind=answer.kind)
