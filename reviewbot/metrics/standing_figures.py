"""Standing figures: the review-quality metrics of one reviewer, from judged reviews or
from counts of them (DESIGN "Review-quality metrics").

Pure. The judging walk (`reviewbot.metrics.judging`) fills the `Review`s, the tallies
(`reviewbot.metrics.tallies`) and the store (`reviewbot.store.judgements`) count them into
`COUNTED` order; every path ends in `metrics_from_counts`, so the figures have one formula.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reviewbot.metrics.readiness import readiness, week_back, window_weeks
from reviewbot.timeline.people import Roster
from reviewbot.timeline.snapshot import COUNTED, CommentFacts, CREvent, ReviewedChange

THOUGHTFUL_FREE_TEXT = 40  # characters of free text that make a -1 "thoughtful"
QUICK_PLUS1 = timedelta(minutes=10)  # warning: +1 this soon after upload ...
LARGE_PATCH_LINES = 200  # ... of a patch set with more changed lines than this
OWNER_SHARE_WARNING = 0.5  # warning: more than this share of +1s on one owner's changes ...
OWNER_SHARE_MIN_PLUS1 = 10  # ... once there are this many +1s (a sample, not a coincidence)
SPARKLINE_WEEKS = 52

# What every figure is computed from, per reviewer (`COUNTED`, from the plain types: the
# store sums its stored judgements into the same order); positions:
(_REVIEWS, _POSITIVE, _JUDGED, _DISAGREE, _JUDGED_PLUS1, _PLUS1_RIGHT, _MINUS1, _CAUGHT,
 _THOUGHTFUL, _GATE, _GATE_CONFIRMED, _FIRST_CRACK, _PRIORITY, _QUICK, _PLUS1,
 _JUDGEABLE) = range(len(COUNTED))


@dataclass(slots=True)
class Review:
    """One counted review, with every judgement the metrics use (so a page can show them)."""

    change_number: int
    patch_set: int
    project: str
    owner_id: int
    account_id: int
    value: int
    date: datetime
    message_id: str
    core_at_time: bool
    priority: bool
    thoughtful: bool
    verdict: CREvent | None = None  # the newest core review on the patch set (up to T)
    judged: bool = False
    disagrees: bool = False
    caught: bool = False  # -1 only: newer owner upload, or a core -1/-2 on the patch set
    gate_open: bool = False
    gate_open_confirmed: bool = False
    first_crack: bool = False
    quick_large_plus1: bool = False


@dataclass
class Standing:
    account_id: int
    as_of: datetime
    window_start: datetime
    core: bool
    metrics: dict[str, float | int | None]
    reviews: list[Review]  # the window's reviews, oldest first (empty if detail=False)
    comments: list[CommentFacts]
    weekly: list[int]  # reviews per week, oldest first, the last week ending at as_of
    warnings: list[str] = field(default_factory=list)
    # Reviews per 7-day week of the window (oldest first, the last ending at as_of): the
    # leaderboard's sparkline.
    window_weekly: list[int] = field(default_factory=list)

    @property
    def feed(self) -> list[Review]:
        """The learning feed: judged reviews the verdict disagreed with, newest first."""
        return sorted((r for r in self.reviews if r.disagrees),
                      key=lambda r: (r.date, r.change_number), reverse=True)


def window_start(as_of: datetime, window_days: int) -> datetime:
    """A window of N days as of T is [T - N days, T], both ends included."""
    return as_of - timedelta(days=window_days)


def history_start(as_of: datetime, window_days: int) -> datetime:
    """Earliest review time any figure needs: the window or the 52-week sparkline."""
    return as_of - timedelta(days=max(window_days, SPARKLINE_WEEKS * 7))


def weekly_from_dates(dates: Iterable[datetime], as_of: datetime) -> list[int]:
    """Reviews per 7-day week for the 52 weeks ending at `as_of`, oldest first."""
    counts = [0] * SPARKLINE_WEEKS
    week = timedelta(days=7)
    for date in dates:
        back = (as_of - date) // week
        if 0 <= back < SPARKLINE_WEEKS:
            counts[SPARKLINE_WEEKS - 1 - back] += 1
    return counts


def _ratio(part: int, whole: int) -> float | None:
    # A ratio with no denominator is "no figure", never 0.
    return part / whole if whole else None


Weeks = tuple[list[int], list[int]]  # (reviews, judgeable reviews) per week, oldest first


def empty_weeks(window_days: int) -> Weeks:
    n = window_weeks(window_days)
    return [0] * n, [0] * n


def weeks_of(reviews: Iterable[Review], as_of: datetime, start: datetime) -> Weeks:
    """The window's reviews and judgeable reviews per 7-day week, oldest first."""
    weekly, judgeable = empty_weeks((as_of - start).days)
    last = len(weekly) - 1
    for r in reviews:
        back = week_back(as_of, r.date)
        if 0 <= back <= last:
            weekly[last - back] += 1
            if r.judged or r.first_crack:
                judgeable[last - back] += 1
    return weekly, judgeable


def metrics_of(reviews: Sequence[Review], comments_only: int,
               weeks: Weeks) -> dict[str, float | int | None]:
    counts = [0] * len(COUNTED)
    changes: set[int] = set()
    months: set[tuple[int, int]] = set()
    for r in reviews:
        changes.add(r.change_number)
        months.add((r.date.year, r.date.month))
        count_review(counts, r.value, r.judged, r.disagrees, r.caught, r.thoughtful,
                      r.gate_open, r.gate_open_confirmed, r.first_crack, r.priority,
                      r.quick_large_plus1)
    return metrics_from_counts(counts, len(changes), len(months), comments_only, weeks)


