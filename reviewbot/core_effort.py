"""Report: where core review effort went from the cycle start to T (priority share, gate).

Pure. A *core review* is a core's (at vote time) final non-zero Code-Review vote
event on a patch set of someone else's change (DESIGN "Review-quality metrics"),
cast between the cycle start and T. Gate compliance counts the reviews a core
cast on a patch set of a non-priority, non-exempt change that, at the moment of
the vote, had fewer than `gate.min_noncore_plus1` qualifying +1s (queue jumping).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from reviewbot.clock import day_start
from reviewbot.config import Config
from reviewbot.people import Roster
from reviewbot.snapshot import ChangeSnapshot, VoteEvent

if TYPE_CHECKING:
    from reviewbot.report import ChangeClass

_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Distribution:
    """Median and 75th percentile (linear interpolation between ranks) of values in days."""

    count: int
    median: float | None
    p75: float | None


def distribution(values: Sequence[float]) -> Distribution:
    """Median and 75th percentile; None when there is nothing to measure."""
    if not values:
        return Distribution(0, None, None)
    ordered = sorted(values)
    if len(ordered) == 1:
        return Distribution(1, ordered[0], ordered[0])
    # method="inclusive" is linear interpolation between closest ranks (numpy's default).
    p75 = statistics.quantiles(ordered, n=4, method="inclusive")[2]
    return Distribution(len(ordered), statistics.median(ordered), p75)


def ratio(part: int, whole: int) -> float | None:
    """A share, or None when there is no denominator."""
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class CoreReview:
    change_number: int
    patch_set: int
    account_id: int
    value: int
    date: datetime
    on_priority: bool
    gate_applies: bool  # a non-priority, non-exempt change
    jumped_gate: bool  # cast while the patch set was gated (only when gate_applies)


@dataclass(frozen=True, slots=True)
class CoreFigures:
    account_id: int
    username: str
    reviews: int
    priority_reviews: int
    priority_share: float | None
    gate_checked: int  # reviews on non-priority, non-exempt changes
    gate_jumps: int  # of those, cast while the patch set was gated


@dataclass
class CoreEffort:
    reviews: int
    priority_reviews: int
    core_priority_share: float | None
    cores: list[CoreFigures]
    gate_compliance: dict[str, int]
    gate_latency: Distribution  # upload -> gate opening (first qualifying +1s), days
    core_latency_after_gate: Distribution  # gate opening -> first core review, days
    review_list: list[CoreReview]


def _sorted(events: list[VoteEvent]) -> list[VoteEvent]:
    return sorted(events, key=lambda e: (e.date, e.message_id))


class _GateCounter:
    """Qualifying +1s on one patch set: voter not core at vote time, not a bot, not the
    change owner or the patch set uploader; each voter's latest vote counts."""

    def __init__(self, roster: Roster, excluded: set[int | None]):
        self.roster = roster
        self.excluded = excluded
        self.latest: dict[int, int] = {}

    def add(self, e: VoteEvent) -> None:
        voter = e.account_id
        if voter in self.excluded or self.roster.is_bot(voter):
            return
        if self.roster.is_core(voter, e.date):
            # A vote cast while core never opens the gate; it also replaces the voter's
            # earlier non-core vote, since "latest vote per voter" is what counts.
            self.latest.pop(voter, None)
            return
        self.latest[voter] = 0 if e.removed else e.value

    @property
    def plus_ones(self) -> int:
        return sum(1 for v in self.latest.values() if v > 0)


def measure_core_effort(
    changes: Sequence[ChangeSnapshot],
    roster: Roster,
    classes: Mapping[int, ChangeClass],
    config: Config,
    as_of: datetime,
) -> CoreEffort:
    """Core reviews from the cycle start to T, their priority share, the gate figures."""
    start = day_start(config.cycle.start)
    need = config.gate.min_noncore_plus1
    known = {p.id for p in config.priorities}
    reviews: list[CoreReview] = []
    gate_waits: list[float] = []
    core_waits: list[float] = []

    for c in changes:
        cls = classes.get(c.number)
        on_priority = bool(cls and known.intersection(cls.priorities))
        gated_kind = not on_priority and not (cls and cls.exempt)
        by_ps: dict[int, list[VoteEvent]] = defaultdict(list)
        for e in c.vote_events:
            if e.label == "Code-Review" and e.date <= as_of:
                by_ps[e.patch_set].append(e)
        if not by_ps:
            continue
        uploaded = {ps.number: ps for ps in c.patch_sets}
        for number, events in by_ps.items():
            events = _sorted(events)
            final: dict[int, VoteEvent] = {}
            for e in events:
                final[e.account_id] = e
            ps_reviews = [
                e for voter, e in final.items()
                if e.value and not e.removed and voter != c.owner_id and e.date >= start
                and not roster.is_bot(voter) and roster.is_core(voter, e.date)
            ]
            ps = uploaded.get(number)
            excluded = {c.owner_id, ps.uploader_id if ps else None}
            for e in ps_reviews:
                jumped = False
                if gated_kind:
                    counter = _GateCounter(roster, excluded)
                    for prior in events:
                        if prior.date >= e.date:
                            break
                        counter.add(prior)
                    jumped = counter.plus_ones < need
                reviews.append(
                    CoreReview(
                        c.number, number, e.account_id, e.value, e.date, on_priority,
                        gated_kind, jumped,
                    )
                )
            if gated_kind and ps is not None and start <= ps.created <= as_of:
                opened = _gate_opening(events, roster, excluded, need)
                if opened is not None:
                    gate_waits.append((opened - ps.created) / _DAY)
                    after = [e.date for e in ps_reviews if e.date >= opened]
                    if after:
                        core_waits.append((min(after) - opened) / _DAY)

    return _summarise(reviews, roster, gate_waits, core_waits)


def _gate_opening(
    events: list[VoteEvent], roster: Roster, excluded: set[int | None], need: int
) -> datetime | None:
    """When the patch set first had `need` qualifying +1s (None if never, up to T)."""
    counter = _GateCounter(roster, excluded)
    for e in events:
        counter.add(e)
        if counter.plus_ones >= need:
            return e.date
    return None


def _summarise(
    reviews: list[CoreReview], roster: Roster, gate_waits: list[float], core_waits: list[float]
) -> CoreEffort:
    per_core: dict[int, list[CoreReview]] = defaultdict(list)
    for r in reviews:
        per_core[r.account_id].append(r)
    cores = []
    for account, rs in per_core.items():
        on_priority = sum(1 for r in rs if r.on_priority)
        checked = sum(1 for r in rs if r.gate_applies)
        cores.append(
            CoreFigures(
                account_id=account,
                username=roster.username(account),
                reviews=len(rs),
                priority_reviews=on_priority,
                priority_share=ratio(on_priority, len(rs)),
                gate_checked=checked,
                gate_jumps=sum(1 for r in rs if r.jumped_gate),
            )
        )
    cores.sort(key=lambda f: (-f.reviews, f.username))
    priority_total = sum(1 for r in reviews if r.on_priority)
    reviews.sort(key=lambda r: (r.date, r.change_number, r.patch_set, r.account_id))
    return CoreEffort(
        reviews=len(reviews),
        priority_reviews=priority_total,
        core_priority_share=ratio(priority_total, len(reviews)),
        cores=cores,
        gate_compliance={f.username: f.gate_jumps for f in cores},
        gate_latency=distribution(gate_waits),
        core_latency_after_gate=distribution(core_waits),
        review_list=reviews,
    )
