"""Standing tallies: each reviewer's counts for one window, counted review by review (no
`Review` objects kept) or read from counts the store made, and the leaderboard's standings
built from them.

Pure. The judging walk (`reviewbot.metrics.judging`) counts replayed reviews into tallies,
`tallies_from_settled` and `order_tallies` take the store's counts of stored judgements
(`reviewbot.store.judgements`); `Tallies.merged` adds the two over disjoint changes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from reviewbot.metrics.readiness import window_weeks
from reviewbot.metrics.standing_figures import (
    SPARKLINE_WEEKS,
    Standing,
    Weeks,
    comments_by_person,
    dominant_owner,
    metrics_from_counts,
    warnings_text,
    window_start,
)
from reviewbot.timeline.people import Roster
from reviewbot.timeline.snapshot import COUNTED, SettledCounts

_REVIEWS, _JUDGED, _DISAGREE, _QUICK, _PLUS1 = (
    COUNTED.index(name) for name in ("reviews", "judged", "disagrees", "quick_large_plus1",
                                     "plus1"))


class Tally:
    """One reviewer's figures counted review by review (no Review objects kept)."""

    __slots__ = ("counts", "changes", "changes_elsewhere", "months", "plus1_owners", "weeks",
                 "last")

    def __init__(self, n_weeks: int) -> None:
        self.counts = [0] * len(COUNTED)
        self.changes: set[int] = set()
        self.changes_elsewhere = 0  # changes counted in SQL, none of them in `changes`
        self.months: set[tuple[int, int]] = set()
        self.plus1_owners: Counter[int] = Counter()
        self.weeks: Weeks = ([0] * n_weeks, [0] * n_weeks)
        self.last = n_weeks - 1

    def metrics(self, comments_only: int) -> dict[str, float | int | None]:
        return metrics_from_counts(self.counts, len(self.changes) + self.changes_elsewhere,
                                   len(self.months), comments_only, self.weeks)

    def warnings(self, roster: Roster) -> list[str]:
        return warnings_text(self.counts[_QUICK], self.counts[_PLUS1],
                             dominant_owner(self.plus1_owners), roster)


class Tallies(dict[int, Tally]):
    """Tallies per reviewer for one window (each knows the window's weeks)."""

    def __init__(self, as_of: datetime, start: datetime) -> None:
        super().__init__()
        self.as_of = as_of
        self.n_weeks = window_weeks((as_of - start).days)

    def new(self) -> Tally:
        return Tally(self.n_weeks)

    def add_counted(self, account: int, counts: Sequence[int], changes: int) -> Tally:
        """A reviewer's counts (in `COUNTED` order) and changes reviewed, counted in SQL
        over changes none of which this tally's own reviews are on."""
        t = self.get(account)
        if t is None:
            t = self[account] = self.new()
        t.counts = [a + b for a, b in zip(t.counts, counts, strict=True)]
        t.changes_elsewhere += changes
        return t

    def add_week(self, account: int, year_month: tuple[int, int], weeks_back: int,
                 reviews: int, judgeable: int) -> None:
        t = self.get(account)
        if t is None:
            t = self[account] = self.new()
        t.months.add(year_month)
        t.weeks[0][t.last - weeks_back] += reviews
        t.weeks[1][t.last - weeks_back] += judgeable

    def merged(self, other: Mapping[int, Tally]) -> Tallies:
        """These tallies plus `other`'s, over disjoint sets of changes: counts and weeks
        add up, changes, months and +1 owners are unions."""
        for account, o in other.items():
            t = self.get(account)
            if t is None:
                self[account] = o
                continue
            t.counts = [a + b for a, b in zip(t.counts, o.counts, strict=True)]
            t.changes |= o.changes
            t.changes_elsewhere += o.changes_elsewhere
            t.months |= o.months
            t.plus1_owners.update(o.plus1_owners)
            for mine, theirs in zip(t.weeks, o.weeks, strict=True):
                for i, n in enumerate(theirs):
                    mine[i] += n
        return self


def new_tallies(as_of: datetime, window_days: int) -> Tallies:
    return Tallies(as_of, window_start(as_of, window_days))


def tallies_from_settled(settled: Iterable[SettledCounts], *, as_of: datetime,
                         window_days: int) -> Tallies:
    """Tallies from the settled changes' stored judgements counted in SQL
    (`store.judgements.settled_counts`): the same tallies `tally_reviews` gives for
    those changes' reviews, to be `merged` with the rest."""
    tallies = new_tallies(as_of, window_days)
    for s in settled:
        t = tallies.add_counted(s.account_id, s.counts, s.changes)
        t.months.update((m // 12, m % 12 + 1) for m in s.months)
        for back, (reviews, judgeable) in s.weeks.items():
            t.weeks[0][t.last - back] += reviews
            t.weeks[1][t.last - back] += judgeable
        t.plus1_owners.update(s.plus1_owners)
    return tallies


def order_tallies(rows: Iterable[tuple[int, int, int, int, int, int]], *, as_of: datetime,
                  window_days: int) -> Tallies:
    """Tallies holding only what the readiness order reads (reviews, judged, disagreeing,
    judgeable per week; every other count 0), from (reviewer, weeks back, reviews,
    judgeable, judged, disagreeing) rows (`store.judgements.settled_order_counts`)."""
    tallies = new_tallies(as_of, window_days)
    for account, back, n, judgeable, judged, disagrees in rows:
        counts = [0] * len(COUNTED)
        counts[_REVIEWS], counts[_JUDGED], counts[_DISAGREE] = n, judged, disagrees
        t = tallies.add_counted(account, counts, 0)
        t.weeks[0][t.last - back] += n
        t.weeks[1][t.last - back] += judgeable
    return tallies


def standings_from_tallies(tallies: Mapping[int, Tally], comment_counts: Mapping[int, int],
                           roster: Roster, *, as_of: datetime,
                           window_days: int) -> dict[int, Standing]:
    """The leaderboard's standings from tallies and the window's comment-only messages
    counted per author: the same figures as `compute_standings(detail=False,
    weekly=False)`."""
    start = window_start(as_of, window_days)
    comments_only = comments_by_person(comment_counts, roster)
    none = Tally(window_weeks(window_days))
    result = {}
    for account in tallies.keys() | comments_only.keys():
        t = tallies.get(account, none)
        result[account] = Standing(
            account_id=account, as_of=as_of, window_start=start,
            core=roster.is_core(account, as_of), metrics=t.metrics(comments_only[account]),
            reviews=[], comments=[], weekly=[0] * SPARKLINE_WEEKS,
            warnings=t.warnings(roster),
            window_weekly=list(t.weeks[0]),
        )
    return result