def count_review(c: list[int], value: int, judged: bool, disagrees: bool, caught: bool,
                  thoughtful: bool, gate_open: bool, confirmed: bool, first_crack: bool,
                  priority: bool, quick: bool) -> None:
    """Add one review's judgements to counts in `COUNTED` order."""
    c[_REVIEWS] += 1
    if value > 0:
        c[_POSITIVE] += 1
        if value == 1:
            c[_PLUS1] += 1
    if judged:
        c[_JUDGED] += 1
        if disagrees:
            c[_DISAGREE] += 1
        if value == 1:
            c[_JUDGED_PLUS1] += 1
            if not disagrees:  # a +1 that agrees: the verdict was positive
                c[_PLUS1_RIGHT] += 1
    if value == -1:
        c[_MINUS1] += 1
        if caught:
            c[_CAUGHT] += 1
        if thoughtful:
            c[_THOUGHTFUL] += 1
    if gate_open:
        c[_GATE] += 1
        if confirmed:
            c[_GATE_CONFIRMED] += 1
    if first_crack:
        c[_FIRST_CRACK] += 1
    if priority:
        c[_PRIORITY] += 1
    if quick:
        c[_QUICK] += 1
    if judged or first_crack:
        c[_JUDGEABLE] += 1


def weekly_counts_by_account(
    events: Iterable[CREvent],
    changes: dict[int, ReviewedChange],
    roster: Roster,
    as_of: datetime,
    accounts: Collection[int] | None = None,
) -> dict[int, list[int]]:
    """Reviews per 7-day week for the 52 weeks ending at `as_of` (oldest first), per account.

    A light pass: a review's date needs only the reviewer's own events (the final
    non-zero one on a patch set of someone else's change), no verdicts."""
    latest: dict[tuple[int, int, int], CREvent] = {}
    # Read by position (CREvent field order): the store may pass plain tuples.
    for e in events:
        number, ps, account, date = e[0], e[1], e[2], e[4]
        if date > as_of or number not in changes or roster.is_bot(account):
            continue
        if accounts is not None and account not in accounts:
            continue
        key = (number, ps, account)
        seen = latest.get(key)
        if seen is None or (date, e[6]) > (seen[4], seen[6]):
            latest[key] = e
    dates: dict[int, list[datetime]] = defaultdict(list)
    for (number, _ps, account), e in latest.items():
        if e[3] != 0 and changes[number].owner_id != account:
            dates[account].append(e[4])
    return {account: weekly_from_dates(d, as_of) for account, d in dates.items()}


def warnings_of(reviews: Sequence[Review], roster: Roster) -> list[str]:
    """Context, not score: quick +1s on large uploads, and +1s concentrated on one owner."""
    plus1_owners = Counter(r.owner_id for r in reviews if r.value == 1)
    return warnings_text(sum(r.quick_large_plus1 for r in reviews),
                         sum(plus1_owners.values()), dominant_owner(plus1_owners), roster)


def dominant_owner(plus1_owners: Counter[int]) -> tuple[int, int] | None:
    """The owner with more than half of these +1s, and how many, if there is one."""
    if not plus1_owners:
        return None
    owner, n = plus1_owners.most_common(1)[0]
    return (owner, n) if n / sum(plus1_owners.values()) > OWNER_SHARE_WARNING else None


def warnings_text(quick: int, plus1_total: int, dominant: tuple[int, int] | None,
                  roster: Roster) -> list[str]:
    out = []
    if quick:
        out.append(
            f"{quick} +1 review(s) cast within 10 minutes of the upload of a patch set "
            f"with more than {LARGE_PATCH_LINES} changed lines."
        )
    if dominant is not None and plus1_total >= OWNER_SHARE_MIN_PLUS1:
        owner, n = dominant
        out.append(
            f"{n} of {plus1_total} +1 reviews ({n / plus1_total:.0%}) are on changes "
            f"owned by {roster.username(owner)}."
        )
    return out



def comments_by_person(comment_counts: Mapping[int, int], roster: Roster) -> Counter[int]:
    """Comment-only messages per author of the window, bots left out (bots are never
    reviewers)."""
    return Counter({author: n for author, n in comment_counts.items()
                    if n and not roster.is_bot(author)})


def metrics_from_counts(
    c: Sequence[int], changes_reviewed: int, months_active: int, comments_only: int,
    weeks: Weeks,
) -> dict[str, float | int | None]:
    """The figures from per-reviewer counts (positions as in `Tally.counts`) and the
    window's weeks; the same formulas as `metrics_of`. Stored judgements are counted in
    SQL into the same shape."""
    return {
        "reviews": c[_REVIEWS],
        "changes_reviewed": changes_reviewed,
        "comments_only": comments_only,
        "positive_ratio": _ratio(c[_POSITIVE], c[_REVIEWS]),
        "judged_reviews": c[_JUDGED],
        "disagreement_ratio": _ratio(c[_DISAGREE], c[_JUDGED]),
        "plus1_precision": _ratio(c[_PLUS1_RIGHT], c[_JUDGED_PLUS1]),
        "minus1_catch_rate": _ratio(c[_CAUGHT], c[_MINUS1]),
        "thoughtful_minus1": c[_THOUGHTFUL],
        "gate_opens": c[_GATE],
        "gate_opens_confirmed": c[_GATE_CONFIRMED],
        "first_crack": c[_FIRST_CRACK],
        "priority_share": _ratio(c[_PRIORITY], c[_REVIEWS]),
        "months_active": months_active,
        "judgeable_reviews": c[_JUDGEABLE],
        "judged_plus1": c[_JUDGED_PLUS1],
        "minus1_reviews": c[_MINUS1],
        "weeks_active": sum(1 for n in weeks[0] if n),
        "readiness": readiness(weeks[1], c[_JUDGED], c[_DISAGREE]),
    }
