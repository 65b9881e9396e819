"""Review-quality metrics: one table test per metric over small hand-built vote histories.

Cast: ALICE and BOB are non-core reviewers, CORE and CORE2 are core all along,
NEWCORE became core on day 10 (core_history), OWNER owns the changes, UPLOADER
uploads a patch set for the owner, BOT is in the bot group. Hours count from
day 0 = 2017-01-01 00:00 UTC; as of T = day 30 unless a test says otherwise.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from reviewbot.config import Criteria
from reviewbot.metrics.criteria import criteria_met, evaluate_criteria
from reviewbot.metrics.standing import compute_standings, standing_of
from reviewbot.timeline.people import CoreSpell, Roster
from reviewbot.timeline.snapshot import (
    CommentFacts,
    CREvent,
    PatchSetFacts,
    ReviewedChange,
    ReviewHistory,
)

ALICE, BOB, CORE, CORE2, NEWCORE, OWNER, UPLOADER, BOT = 1, 2, 10, 11, 12, 20, 21, 99
DAY0 = datetime(2017, 1, 1)
T = DAY0 + timedelta(days=30)

ROSTER = Roster(
    core_now=frozenset({CORE, CORE2}),
    bots=frozenset({BOT}),
    history={NEWCORE: (CoreSpell(DAY0 + timedelta(days=10), None),)},
    usernames={ALICE: "alice", BOB: "bob", CORE: "core", CORE2: "core2", NEWCORE: "newcore",
               OWNER: "owner", UPLOADER: "uploader", BOT: "zuul"},
)


def h(hours: float, day: int = 1) -> datetime:
    return DAY0 + timedelta(days=day, hours=hours)


class History:
    """Builds a ReviewHistory; each change gets patch set 1 uploaded by the owner at day 0."""

    def __init__(self) -> None:
        self.changes: dict[int, ReviewedChange] = {}
        self.patch_sets: dict[tuple[int, int], PatchSetFacts] = {}
        self.events: list[CREvent] = []
        self.comments: list[CommentFacts] = []

    def change(self, number: int, owner: int = OWNER, *, priority: bool = False,
               exempt: bool = False, size: int = 10) -> History:
        self.changes[number] = ReviewedChange(number, "openstack/glance", owner, priority, exempt)
        self.patch_sets[(number, 1)] = PatchSetFacts(number, 1, DAY0, owner, size)
        return self

    def upload(self, number: int, ps: int, when: datetime, uploader: int | None = None,
               size: int = 10) -> History:
        owner = self.changes[number].owner_id
        self.patch_sets[(number, ps)] = PatchSetFacts(
            number, ps, when, owner if uploader is None else uploader, size)
        return self

    def vote(self, number: int, account: int, value: int, when: datetime, ps: int = 1,
             thoughtful: bool = False) -> History:
        n = len(self.events)
        self.events.append(CREvent(number, ps, account, value, when, f"m{number}-{ps}-{n}", n,
                                   thoughtful))
        return self

    def comment(self, number: int, author: int, when: datetime) -> History:
        self.comments.append(CommentFacts(f"c{len(self.comments)}", author, number, 1, when))
        return self

    def build(self) -> ReviewHistory:
        return ReviewHistory(self.changes, self.patch_sets, self.events, self.comments)


def metrics(history: History, account: int = ALICE, *, as_of: datetime = T,
            window_days: int = 30, min_plus1: int = 1) -> dict:
    return standing_of(history.build(), ROSTER, account, as_of=as_of, window_days=window_days,
                       min_noncore_plus1=min_plus1).metrics


def test_reviews_and_changes_reviewed():
    # change 1: +1 on ps1, -1 on ps2                -> 2 reviews
    # change 2: +1 then changed to -1 on ps1         -> 1 review (the final -1)
    # change 3: +1 then removed                      -> no review
    # change 4: ALICE's own change                   -> self-vote, no review
    # change 5: a bot votes                          -> nothing for ALICE
    # reviews = 3, on changes {1, 2}                 -> changes_reviewed = 2
    hist = (History().change(1).change(2).change(3).change(4, owner=ALICE).change(5)
            .upload(1, 2, h(3))
            .vote(1, ALICE, 1, h(1)).vote(1, ALICE, -1, h(4), ps=2)
            .vote(2, ALICE, 1, h(1)).vote(2, ALICE, -1, h(2))
            .vote(3, ALICE, 1, h(1)).vote(3, ALICE, 0, h(2))
            .vote(4, ALICE, 1, h(1))
            .vote(5, BOT, 1, h(1)))
    m = metrics(hist)
    assert (m["reviews"], m["changes_reviewed"]) == (3, 2)
    # Bots are never reviewers: no standing at all.
    standings = compute_standings(hist.build(), ROSTER, as_of=T, window_days=30)
    assert BOT not in standings and ALICE in standings


def test_window_is_inclusive_at_both_ends_and_nothing_after_as_of_exists():
    # Window 10 days as of T: [T - 10d, T].
    # change 1 at T - 10d exactly -> in; change 2 at T - 10d - 1s -> out;
    # change 3 at T exactly -> in; change 4 at T + 1s -> does not exist yet.
    # reviews = 2
    hist = (History().change(1).change(2).change(3).change(4)
            .vote(1, ALICE, 1, T - timedelta(days=10))
            .vote(2, ALICE, 1, T - timedelta(days=10, seconds=1))
            .vote(3, ALICE, 1, T)
            .vote(4, ALICE, 1, T + timedelta(seconds=1)))
    assert metrics(hist, window_days=10)["reviews"] == 2


def test_comments_only():
    # Store pre-filters vote-carrying and autogenerated messages; here:
    # on OWNER's change in window -> counts (2 of them); on ALICE's own change -> no;
    # before the window -> no; a bot's comment -> never a reviewer. comments_only = 2
    hist = (History().change(1).change(2, owner=ALICE)
            .comment(1, ALICE, h(1)).comment(1, ALICE, h(2, day=5))
            .comment(2, ALICE, h(1))
            .comment(1, ALICE, DAY0 - timedelta(days=1))
            .comment(1, BOT, h(1)))
    assert metrics(hist)["comments_only"] == 2
    assert metrics(hist)["reviews"] == 0
    assert BOT not in compute_standings(hist.build(), ROSTER, as_of=T, window_days=60)


def test_positive_ratio():
    # +1, +1, -1 -> 2 positive of 3 reviews
    hist = (History().change(1).change(2).change(3)
            .vote(1, ALICE, 1, h(1)).vote(2, ALICE, 1, h(1)).vote(3, ALICE, -1, h(1)))
    assert metrics(hist)["positive_ratio"] == pytest.approx(2 / 3)
    # No reviews: no ratio (None, never 0).
    assert metrics(History().change(1))["positive_ratio"] is None


def disagreement_history() -> History:
    # ps of change 1: ALICE +1, then CORE -1            -> judged, disagrees
    # change 2: ALICE +1, then CORE +2                   -> judged, agrees
    # change 3: CORE -2 first, then ALICE +1             -> verdict before the vote: not judged
    # change 4: ALICE -1, CORE +2, then CORE2 -1  -> verdict = newest core review (-1): agrees
    # change 5: ALICE +1, nobody core votes              -> not judged
    # change 6: ALICE -1, CORE -1, CORE changes to +2    -> verdict CORE's latest (+2): disagrees
    # change 7: ALICE +1 day 1, NEWCORE -1 day 2 (not yet core on day 2) -> not judged
    # change 8: ALICE +1 day 11, NEWCORE -1 day 12 (core since day 10)    -> judged, disagrees
    # change 9: ALICE +1, CORE -1 then CORE removes it    -> a removed vote is no verdict
    # judged = {1, 2, 4, 6, 8} = 5, disagreeing = {1, 6, 8} = 3 -> ratio 3/5
    return (History().change(1).change(2).change(3).change(4).change(5).change(6).change(7)
            .change(8).change(9)
            .vote(1, ALICE, 1, h(1)).vote(1, CORE, -1, h(2))
            .vote(2, ALICE, 1, h(1)).vote(2, CORE, 2, h(2))
            .vote(3, CORE, -2, h(1)).vote(3, ALICE, 1, h(2))
            .vote(4, ALICE, -1, h(1)).vote(4, CORE, 2, h(2)).vote(4, CORE2, -1, h(3))
            .vote(5, ALICE, 1, h(1))
            .vote(6, ALICE, -1, h(1)).vote(6, CORE, -1, h(2)).vote(6, CORE, 2, h(3))
            .vote(7, ALICE, 1, h(1)).vote(7, NEWCORE, -1, h(1, day=2))
            .vote(8, ALICE, 1, h(1, day=11)).vote(8, NEWCORE, -1, h(1, day=12))
            .vote(9, ALICE, 1, h(1)).vote(9, CORE, -1, h(2)).vote(9, CORE, 0, h(3)))


def test_disagreement_ratio():
    m = metrics(disagreement_history())
    assert m["judged_reviews"] == 5
    assert m["disagreement_ratio"] == pytest.approx(3 / 5)
    # Nothing judged: no ratio.
    assert metrics(History().change(1).vote(1, ALICE, 1, h(1)))["disagreement_ratio"] is None


def test_learning_feed_links_each_disagreement_to_the_verdict_message():
    standing = standing_of(disagreement_history().build(), ROSTER, ALICE, as_of=T,
                           window_days=30)
    feed = standing.feed
    assert [r.change_number for r in feed] == [8, 6, 1]  # newest first
    verdict = feed[1].verdict
    assert (verdict.account_id, verdict.value) == (CORE, 2)
    assert verdict.message_id.startswith("m6-1-")


def test_plus1_precision():
    # Judged +1s in disagreement_history: change 1 (verdict -1), 2 (verdict +2),
    # 8 (verdict -1). Positive verdicts: 1 of 3. (-1 reviews do not count.)
    assert metrics(disagreement_history())["plus1_precision"] == pytest.approx(1 / 3)
    assert metrics(History().change(1).vote(1, ALICE, -1, h(1)))["plus1_precision"] is None


def test_minus1_catch_rate():
    # change 1: ALICE -1 h1, owner uploads ps2 at h2         -> caught
    # change 2: CORE -2 at h1, ALICE -1 at h3 (core before)   -> caught
    # change 3: ALICE -1 h1, BOB (non-core) -1 h2             -> not caught
    # change 4: owner uploaded ps2 at h1, ALICE -1 on ps1 h5   -> upload came before: not caught
    # change 5: ALICE -1 h1, CORE -1 h2 then removed h3       -> the core -1 event happened: caught
    # change 6: ALICE -1 h1, ps2 uploaded by someone else h2  -> not the owner: not caught
    # change 7: ALICE +1                                      -> not a -1, not counted
    # 3 caught of 6 -1 reviews -> 0.5
    hist = (History().change(1).change(2).change(3).change(4).change(5).change(6).change(7)
            .vote(1, ALICE, -1, h(1)).upload(1, 2, h(2))
            .vote(2, CORE, -2, h(1)).vote(2, ALICE, -1, h(3))
            .vote(3, ALICE, -1, h(1)).vote(3, BOB, -1, h(2))
            .upload(4, 2, h(1)).vote(4, ALICE, -1, h(5))
            .vote(5, ALICE, -1, h(1)).vote(5, CORE, -1, h(2)).vote(5, CORE, 0, h(3))
            .vote(6, ALICE, -1, h(1)).upload(6, 2, h(2), uploader=UPLOADER)
            .vote(7, ALICE, 1, h(1)))
    assert metrics(hist)["minus1_catch_rate"] == pytest.approx(0.5)
    # An upload after T does not exist as of T.
    late = History().change(1).vote(1, ALICE, -1, h(1)).upload(1, 2, T + timedelta(hours=1))
    assert metrics(late)["minus1_catch_rate"] == 0.0
    assert metrics(History().change(1))["minus1_catch_rate"] is None


def test_thoughtful_minus1():
    # -1 with a thoughtful message -> 1; -1 without -> 0; +1 with one -> not a -1;
    # thoughtful -1 later changed to a plain -1 -> the final vote's message decides -> 0
    hist = (History().change(1).change(2).change(3).change(4)
            .vote(1, ALICE, -1, h(1), thoughtful=True)
            .vote(2, ALICE, -1, h(1))
            .vote(3, ALICE, 1, h(1), thoughtful=True)
            .vote(4, ALICE, -1, h(1), thoughtful=True).vote(4, ALICE, -1, h(2)))
    assert metrics(hist)["thoughtful_minus1"] == 1


def gate_history() -> History:
    # min_noncore_plus1 = 1
    # change 1: ALICE +1 h1 (first qualifying), CORE +2 h2        -> opens, confirmed
    # change 2: BOB +1 h1, ALICE +1 h2                             -> already open: no
    # change 3: priority change, ALICE +1                          -> never gated: no
    # change 4: exempt change, ALICE +1                            -> no
    # change 5: OWNER +1, UPLOADER (uploaded ps2) +1, CORE +1, then ALICE +1 on ps2
    #           (none of the first three qualify)                  -> opens, not confirmed
    # change 6: CORE +2 h0.5, BOB +1 h1, BOB removes h2, ALICE +1 h3 -> opens; the +2 was
    #           before the opening                                  -> not confirmed
    # change 7: ALICE +1 h1 (opens), then removes it h2            -> no review, no open
    # gate_opens = 3 (1, 5, 6), gate_opens_confirmed = 1 (change 1)
    return (History().change(1).change(2).change(3, priority=True).change(4, exempt=True)
            .change(5).change(6).change(7)
            .vote(1, ALICE, 1, h(1)).vote(1, CORE, 2, h(2))
            .vote(2, BOB, 1, h(1)).vote(2, ALICE, 1, h(2))
            .vote(3, ALICE, 1, h(1))
            .vote(4, ALICE, 1, h(1))
            .upload(5, 2, h(0.5), uploader=UPLOADER)
            .vote(5, OWNER, 1, h(1), ps=2).vote(5, UPLOADER, 1, h(1), ps=2)
            .vote(5, CORE, 1, h(2), ps=2).vote(5, ALICE, 1, h(3), ps=2)
            .vote(6, CORE, 2, h(0.5)).vote(6, BOB, 1, h(1)).vote(6, BOB, 0, h(2))
            .vote(6, ALICE, 1, h(3))
            .vote(7, ALICE, 1, h(1)).vote(7, ALICE, 0, h(2)))


def test_gate_opens_and_confirmed():
    m = metrics(gate_history())
    assert (m["gate_opens"], m["gate_opens_confirmed"]) == (3, 1)


def test_gate_opens_with_two_needed():
    # min_noncore_plus1 = 2: change 2 (BOB +1, then ALICE +1) -> ALICE brings it to 2: opens.
    # change 1, 5, 6, 7: ALICE's +1 is only the first qualifying one -> no.
    m = metrics(gate_history(), min_plus1=2)
    assert (m["gate_opens"], m["gate_opens_confirmed"]) == (1, 0)


def test_first_crack_and_core_status_at_vote_time():
    # change 1: ALICE +1 h1, CORE -1 h2                 -> first crack
    # change 2: CORE +1 h1, ALICE +1 h2                 -> no
    # change 3: ALICE -1, no core ever                  -> first crack
    # change 4: ALICE +1 day 5, NEWCORE +1 day 4 (not yet core) -> first crack
    # change 5: ALICE +1 day 12, NEWCORE +1 day 11 (core) -> no
    # ALICE first_crack = 3
    hist = (History().change(1).change(2).change(3).change(4).change(5)
            .vote(1, ALICE, 1, h(1)).vote(1, CORE, -1, h(2))
            .vote(2, CORE, 1, h(1)).vote(2, ALICE, 1, h(2))
            .vote(3, ALICE, -1, h(1))
            .vote(4, NEWCORE, 1, h(1, day=4)).vote(4, ALICE, 1, h(1, day=5))
            .vote(5, NEWCORE, 1, h(1, day=11)).vote(5, ALICE, 1, h(1, day=12)))
    assert metrics(hist)["first_crack"] == 3
    # NEWCORE: the day-4 review was cast as a non-core before any core -> 1;
    # the day-11 review was cast as a core -> never first crack.
    assert metrics(hist, NEWCORE)["first_crack"] == 1
    # Core status of the reviewer themself is as of T (and as of day 5, before joining).
    assert standing_of(hist.build(), ROSTER, NEWCORE, as_of=T, window_days=30).core
    day5 = DAY0 + timedelta(days=5)
    assert not standing_of(hist.build(), ROSTER, NEWCORE, as_of=day5, window_days=30).core


def test_priority_share():
    # 1 of 4 reviews is on a priority change -> 0.25
    hist = (History().change(1, priority=True).change(2).change(3).change(4)
            .vote(1, ALICE, 1, h(1)).vote(2, ALICE, 1, h(1)).vote(3, ALICE, -1, h(1))
            .vote(4, ALICE, 1, h(1)))
    assert metrics(hist)["priority_share"] == 0.25
    assert metrics(History())["priority_share"] is None


def test_months_active():
    # Window 60 days as of 2017-03-01: reviews on Jan 5, Jan 20, Feb 3 -> 2 months;
    # a review on 2016-12-30 is before the window (which starts 2016-12-31 00:00).
    as_of = datetime(2017, 3, 1)
    hist = (History().change(1).change(2).change(3).change(4)
            .vote(1, ALICE, 1, datetime(2017, 1, 5)).vote(2, ALICE, 1, datetime(2017, 1, 20))
            .vote(3, ALICE, 1, datetime(2017, 2, 3)).vote(4, ALICE, 1, datetime(2016, 12, 30)))
    assert metrics(hist, as_of=as_of, window_days=60)["months_active"] == 2


def test_as_of_is_reproducible_when_later_events_arrive():
    # As of day 5 ALICE's +1 on change 1 is unjudged and her +1 on change 2 stands.
    # Later (day 20) a core -1s change 1 and ALICE removes her change-2 vote: the
    # figures as of day 5 must not move.
    day5 = DAY0 + timedelta(days=5)
    early = History().change(1).change(2).vote(1, ALICE, 1, h(1)).vote(2, ALICE, 1, h(2))
    later = (History().change(1).change(2).vote(1, ALICE, 1, h(1)).vote(2, ALICE, 1, h(2))
             .vote(1, CORE, -1, h(1, day=20)).vote(2, ALICE, 0, h(2, day=20)))
    before = metrics(early, as_of=day5, window_days=10)
    assert metrics(later, as_of=day5, window_days=10) == before
    assert (before["reviews"], before["judged_reviews"]) == (2, 0)
    now = metrics(later, as_of=T, window_days=30)
    assert (now["reviews"], now["judged_reviews"], now["disagreement_ratio"]) == (1, 1, 1.0)


def test_warnings_are_context_not_score():
    # change 1: ps of 300 lines uploaded at day 1 00:00, ALICE +1 five minutes later -> warning
    # change 2: 300 lines, +1 after 2 hours -> fine; change 3: 150 lines, +1 after 5 min -> fine
    # 3 of 4 +1s are on OWNER's changes (change 4 belongs to BOB) -> concentration warning
    hist = (History().change(1).change(2).change(3).change(4, owner=BOB)
            .upload(1, 2, h(0), size=300).upload(2, 2, h(0), size=300)
            .upload(3, 2, h(0), size=150)
            .vote(1, ALICE, 1, h(5 / 60), ps=2).vote(2, ALICE, 1, h(2), ps=2)
            .vote(3, ALICE, 1, h(5 / 60), ps=2).vote(4, ALICE, 1, h(1)))
    s = standing_of(hist.build(), ROSTER, ALICE, as_of=T, window_days=30)
    assert [r.change_number for r in s.reviews if r.quick_large_plus1] == [1]
    assert any("within 10 minutes" in w for w in s.warnings)
    # 3 of 4 +1s on one owner is a coincidence, not a pattern: no owner warning below
    # 10 +1s (evidence first).
    assert not any("owned by" in w for w in s.warnings)
    assert s.metrics["reviews"] == 4  # warnings do not change the score
    # With 7 more +1s on OWNER's changes: 10 of 11 on one owner -> the warning.
    for number in range(10, 17):
        hist.change(number).vote(number, ALICE, 1, h(3))
    s = standing_of(hist.build(), ROSTER, ALICE, as_of=T, window_days=30)
    assert any("10 of 11 +1 reviews (91%)" in w and "owner" in w for w in s.warnings)
    # 9 +1s, all on one owner: still below the sample the warning needs.
    nine = History()
    for number in range(1, 10):
        nine.change(number).vote(number, ALICE, 1, h(1))
    s = standing_of(nine.build(), ROSTER, ALICE, as_of=T, window_days=30)
    assert not any("owned by" in w for w in s.warnings)


def test_weekly_sparkline_covers_52_weeks_ending_at_as_of():
    # Reviews at T (last week), T - 8 days (second to last), T - 400 days (too old).
    hist = (History().change(1).change(2).change(3)
            .vote(1, ALICE, 1, T).vote(2, ALICE, 1, T - timedelta(days=8))
            .vote(3, ALICE, 1, T - timedelta(days=400)))
    weekly = standing_of(hist.build(), ROSTER, ALICE, as_of=T, window_days=30).weekly
    assert len(weekly) == 52 and weekly[-1] == 1 and weekly[-2] == 1 and sum(weekly) == 2


@pytest.mark.parametrize(
    ("criteria", "metrics_", "expected"),
    [
        # reviews 30 of 60 -> half way, not met
        ({"min_reviews": 60}, {"reviews": 30}, [("min_reviews", False, 0.5)]),
        ({"min_reviews": 60}, {"reviews": 90}, [("min_reviews", True, 1.0)]),
        # disagreement 0.1 <= 0.2 on 20 judged -> met; 0.4 > 0.2 -> progress 0.2 / 0.4
        ({"max_disagreement_ratio": 0.2}, {"disagreement_ratio": 0.1, "judged_reviews": 20},
         [("max_disagreement_ratio", True, 1.0)]),
        ({"max_disagreement_ratio": 0.2}, {"disagreement_ratio": 0.4, "judged_reviews": 40},
         [("max_disagreement_ratio", False, 0.5)]),
        # evidence first: 0% disagreement on 1 judged review is not met; progress is the
        # evidence so far (1 of 20); 19 judged still not, whatever the ratio
        ({"max_disagreement_ratio": 0.2}, {"disagreement_ratio": 0.0, "judged_reviews": 1},
         [("max_disagreement_ratio", False, 0.05)]),
        ({"max_disagreement_ratio": 0.2}, {"disagreement_ratio": 0.0, "judged_reviews": 19},
         [("max_disagreement_ratio", False, 0.95)]),
        # the catch rate counts -1 reviews, +1 precision judged +1s (not judged reviews)
        ({"min_minus1_catch_rate": 0.5, "min_plus1_precision": 0.8},
         {"minus1_catch_rate": 1.0, "minus1_reviews": 5, "judged_reviews": 60,
          "plus1_precision": 0.9, "judged_plus1": 25},
         [("min_minus1_catch_rate", False, 0.25), ("min_plus1_precision", True, 1.0)]),
        # no judged reviews -> no ratio -> not met, no progress
        ({"max_disagreement_ratio": 0.2}, {"disagreement_ratio": None},
         [("max_disagreement_ratio", False, 0.0)]),
        ({"min_months_active": 3, "min_priority_share": 0.3},
         {"months_active": 2, "priority_share": 0.3},
         [("min_months_active", False, 2 / 3), ("min_priority_share", True, 1.0)]),
    ],
)
def test_criteria_progress(criteria, metrics_, expected):
    rows = evaluate_criteria(metrics_, Criteria(**criteria), min_evidence=20)
    assert [(r.criterion, r.met, pytest.approx(r.progress)) for r in rows] == expected
    assert criteria_met(rows) == sum(e[1] for e in expected)


def test_a_ratio_on_too_few_reviews_says_how_many_are_missing():
    rows = evaluate_criteria({"disagreement_ratio": 0.0, "judged_reviews": 2,
                              "minus1_catch_rate": 0.5, "minus1_reviews": 30},
                             Criteria(max_disagreement_ratio=0.2, min_minus1_catch_rate=0.5),
                             min_evidence=20)
    few, enough = rows
    assert few.status == "not enough reviews yet: 2 of 20 judged (18 more needed)"
    assert few.as_dict()["missing"] == 18 and few.as_dict()["enough_evidence"] is False
    assert enough.status == "met" and enough.missing == 0
    # The threshold is the config's: with min_evidence 2 the same figures are met.
    assert evaluate_criteria({"disagreement_ratio": 0.0, "judged_reviews": 2},
                             Criteria(max_disagreement_ratio=0.2), min_evidence=2)[0].met


@pytest.mark.parametrize("gate", [1, 2])
def test_leaderboard_counts_match_the_detailed_standing(gate):
    # The leaderboard counts figures without keeping Review objects (detail=False); on a
    # busy seeded history (cores, a mid-window core, a bot, self-votes, removals, owner
    # and other uploads, priority/exempt changes, large patch sets, comments) every
    # reviewer's figures and warnings must equal the detailed computation's.
    import random

    rnd = random.Random(42)
    people = [ALICE, BOB, CORE, CORE2, NEWCORE, OWNER, UPLOADER, BOT, 3, 4, 5]
    hist = History()
    for number in range(1, 41):
        hist.change(number, owner=rnd.choice([OWNER, ALICE, 3]),
                    priority=number % 7 == 0, exempt=number % 11 == 0,
                    size=rnd.choice([10, 500]))
        when = DAY0 + timedelta(hours=rnd.randrange(0, 24 * 28))
        for ps in (1, 2, 3)[: rnd.randint(1, 3)]:
            if ps > 1:
                hist.upload(number, ps, when, uploader=rnd.choice([None, UPLOADER]),
                            size=rnd.choice([10, 500]))
            for _ in range(rnd.randint(0, 8)):
                when += timedelta(minutes=rnd.choice([1, 5, 30, 600]))
                hist.vote(number, rnd.choice(people), rnd.choice([-2, -1, 0, 1, 1, 2]),
                          when, ps=ps, thoughtful=rnd.random() < 0.5)
            if rnd.random() < 0.3:
                hist.comment(number, rnd.choice(people), when)
            when += timedelta(hours=rnd.randint(1, 48))
    history = hist.build()
    for days in (30, 10):
        detailed = compute_standings(history, ROSTER, as_of=T, window_days=days,
                                     min_noncore_plus1=gate, weekly=False)
        counted = compute_standings(history, ROSTER, as_of=T, window_days=days,
                                    min_noncore_plus1=gate, weekly=False, detail=False)
        assert detailed.keys() == counted.keys() and len(detailed) > 5
        for account, s in detailed.items():
            assert counted[account].metrics == s.metrics, account
            assert counted[account].warnings == s.warnings, account
        assert sum(s.metrics["judged_reviews"] for s in detailed.values()) > 10
        assert sum(s.metrics["gate_opens"] for s in detailed.values()) > 0
