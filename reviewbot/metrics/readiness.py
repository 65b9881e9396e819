"""Standing: the leaderboard's readiness order, and the sort keys every leaderboard column offers.

Pure functions. Readiness answers the PTL's question "who is ready to be
proposed for core?" the way a team decides it: by a steady record of reviews
the cores could check, over months, with quality counted only as far as
there is evidence for it.

- *Activity*: the window is cut into 7-day weeks counted back from the as-of
  time; each week adds the square root of its judgeable reviews (reviews cast
  before the cores decided that patch set: judged ones, and those no core had
  voted on yet). Steady weeks add up, a burst has diminishing returns:
  60 reviews in one week add 7.7, 3 a week for 20 weeks add 34.6.
- *Quality*: a factor between 0.8 and 1.2 from the lower end of the 95%
  Wilson interval of the reviewer's agreement with the cores' verdicts
  (1 - disagreement ratio) on judged reviews. No judged reviews give its lower
  end, 0.8; a few agreeing reviews move it little; 80 judged at 90% agreement
  give 1.12. Its range is kept modest so that volume dominates.
- Readiness = activity x quality; ties: more reviews first, then the name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from math import sqrt
from typing import Protocol

WEEK = timedelta(days=7)
Z95 = 1.959964  # two-sided 95% normal quantile, for the Wilson interval
QUALITY_FLOOR = 0.8  # quality factor with no evidence (a lower bound of 0)
QUALITY_SPAN = 0.4  # ... and how far perfect agreement on much evidence lifts it


def window_weeks(window_days: int) -> int:
    """How many 7-day weeks, counted back from as-of, a window of N days touches."""
    return window_days // 7 + 1


def week_back(as_of: datetime, date: datetime) -> int:
    """0 for the week ending at `as_of`, 1 for the one before, and so on."""
    return (as_of - date) // WEEK


def wilson_lower_bound(successes: int, trials: int, z: float = Z95) -> float:
    """Lower end of the Wilson score interval for a proportion (0 with no trials)."""
    if trials <= 0:
        return 0.0
    p = successes / trials
    z2 = z * z
    centre = p + z2 / (2 * trials)
    margin = z * sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return max(0.0, (centre - margin) / (1 + z2 / trials))


def activity(weekly_judgeable: Sequence[int]) -> float:
    """Sum over the window's weeks of sqrt(judgeable reviews that week)."""
    return sum(sqrt(n) for n in weekly_judgeable if n > 0)


def quality_factor(judged: int, disagrees: int) -> float:
    """0.8 .. 1.2: 0.8 + 0.4 x the Wilson lower bound of agreement on judged reviews."""
    return QUALITY_FLOOR + QUALITY_SPAN * wilson_lower_bound(judged - disagrees, judged)


def readiness(weekly_judgeable: Sequence[int], judged: int, disagrees: int) -> float:
    """The default order's score (rounded to 0.1, the precision the pages show)."""
    return round(activity(weekly_judgeable) * quality_factor(judged, disagrees), 1)


# --- sorting the leaderboard ----------------------------------------------------------

# key -> (column label, the metric it sorts by, best first is "high" or "low",
#         the metric counting a ratio's evidence, or None for counts)
SORT_KEYS: dict[str, tuple[str, str, str, str | None]] = {
    "readiness": ("Readiness", "readiness", "high", None),
    "reviewer": ("Reviewer", "", "low", None),
    "criteria_met": ("Criteria met", "", "high", None),
    "reviews": ("Reviews", "reviews", "high", None),
    "judged": ("Judged", "judged_reviews", "high", None),
    "weeks_active": ("Weeks active", "weeks_active", "high", None),
    "months_active": ("Months active", "months_active", "high", None),
    "changes": ("Changes reviewed", "changes_reviewed", "high", None),
    "disagreement": ("Disagreement", "disagreement_ratio", "low", "judged_reviews"),
    "plus1_precision": ("+1 precision", "plus1_precision", "high", "judged_plus1"),
    "catch_rate": ("-1 catch rate", "minus1_catch_rate", "high", "minus1_reviews"),
    "thoughtful": ("Thoughtful -1s", "thoughtful_minus1", "high", None),
    "gate_opens": ("Gate opens", "gate_opens", "high", None),
    "first_crack": ("First crack", "first_crack", "high", None),
    "priority_share": ("Priority share", "priority_share", "high", "reviews"),
    "comments": ("Comments only", "comments_only", "high", None),
}
DEFAULT_SORT = "readiness"


class UnknownSortKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(f"unknown sort key {key!r}; valid keys: {', '.join(SORT_KEYS)}")


class _HasMetrics(Protocol):
    @property
    def metrics(self) -> Mapping[str, float | int | None]: ...


class LeaderboardRow(Protocol):
    """What `sort_key` reads of a leaderboard row (`views.standing_view.ReviewerReport`)."""

    @property
    def username(self) -> str: ...
    @property
    def met(self) -> int: ...
    @property
    def standing(self) -> _HasMetrics: ...


# A row's place: numbers and the name, compared element by element.
SortKey = tuple[float | str, ...]


def sort_key(key: str, min_evidence: int) -> Callable[[LeaderboardRow], SortKey]:
    """A sort key for leaderboard rows (objects with `.username`, `.met` and
    `.standing.metrics`): best first by `key`, then readiness, reviews and name.

    A ratio column lists the reviewers with at least `min_evidence` in its count
    first (evidence first: a 0% disagreement on one review is not a leader), then
    the rest; a missing ratio comes last."""
    if key not in SORT_KEYS:
        raise UnknownSortKey(key)
    _label, metric, best, evidence = SORT_KEYS[key]

    def order(row: LeaderboardRow) -> SortKey:
        m = row.standing.metrics
        if key == "reviewer":
            primary: SortKey = (row.username.casefold(),)
        elif key == "criteria_met":
            primary = (-row.met,)
        else:
            value = m.get(metric)
            enough = evidence is None or (m.get(evidence) or 0) >= min_evidence
            if value is None:
                primary = (2, 0.0)
            else:
                primary = (0 if enough else 1, -value if best == "high" else value)
        return (*primary, -(m.get("readiness") or 0), -(m.get("reviews") or 0),
                row.username)
    return order


def ratio_text(value: float | None, count: int | None, of: str) -> str:
    """A ratio with the count behind it: "18% of 22 judged" ("no figure (0 judged)")."""
    if value is None:
        return f"no figure (0 {of})"
    return f"{value:.0%} of {count or 0} {of}"
