"""The leaderboard's readiness order, as a PTL reasons about who is ready for core.

Table tests over hand-built vote histories (the cast and the History builder of
tests/test_standing.py: ALICE, BOB and 3 are non-cores, CORE and CORE2 are cores,
OWNER owns the changes). Each scenario is a judgement a PTL would make and the
order must make too. As of day 200 with a 180-day window.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from reviewbot.metrics.readiness import (
    SORT_KEYS,
    UnknownSortKey,
    quality_factor,
    readiness,
    sort_key,
    wilson_lower_bound,
)
from reviewbot.metrics.standing import compute_standings
from tests.test_standing import ALICE, BOB, CORE, CORE2, DAY0, ROSTER, History

CAROL = 3
AS_OF = DAY0 + timedelta(days=200)
WINDOW = 180


class Row:
    def __init__(self, username: str, standing) -> None:
        self.username = username
        self.standing = standing
        self.met = 0


def order(history: History, sort: str = "readiness", min_evidence: int = 20) -> list[str]:
    standings = compute_standings(history.build(), ROSTER, as_of=AS_OF, window_days=WINDOW,
                                  weekly=False, detail=False)
    rows = [Row(ROSTER.username(a), s) for a, s in standings.items() if not s.core]
    rows.sort(key=sort_key(sort, min_evidence))
    return [r.username for r in rows]


class Team:
    """Numbers changes for the scenarios; each review is one change judged by a core."""

    def __init__(self) -> None:
        self.h = History()
        self.n = 0

    def review(self, who: int, when: datetime, value: int = 1, verdict: int | None = 2,
               core: int = CORE) -> None:
        """`who` votes `value` on a fresh change; a core's `verdict` follows an hour later
        (None: no core ever votes)."""
        self.n += 1
        self.h.change(self.n)
        self.h.vote(self.n, who, value, when)
        if verdict is not None:
            self.h.vote(self.n, core, verdict, when + timedelta(hours=1))

    def steady(self, who: int, weeks: int, per_week: int, *, disagree_every: int = 0,
               first_week: int = 1) -> None:
        """`per_week` reviews a week for `weeks` weeks; every `disagree_every`-th one is a
        +1 the core then -1s."""
        k = 0
        for week in range(first_week, first_week + weeks):
            for i in range(per_week):
                k += 1
                when = AS_OF - timedelta(days=7 * week, hours=i * 5)
                wrong = disagree_every and k % disagree_every == 0
                self.review(who, when, 1, -1 if wrong else 2)


def test_one_review_at_0_percent_never_outranks_80_reviews_at_10_percent():
    # ALICE: one +1, and the core agreed (0% disagreement on 1 judged review).
    # BOB: 80 reviews over 20 weeks, every 10th one disagreed (10% of 80 judged).
    for spread in (20, 1):  # also when BOB's 80 came in a single week
        team = Team()
        team.review(ALICE, AS_OF - timedelta(days=3))
        team.steady(BOB, weeks=spread, per_week=80 // spread, disagree_every=10)
        assert order(team.h) == ["bob", "alice"], spread
    # Sorted by the disagreement column, ALICE's 0% on one review still comes after BOB's
    # 10% on 80: a ratio on fewer than min_evidence reviews waits behind those with enough.
    assert order(team.h, "disagreement") == ["bob", "alice"]
    assert order(team.h, "disagreement", min_evidence=1) == ["alice", "bob"]


def test_a_burst_of_rubber_stamps_ranks_below_steady_reviewing_over_months():
    # ALICE: 60 +1s in one week, each one agreeing with a core's later +2 (rubber stamps
    # on changes that were going to merge anyway: 0% disagreement on 60 judged).
    # BOB: 2 reviews a week for 20 weeks (40 reviews), 10% disagreeing.
    team = Team()
    for i in range(60):
        team.review(ALICE, AS_OF - timedelta(days=10, minutes=90 * i))
    team.steady(BOB, weeks=20, per_week=2, disagree_every=10)
    assert order(team.h) == ["bob", "alice"]
    # ... although a plain count of reviews (and of judged ones) puts ALICE first.
    assert order(team.h, "reviews")[0] == "alice"
    assert order(team.h, "judged")[0] == "alice"


def test_a_reviewer_whose_minus1s_the_cores_keep_confirming_rises():
    # Three reviewers with the same weeks of work: 1 review a week for 16 weeks, every
    # other one a -1. ALICE's -1s are confirmed by a core -1; BOB's -1s are overturned
    # by a core +2; CAROL's changes see no core vote yet.
    def reviewer_team(minus1_verdict: int | None, who: int, team: Team) -> None:
        for week in range(1, 17):
            when = AS_OF - timedelta(days=7 * week)
            if week % 2:
                team.review(who, when, -1, minus1_verdict)
            else:
                team.review(who, when, 1, 2 if minus1_verdict is not None else None)

    team = Team()
    reviewer_team(-1, ALICE, team)
    reviewer_team(2, BOB, team)
    reviewer_team(None, CAROL, team)
    ranked = order(team.h)
    assert ranked[0] == "alice" and ranked.index("alice") < ranked.index("bob")
    # ALICE rises as the confirmations come in: the same weeks without them rank her
    # readiness at the no-evidence floor.
    standings = compute_standings(team.h.build(), ROSTER, as_of=AS_OF, window_days=WINDOW,
                                  weekly=False, detail=False)
    alice, carol = standings[ALICE].metrics, standings[CAROL].metrics
    assert alice["reviews"] == carol["reviews"] == 16
    assert alice["readiness"] > carol["readiness"]
    assert carol["readiness"] == pytest.approx(16 * 0.8, abs=0.05)


def test_reviews_after_the_cores_decided_do_not_count_towards_readiness():
    # ALICE +1s 30 changes after a core already gave +2 (piling on, nothing for the
    # cores to judge); BOB +1s 10 changes first, one a week. BOB is more ready.
    team = Team()
    for i in range(30):
        team.n += 1
        when = AS_OF - timedelta(days=7 * (i % 10 + 1))
        team.h.change(team.n).vote(team.n, CORE2, 2, when).vote(team.n, ALICE, 1,
                                                                  when + timedelta(hours=1))
    team.steady(BOB, weeks=10, per_week=1)
    assert order(team.h) == ["bob", "alice"]


@pytest.mark.parametrize(("agree", "judged", "low", "high"), [
    (0, 0, 0.0, 0.0),      # no evidence: the lower bound is 0
    (1, 1, 0.0, 0.25),     # one agreeing review is weak evidence
    (18, 20, 0.65, 0.72),  # 90% of 20
    (72, 80, 0.80, 0.85),  # 90% of 80: close to the truth
    (80, 80, 0.95, 1.0),
])
def test_wilson_lower_bound_moves_only_as_far_as_the_evidence(agree, judged, low, high):
    assert low <= wilson_lower_bound(agree, judged) <= high


def test_quality_factor_stays_in_a_modest_range():
    assert quality_factor(0, 0) == pytest.approx(0.8)
    assert 0.8 <= quality_factor(100, 100) <= 1.2
    assert quality_factor(1000, 0) == pytest.approx(1.2, abs=0.01)
    # Volume dominates: 4 reviews a week for 10 weeks at 50% agreement beat one review a
    # week for 10 weeks at 100%.
    assert readiness([4] * 10, 40, 20) > readiness([1] * 10, 10, 0)


def test_unknown_sort_key_names_the_valid_ones():
    with pytest.raises(UnknownSortKey) as err:
        sort_key("popularity", 20)
    assert "popularity" in str(err.value)
    assert all(key in str(err.value) for key in SORT_KEYS)
