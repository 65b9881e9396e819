"""Report: where core review effort went from the cycle start to T (priority share, gate).

Pure. A *core review* is a core's (at vote time) final non-zero Code-Review vote
event on a patch set of someone else's change (DESIGN "Review-quality metrics"),
cast between the cycle start and T. Gate compliance counts the reviews a core
cast on a patch set of a non-priority, non-exempt change that, at the moment of
the vote, had fewer than `gate.min_noncore_plus1` qualifying +1s (queue jumping).
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter
from typing import TYPE_CHECKING

from reviewbot.clock import day_start
from reviewbot.config import Config
from reviewbot.timeline.people import Roster
from reviewbot.timeline.snapshot import ChangeSnapshot, ReviewEvent
from reviewbot.timeline.state import final_votes, plus1_replay

if TYPE_CHECKING:
    from reviewbot.timeline.snapshot import ChangeClass

_DAY = timedelta(days=1)
_VOTER = itemgetter(2)  # a ReviewEvent's account


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
    exempt: bool  # a non-priority change exempt from the gate
    gate_applies: bool  # a non-priority, non-exempt change
    jumped_gate: bool  # cast while the patch set was gated (only when gate_applies)


@dataclass(frozen=True, slots=True)
class CoreFigures:
    account_id: int
    username: str
    reviews: int
    priority_reviews: int
    priority_share: float | None
    exempt_reviews: int  # reviews on non-priority changes exempt from the gate
    gate_checked: int  # reviews on non-priority, non-exempt changes (the rest)
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



def code_review_events(changes: Sequence[ChangeSnapshot], as_of: datetime) -> list[ReviewEvent]:
    """The snapshots' Code-Review events up to T, by change and patch set, each patch set's
    in (date, message id) order: the input `core_effort_from_events` reads."""
    out: list[ReviewEvent] = []
    for c in changes:
        events = [e for e in c.vote_events if e.label == "Code-Review" and e.date <= as_of]
        events.sort(key=lambda e: (e.patch_set, e.date, e.message_id))
        out += [(c.number, e.patch_set, e.account_id, 0 if e.removed else e.value, e.date)
                for e in events]
    return out


def measure_core_effort(
    changes: Sequence[ChangeSnapshot],
    roster: Roster,
    classes: Mapping[int, ChangeClass],
    config: Config,
    as_of: datetime,
) -> CoreEffort:
    """Core reviews from the cycle start to T, their priority share, the gate figures."""
    return core_effort_from_events(
        [(c.number, c.owner_id, tuple((p.number, p.created, p.uploader_id) for p in c.patch_sets))
         for c in changes],
        code_review_events(changes, as_of), roster, classes, config, as_of,
    )


def _patch_set_groups(events: Sequence[ReviewEvent]) -> list[tuple[int, int]]:
    """[start, end) index ranges of each (change, patch set) run of the grouped events."""
    bounds: list[tuple[int, int]] = []
    start, number, ps = 0, None, None
    for i, e in enumerate(events):
        if e[1] != ps or e[0] != number:
            if i:
                bounds.append((start, i))
            start, number, ps = i, e[0], e[1]
    if events:
        bounds.append((start, len(events)))
    return bounds


def core_effort_from_events(
    changes: Sequence[tuple[int, int, Sequence[tuple[int, datetime, int | None]]]],
    events: Sequence[ReviewEvent],
    roster: Roster,
    classes: Mapping[int, ChangeClass],
    config: Config,
    as_of: datetime,
) -> CoreEffort:
    """Long on purpose: one hot loop over every patch set's events of the cycle, whose steps
    share its locals (a call per patch set and step would cost more than the step).

    `measure_core_effort` over plain rows: `changes` are (number, owner id, patch sets as
    (number, created, uploader id)); `events` the Code-Review events up to T (none later),
    grouped by change and patch set, in vote order within a patch set. Events of changes
    not listed are ignored."""
    start = day_start(config.cycle.start)
    need = config.gate.min_noncore_plus1
    known = {p.id for p in config.priorities}
    bots = roster.bots
    core_at = roster.core_test()
    by_number = {number: (owner, patch_sets) for number, owner, patch_sets in changes}
    reviews: list[CoreReview] = []
    gate_waits: list[float] = []
    core_waits: list[float] = []

    for i, j in _patch_set_groups(events):
        first = events[i]
        number = first[0]
        found = by_number.get(number)
        if found is None:
            continue
        ps_number = first[1]
        owner, patch_sets = found
        ps_events = events[i:j]
        cls = classes.get(number)
        if cls is None:
            on_priority, exempt, gated_kind = False, False, True
        else:
            on_priority = not known.isdisjoint(cls.priorities)
            exempt = not on_priority and cls.exempt
            gated_kind = not on_priority and not cls.exempt
        final: dict[int, ReviewEvent] = final_votes(ps_events, _VOTER)
        ps_reviews = [
            e for voter, e in final.items()
            if e[3] and voter != owner and e[4] >= start and voter not in bots
            and core_at(voter, e[4])
        ]
        if not gated_kind:
            reviews += [CoreReview(number, ps_number, e[2], e[3], e[4], on_priority, exempt,
                                   False, False)
                        for e in ps_reviews]
            continue
        ps = None
        for candidate in patch_sets:
            if candidate[0] == ps_number:
                ps = candidate
        latency = ps is not None and start <= ps[1] <= as_of
        if not (ps_reviews or latency):
            continue
        plus_after, _openers, opened = plus1_replay(
            ps_events, [core_at(e[2], e[4]) for e in ps_events], owner=owner,
            uploader=ps[2] if ps else None, bots=bots, need=need)
        dates = [e[4] for e in ps_events]
        for e in ps_reviews:
            # Qualifying +1s from the votes cast before this one (strictly earlier).
            before = bisect_left(dates, e[4])
            jumped = (plus_after[before - 1] if before else 0) < need
            reviews.append(
                CoreReview(number, ps_number, e[2], e[3], e[4], on_priority, False, True, jumped)
            )
        if latency and ps is not None and opened is not None:
            gate_waits.append((opened - ps[1]) / _DAY)
            after = [e[4] for e in ps_reviews if e[4] >= opened]
            if after:
                core_waits.append((min(after) - opened) / _DAY)

    return _summarise(reviews, roster, gate_waits, core_waits)


def _summarise(
    reviews: list[CoreReview], roster: Roster, gate_waits: list[float], core_waits: list[float]
) -> CoreEffort:
    per_core: dict[int, list[CoreReview]] = defaultdict(list)
    for r in reviews:
        per_core[r.account_id].append(r)
    cores = []
    for account, rs in per_core.items():
        on_priority = sum(1 for r in rs if r.on_priority)
        exempt = sum(1 for r in rs if r.exempt)
        checked = sum(1 for r in rs if r.gate_applies)
        cores.append(
            CoreFigures(
                account_id=account,
                username=roster.username(account),
                reviews=len(rs),
                priority_reviews=on_priority,
                priority_share=ratio(on_priority, len(rs)),
                exempt_reviews=exempt,
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
