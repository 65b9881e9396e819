"""Queue view: the present's queue candidates from the states the evaluate step stored with
every verdict, cached per store generation so a queue request costs one walk of a sorted
list (`QueueCache`)."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlmodel import Session

from reviewbot.config import Config
from reviewbot.metrics.queue import (
    FIRST_CRACK_GATE_STATE,
    QUEUE_GATE_STATES,
    QueueChange,
    ScoreFacts,
    first_crack_order,
    order_key,
    points,
    score_facts_of,
)
from reviewbot.store.queue_reads import (
    StoreGeneration,
    candidate_rows,
    current_votes_of,
    open_current_votes,
)
from reviewbot.timeline.people import Roster
from reviewbot.timeline.roster import load_roster
from reviewbot.timeline.snapshot import Vote
from reviewbot.timeline.state import WAITING_ON_REVIEWERS, ReviewState, votes_of
from reviewbot.views.branch_cores import BranchCores

if TYPE_CHECKING:  # the rules package (every matcher) is the evaluate step's, not the queue's
    from reviewbot.rules.verdict import ChangeVerdict

CORE, FIRST_CRACK = "core", "first-crack"


# One core candidate in queue order: (sort key, score, change, the score's inputs).
CoreOrderEntry = tuple[tuple[tuple[int, int], int, datetime, int], int, QueueChange,
                       ScoreFacts]


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
        """All core candidates in queue order at `now`, as (key, score, change, facts):
        the facts give a shown row its score's reasons without judging the votes again.

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
            facts = score_facts_of(change, cores.core_test(change.branch, now, is_core)
                             if cores is not None else is_core)
            total = points(facts.uploaded, now, facts.ci_passed, len(facts.core_plus2),
                           bool(facts.minus1))
            out.append((order_key(facts.priority, facts.rank, total, facts.uploaded,
                                  facts.number), total, change, facts))
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


def candidate_change(row: tuple[Any, ...], votes: Mapping[int, Iterable[Vote]],
                     rank_of: Mapping[str, int]) -> QueueChange:
    """A queue candidate from its `queue_reads.candidate_rows` row and the current votes by
    change: votes in (label, account) order, priorities in the configured rank order, the
    stored verdict's sentences."""
    number, owner, ps, uploaded, gate_state, prios, rank, branch, reason, matches = row
    return QueueChange(
        number, True, "open", owner, ps, uploaded,
        tuple(sorted(votes.get(number, ()), key=lambda v: (v.label, v.account_id))),
        ReviewState(WAITING_ON_REVIEWERS, "waiting on reviewers"), gate_state, reason,
        tuple(sorted(prios or (), key=lambda p: (rank_of.get(p, 10**6), p))), rank,
        stored_priority_reasons(matches), branch)


def priority_reasons(verdict: ChangeVerdict) -> tuple[str, ...]:
    """The sentences a queue row shows for the priorities a verdict matched."""
    return tuple(f"{p.title}: {r}" for p in verdict.priorities for r in p.reasons)


def stored_priority_reasons(matches: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """`priority_reasons` of a verdict from its stored `matches` (as
    `evaluate.verdicts.verdict_from_row` reads them back: a match without a title is
    titled by its priority id), without building the verdict."""
    return tuple(f"{m.get('title') or m['priority']}: {r}" for m in matches
                 for r in m.get("reasons") or ())


def votes_by_change(found: Iterable[tuple[Any, ...]]) -> dict[int, list[Vote]]:
    """(number, label, account, value) rows of current votes, as Votes per change."""
    votes: dict[int, list[Vote]] = defaultdict(list)
    for number, label, account, value in found:
        votes[number].append(Vote(label, account, value))
    return votes


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
    votes = votes_by_change(
        open_current_votes(session, config) if reviewer_id is None else
        current_votes_of(session, [r[0] for kind in rows.values() for r in kind]))

    def changes(kind: str) -> list[QueueChange]:
        out = []
        for row in rows[kind]:
            change = candidate_change(row, votes, rank_of)
            for v in votes_of(change.votes, "Code-Review"):
                voted[v.account_id].add(change.number)
            owned[change.owner_id].add(change.number)
            out.append(change)
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
