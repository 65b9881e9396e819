"""Queue view: one reviewer's queue as of T from the store — the core queue for a core
reviewer, the first-crack queue for everyone else — and the why-not answer.

Two ways to the same answer. The present ("now", no `as_of`) reads the review and gate
states the evaluate step stored with every verdict, cached per store generation so a
queue request costs one walk of a sorted list. A past date replays every change open at
T through `reviewbot.timeline` and the gate rule (`evaluate.judge_at`), with the
priority matches of the stored verdicts. Tests hold the two equal.

Size: ~510 lines: the stored present, the settled-at-T shortcut and the replay all
answer the same question and are tested equal to each other; the answer types
(QueueAnswer, QueueRow) can move out with issue 16's views/ package.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from reviewbot.clock import full_days, utcnow
from reviewbot.config import Config
from reviewbot.evaluate import evaluate_changes, judge_state, stored_classes
from reviewbot.people import Roster
from reviewbot.queue import (
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
from reviewbot.rules.verdict import GATE_STATES, ChangeVerdict
from reviewbot.snapshot import Vote
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
from reviewbot.store.snapshots import load_changes, load_open_at, load_roster
from reviewbot.timeline import (
    WAITING_ON_REVIEWERS,
    ChangeState,
    ReviewState,
    state_at,
    votes_of,
)

CORE, FIRST_CRACK = "core", "first-crack"


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

    def as_json(self, config: Config) -> dict:
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

    def _row_json(self, row: QueueRow, config: Config) -> dict:
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
    _orders: dict[tuple, list[tuple]] = field(default_factory=dict)
    _first_crack_order: list[QueueChange] | None = None

    def excluded(self, reviewer_id: int) -> frozenset[int]:
        return self.owned.get(reviewer_id, frozenset()) | self.voted.get(reviewer_id,
                                                                           frozenset())

    def core_order(self, now: datetime) -> list[tuple]:
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
        out = []
        is_core = core_ids.__contains__
        for change in self.core:
            facts = facts_of(change, is_core)
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
        for number, owner, ps, uploaded, gate_state, prios, rank in rows[kind]:
            mine = tuple(sorted(votes.get(number, ()), key=lambda v: (v.label, v.account_id)))
            for v in votes_of(mine, "Code-Review"):
                voted[v.account_id].add(number)
            owned[owner].add(number)
            ordered = tuple(sorted(prios or (), key=lambda p: (rank_of.get(p, 10**6), p)))
            out.append(QueueChange(number, True, "open", owner, ps, uploaded, mine,
                                   _waiting(), gate_state, "", ordered, rank))
        return out

    core, first = changes(CORE), changes(FIRST_CRACK)
    return QueueBase(core, first, roster, {a: frozenset(n) for a, n in voted.items()},
                     {a: frozenset(n) for a, n in owned.items()})


class QueueCache:
    """The QueueBase of one store and config, rebuilt when the store has changed."""

    def __init__(self, engine, config: Config):
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


def queue_change(state: ChangeState, verdict: ChangeVerdict) -> QueueChange:
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
        tuple(f"{p.title}: {r}" for p in verdict.priorities for r in p.reasons))


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
                                                      rules, roster))
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
    for number, owner, ps, uploaded, gate_state, prios, rank in rows:
        verdict = classes[number]
        out.append(QueueChange(
            number, True, "open", owner, ps, uploaded,
            tuple(sorted(votes.get(number, ()), key=lambda v: (v.label, v.account_id))),
            _waiting(), gate_state, verdict.gate.reason,
            tuple(sorted(prios or (), key=lambda p: (rank_of.get(p, 10**6), p))), rank,
            tuple(f"{p.title}: {r}" for p in verdict.priorities for r in p.reasons)))
    return out


# --- the answers -----------------------------------------------------------------------------


def _kind(core: bool | None) -> str:
    return FIRST_CRACK if core is False else CORE


def _note(reviewer: Reviewer, core: bool | None) -> str | None:
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
    if as_of is None:
        now = now or utcnow()
        if cache is not None:
            base = cache.base(session)
        else:  # a one-off answer: read only this reviewer's candidates
            roster = load_roster(session, config)
            base = build_base(session, config, reviewer_id=reviewer.id, roster=roster,
                              kinds=(_kind(roster.core_status(reviewer.id, now)),))
        roster = base.roster
        core = roster.core_status(reviewer.id, now)
        excluded = base.excluded(reviewer.id)
        if core is False:
            ranked = [c for c in base.first_crack_order() if c.number not in excluded]
            total = len(ranked)
            page = [(_first_crack_item(c, now), c) for c in ranked[offset:end]]
        else:
            ordered = [row for row in base.core_order(now) if row[2].number not in excluded]
            total = len(ordered)
            shown = _with_verdict_reasons(session, [c for _k, _t, c in ordered[offset:end]])
            core_ids = roster.core_at(now)  # once per answer, not once per row
            page = [(_core_item(c, t, now, roster, core_ids), c)
                    for (_k, t, _c), c in zip(ordered[offset:end], shown, strict=True)]
    else:
        now = as_of
        changes, roster = changes_at(session, config, now)
        by_number = {c.number: c for c in changes}
        core = roster.core_status(reviewer.id, now)
        if core is False:
            found: list = build_first_crack(changes, reviewer.id, now, roster.username)
        else:
            found = build_queue(changes, reviewer.id, roster.core_at(now).__contains__, now,
                                roster.username)
        total = len(found)
        page = [(it, by_number[it.number]) for it in found[offset:end]]
    summaries = change_summaries(session, [it.number for it, _c in page])
    return QueueAnswer(reviewer, core, _kind(core), now, total,
                       [QueueRow(it, summaries[it.number], c) for it, c in page], roster,
                       _note(reviewer, core), offset, limit)


def queue_sizes(session: Session, config: Config, as_of: datetime | None,
                cache: QueueCache | None = None, now: datetime | None = None
                ) -> tuple[list[tuple[int, int]], Roster]:
    """(account, queue size) of every core reviewer at T, for the picker."""
    if as_of is None:
        now = now or utcnow()
        base = cache.base(session) if cache is not None else build_base(session, config)
        ordered = [row[2].number for row in base.core_order(now)]
        cores = sorted(base.roster.core_at(now), key=base.roster.username)
        return [(a, sum(1 for n in ordered if n not in base.excluded(a))) for a in cores], \
            base.roster
    changes, roster = changes_at(session, config, as_of)
    core_at = roster.core_at(as_of)
    return [(a, len(build_queue(changes, a, core_at.__contains__, as_of)))
            for a in sorted(core_at, key=roster.username)], roster


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
               core_ids: frozenset[int]) -> QueueItem:
    """A core queue row with its reasons (the stored verdict's lead reasons, the score's);
    `core_ids` are the accounts core at `now`."""
    facts = facts_of(change, core_ids.__contains__)
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
    core = roster.core_status(reviewer.id, at)
    answer = why_not(change, reviewer.id, reviewer.label, reviewer_is_core=core,
                     name=roster.username)
    if not answer.in_queue:
        return answer
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
