"""Standing: the judging walk, every Code-Review vote judged against what the cores later
decided on the same patch set (DESIGN "Review-quality metrics").

Pure; the store builds the facts (`reviewbot.store.review_reads`), tests build them by
hand. Only Code-Review vote events are inputs; bots are never reviewers. This is the hot
loop of standing: events are read by position (the store passes plain tuples in
`CREvent`'s field order), one walk per patch set decides what every reviewer of it shares
(verdict, core -1s, the gate's openings), then each reviewer's final vote is judged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from itertools import groupby
from operator import itemgetter
from typing import Any, Generic, TypeVar

from reviewbot.metrics.standing_figures import (
    LARGE_PATCH_LINES,
    QUICK_PLUS1,
    Review,
    count_review,
)
from reviewbot.metrics.tallies import Tallies
from reviewbot.timeline.people import Roster
from reviewbot.timeline.snapshot import (
    CREvent,
    PatchSetFacts,
    ReviewedChange,
    ReviewHistory,
)
from reviewbot.timeline.state import plus1_replay

# Bump when a judgement's definition changes (the code, not the thresholds in
# `standing_figures`, which the fingerprint holds): stored judgements of an older version
# are thrown away and judged again (`reviewbot.evaluate.review_judgements`).
JUDGING_VERSION = 1


def judge_all_reviews(history: ReviewHistory, roster: Roster,
                      min_noncore_plus1: int = 1) -> list[tuple[Any, ...]]:
    """Every review in `history`, judged on everything in it (no as-of cut, no window):
    what the store keeps so that standing as of now reads one row per review. Plain
    tuples in `JudgedReview`'s field order (`Review`'s), the verdict as the event the
    history holds: the store builds its rows from them by position, and a whole store
    from scratch is 100k+ reviews (a namedtuple each cost ~13 % of judging them)."""
    walk = _Walk(history, roster, min_noncore_plus1, datetime.max, datetime.min, None, None,
                 tuple)
    walk.run(_vote_order(history, roster, datetime.max))
    return walk.out


def judge_reviews(
    history: ReviewHistory,
    roster: Roster,
    as_of: datetime,
    start: datetime,
    min_noncore_plus1: int,
    accounts: Collection[int] | None,
    tally: Tallies | None = None,
) -> list[Review]:
    """Every review in the window with its judgements; with `tally`, the reviews are
    counted into it per reviewer instead (a leaderboard needs only the figures)."""
    walk = _Walk(history, roster, min_noncore_plus1, as_of, start, accounts, tally,
                 _review_of)
    walk.run(_vote_order(history, roster, as_of))
    return walk.out


def _vote_order(history: ReviewHistory, roster: Roster, as_of: datetime) -> list[CREvent]:
    """The events the judging reads (up to `as_of`, on known changes, no bot's) in vote
    order."""
    changes, bots = history.changes, roster.bots
    events = [e for e in history.events
              if e[4] <= as_of and e[0] in changes and e[2] not in bots]
    events.sort(key=_VOTE_ORDER)
    return events


def _review_of(fields: tuple[Any, ...]) -> Review:
    return Review(*fields)


# What one walk over a patch set's events finds, shared by every reviewer of it (a plain
# tuple: it is made once per patch set on the hot path):
# - per event: its voter was core at the vote's time
# - account -> index of its latest event
# - the first vote event of any core's date (None: no core voted)
# - the cores with a -1/-2 vote event
# - the latest core +2's date
# - the index of the verdict (the newest core review), -1 if none; the verdict; is it positive
# - account -> when its +1 opened the gate
_Votes = tuple[list[bool], dict[int, int], datetime | None, set[int], datetime | None,
               int, CREvent | None, bool, Mapping[int, datetime]]


def _patch_set_votes(ps_events: Sequence[CREvent], is_core: Callable[[int, datetime], bool],
                     change: ReviewedChange, ps: PatchSetFacts | None, bots: frozenset[int],
                     need: int, as_review: bool) -> _Votes:
    """One walk over a patch set's events in vote order; `as_review`: the verdict becomes
    a `CREvent` (a `Review` keeps it), else it stays as the store passed it."""
    owner = change.owner_id
    core_flags: list[bool] = []
    latest: dict[int, int] = {}
    first_core_date: datetime | None = None
    core_negative: set[int] = set()
    last_core_plus2: datetime | None = None  # events are in date order: the latest
    i = 0
    for e in ps_events:
        account = e[2]
        core = is_core(account, e[4])
        core_flags.append(core)
        latest[account] = i
        i += 1
        if core:
            if first_core_date is None:
                first_core_date = e[4]
            value = e[3]
            if value < 0:
                core_negative.add(account)
            elif value >= 2:
                last_core_plus2 = e[4]
    # The verdict: the newest core review (final non-zero vote, not on own change).
    verdict_idx = -1
    if first_core_date is not None:
        for account, i in latest.items():
            if i > verdict_idx and core_flags[i] and account != owner and ps_events[i][3]:
                verdict_idx = i
    verdict = ps_events[verdict_idx] if verdict_idx >= 0 else None
    verdict_positive = verdict is not None and verdict[3] > 0
    if as_review and verdict is not None and type(verdict) is not CREvent:
        verdict = CREvent._make(verdict)  # the store passes plain tuples
    opened_at: Mapping[int, datetime] = _NO_OPENINGS
    if not (change.priority or change.exempt):
        _after, opened_at, _first = plus1_replay(
            ps_events, core_flags, owner=owner, uploader=ps.uploader_id if ps else None,
            bots=bots, need=need)
    return (core_flags, latest, first_core_date, core_negative, last_core_plus2,
            verdict_idx, verdict, verdict_positive, opened_at)


# What the walk makes of each judged review: a `Review` (pages), or the plain tuple the
# store's row is made from (`tuple` of the fields tuple is that tuple itself).
_Judged = TypeVar("_Judged", Review, tuple[Any, ...])


class _Walk(Generic[_Judged]):
    """What the judging walk keeps across patch sets: its bounds, where the judged reviews
    go (a list of `Review`s, or counted into tallies) and the owner uploads."""

    __slots__ = ("changes", "patch_sets", "is_core", "bots", "need", "as_of", "start",
                 "accounts", "tally", "make", "out", "_uploads")

    def __init__(self, history: ReviewHistory, roster: Roster, need: int, as_of: datetime,
                 start: datetime, accounts: Collection[int] | None,
                 tally: Tallies | None, make: Callable[[tuple[Any, ...]], _Judged]) -> None:
        self.changes = history.changes
        self.patch_sets: Mapping[tuple[int, int], PatchSetFacts] = history.patch_sets
        self.is_core = roster.core_test()
        self.bots = roster.bots
        self.need = need  # qualifying non-core +1s that open the gate
        self.as_of = as_of
        self.start = start
        self.accounts = accounts
        self.tally = tally
        # A judged review's fields, in `Review`'s order, become what `out` holds.
        self.make: Callable[[tuple[Any, ...]], _Judged] = make
        self.out: list[_Judged] = []
        # Uploads per change up to as-of, for "the owner uploaded a newer patch set after
        # the vote"; built on first need (only -1 reviews ask).
        self._uploads: dict[int, list[PatchSetFacts]] | None = None

    def newer_owner_upload(self, number: int, ps_number: int, date: datetime,
                           owner: int) -> bool:
        """Did the owner (or an unknown uploader) upload a newer patch set after `date`?"""
        if self._uploads is None:
            self._uploads = defaultdict(list)
            for p in self.patch_sets.values():
                if p.created <= self.as_of:
                    self._uploads[p.change_number].append(p)
        for later in self._uploads.get(number, ()):
            if later.number > ps_number and later.created > date \
                    and later.uploader_id in (owner, None):
                return True
        return False

    def run(self, events: Sequence[CREvent]) -> None:
        """Judge every reviewer's final vote on each patch set of `events` (in vote order):
        kept as a `Review`, or counted into the tallies."""
        # Hot loop (~65 lines on purpose: a call per patch set or per review would slow
        # every leaderboard): every value a review needs is a local.
        start, accounts, tally, as_of = self.start, self.accounts, self.tally, self.as_of
        changes, patch_sets, is_core = self.changes, self.patch_sets, self.is_core
        bots, need, append, make = self.bots, self.need, self.out.append, self.make
        # A `Review` keeps its verdict as a CREvent; a plain tuple keeps the store's.
        as_review = tally is None and make is not tuple
        for (number, ps_number), group in groupby(events, key=_PATCH_SET):
            ps_events = list(group)
            # Events are in vote order: a patch set whose last event is before the window
            # holds no review to count.
            if ps_events[-1][4] < start:
                continue
            if accounts is not None and not any(e[2] in accounts for e in ps_events):
                continue
            change = changes[number]
            owner, priority = change.owner_id, change.priority
            ps = patch_sets.get((number, ps_number))
            (core_flags, latest, first_core_date, core_negative, last_core_plus2,
             verdict_idx, verdict, verdict_positive, opened_at) = _patch_set_votes(
                ps_events, is_core, change, ps, bots, need, as_review)
            # A +1 this soon after the upload of a large patch set is a warning.
            large_since = ps.created if ps is not None and ps.size > LARGE_PATCH_LINES \
                else None
            for account, i in latest.items():
                e = ps_events[i]
                value = e[3]
                date = e[4]
                if value == 0 or account == owner or date < start:
                    continue
                if accounts is not None and account not in accounts:
                    continue
                judged = verdict_idx > i
                caught = gate_open = confirmed = quick = False
                if value == -1:
                    caught = (bool(core_negative) and bool(core_negative - {account})) \
                        or self.newer_owner_upload(number, ps_number, date, owner)
                elif value == 1:
                    opened = opened_at.get(account)
                    if opened is not None:
                        gate_open = True
                        confirmed = last_core_plus2 is not None and last_core_plus2 > opened
                    if large_since is not None:
                        quick = _ZERO <= date - large_since <= QUICK_PLUS1
                first_crack = not core_flags[i] and (first_core_date is None
                                                     or date < first_core_date)
                disagrees = judged and (value > 0) != verdict_positive
                if tally is not None:
                    t = tally.get(account)
                    if t is None:
                        t = tally[account] = tally.new()
                    t.changes.add(number)
                    t.months.add((date.year, date.month))
                    if value == 1:
                        t.plus1_owners[owner] += 1
                    count_review(t.counts, value, judged, disagrees, caught, e[7], gate_open,
                                 confirmed, first_crack, priority, quick)
                    back = t.last - (as_of - date) // _WEEK
                    t.weeks[0][back] += 1
                    if judged or first_crack:
                        t.weeks[1][back] += 1
                    continue
                append(make((number, ps_number, change.project, owner, account, value, date,
                             e[5], core_flags[i], priority, bool(e[7]),
                             verdict if judged else None, judged, disagrees, caught,
                             gate_open, confirmed, first_crack, quick)))


_ZERO = timedelta(0)
_WEEK = timedelta(days=7)
_NO_OPENINGS: dict[int, datetime] = {}
_VOTE_ORDER = itemgetter(0, 1, 4, 6)  # change, patch set, date, order
_PATCH_SET = itemgetter(0, 1)
