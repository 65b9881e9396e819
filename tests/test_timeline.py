"""The timeline (DESIGN "Change state", "Review state"): what was true of a change at T."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from reviewbot.timeline.snapshot import ChangeSnapshot, MessageInfo, PatchSetInfo, Vote, VoteEvent
from reviewbot.timeline.state import (
    APPROVED,
    BLOCKED,
    WAITING_ON_AUTHOR,
    WAITING_ON_REVIEWERS,
    change_activity,
    plus1_replay,
    review_state,
    state_at,
)

T0 = datetime(2017, 1, 2, 9, 0)
OWNER, CORE, NONCORE, ZUUL, BOT = 1, 2, 3, 9, 8
H = timedelta(hours=1)


def event(ps: int, who: int, label: str, value: int, at: datetime, removed: bool = False,
          n: int = 0) -> VoteEvent:
    return VoteEvent(42, ps, who, label, value, at, f"m{at.isoformat()}-{who}-{n}", removed)


def snapshot(*, events=(), votes=(), patch_sets=((1, T0),), status="NEW", updated=None,
             replies=(), messages=(), **kw) -> ChangeSnapshot:
    pss = tuple(PatchSetInfo(n, t, OWNER) for n, t in patch_sets)
    return ChangeSnapshot(
        42, "openstack/glance", "master", "Fix it", status, False, OWNER, T0,
        updated or max([T0, *(e.date for e in events), *(p.created for p in pss)]),
        max(p.number for p in pss), patch_sets=pss, current_votes=tuple(Vote(*v) for v in votes),
        vote_events=tuple(events), owner_replies=tuple(replies), messages=tuple(messages), **kw)


REVIEW_STATES = [
    ("nobody voted yet", [], None, (), WAITING_ON_REVIEWERS),
    ("a Workflow +1 wins over everything", [("Workflow", CORE, 1), ("Code-Review", CORE, -2)],
     None, (), APPROVED),
    ("a core -2", [("Code-Review", CORE, -2)], None, (), BLOCKED),
    ("the owner's Workflow -1", [("Workflow", OWNER, -1)], None, (), BLOCKED),
    ("CI failed", [("Verified", ZUUL, -1)], None, (), WAITING_ON_AUTHOR),
    ("CI failed even after the owner replied", [("Verified", ZUUL, -1)], None, (T0 + H,),
     WAITING_ON_AUTHOR),
    ("a -1 nobody answered", [("Code-Review", NONCORE, -1)], T0 + H, (), WAITING_ON_AUTHOR),
    ("the owner replied after the -1", [("Code-Review", NONCORE, -1)], T0 + H, (T0 + 2 * H,),
     WAITING_ON_REVIEWERS),
    ("the owner replied, then a second -1 came", [("Code-Review", NONCORE, -1)], T0 + 3 * H,
     (T0 + 2 * H,), WAITING_ON_AUTHOR),
    ("a copied -1 with no event counts from the upload", [("Code-Review", NONCORE, -1)], None,
     (T0 + H,), WAITING_ON_REVIEWERS),
    ("+1s and CI passing", [("Code-Review", NONCORE, 1), ("Verified", ZUUL, 1)], None, (),
     WAITING_ON_REVIEWERS),
]


@pytest.mark.parametrize("scenario,votes,minus1_at,replies,expected", REVIEW_STATES,
                         ids=[r[0] for r in REVIEW_STATES])
def test_review_state(scenario, votes, minus1_at, replies, expected) -> None:
    state = review_state(tuple(Vote(*v) for v in votes), 1, newest_minus1_at=minus1_at,
                         uploaded=T0, owner_replies=replies, at=T0 + 10 * H)
    assert state.state == expected
    assert state.reason


def test_a_reply_after_t_does_not_count_as_of_t() -> None:
    state = review_state((Vote("Code-Review", NONCORE, -1),), 1, newest_minus1_at=T0 + H,
                         uploaded=T0, owner_replies=(T0 + 5 * H,), at=T0 + 2 * H)
    assert state.state == WAITING_ON_AUTHOR


def test_state_at_reads_history_for_the_past_and_labels_for_the_present() -> None:
    events = [event(1, CORE, "Code-Review", -1, T0 + H),
              event(1, CORE, "Code-Review", 2, T0 + 3 * H, n=1)]
    change = snapshot(events=events, votes=[("Code-Review", CORE, 2)])
    past = state_at(change, T0 + 2 * H)
    assert past.votes == (Vote("Code-Review", CORE, -1),)
    assert past.review.state == WAITING_ON_AUTHOR
    now = state_at(change, T0 + 4 * H)
    assert now.votes == (Vote("Code-Review", CORE, 2),)
    assert now.review.state == WAITING_ON_REVIEWERS


def test_state_at_a_copied_vote_shows_only_when_nothing_happened_later() -> None:
    # A sticky -2 copied to patch set 2: in Gerrit's labels, not in the history of PS 2.
    events = [event(1, CORE, "Code-Review", -2, T0 + H)]
    change = snapshot(events=events, patch_sets=((1, T0), (2, T0 + 2 * H)),
                      votes=[("Code-Review", CORE, -2)])
    assert state_at(change, T0 + 3 * H).review.state == BLOCKED
    assert state_at(change, T0 + 90 * H).patch_set == 2


def test_state_at_before_creation_and_after_merge() -> None:
    change = snapshot(status="MERGED", submitted=T0 + 5 * H, updated=T0 + 5 * H)
    assert state_at(change, T0 - H).status is None
    assert state_at(change, T0 + H).status == "open"
    assert state_at(change, T0 + H).is_open
    assert state_at(change, T0 + 6 * H).status == "merged"
    assert state_at(change, T0 + 6 * H).review is None


def test_state_at_takes_the_patch_set_current_at_t() -> None:
    change = snapshot(patch_sets=((1, T0), (2, T0 + 5 * H)),
                      events=[event(1, NONCORE, "Code-Review", 1, T0 + H)])
    assert state_at(change, T0 + 2 * H).patch_set == 1
    assert state_at(change, T0 + 2 * H).votes == (Vote("Code-Review", NONCORE, 1),)
    assert state_at(change, T0 + 6 * H).patch_set == 2


def test_plus1_replay_counts_each_voters_latest_qualifying_plus1() -> None:
    events = [
        (42, 1, NONCORE, 1, T0 + H),  # opens the gate
        (42, 1, CORE, 1, T0 + 2 * H),  # a core's +1 never counts
        (42, 1, NONCORE, 0, T0 + 3 * H),  # removed: closed again
        (42, 1, 4, 1, T0 + 4 * H),  # another non-core opens it again
        (42, 1, OWNER, 1, T0 + 5 * H),  # the owner's own +1 never counts
    ]
    after, openers, opened = plus1_replay(events, [False, True, False, False, False],
                                          owner=OWNER, uploader=OWNER,
                                          bots=frozenset({ZUUL}), need=1)
    assert after == [1, 1, 0, 1, 1]
    assert openers == {4: T0 + 4 * H}
    assert opened == T0 + H


def test_last_human_activity_ignores_bots_and_the_bots_own_messages() -> None:
    messages = (
        MessageInfo("a", 1, NONCORE, T0 + H, None, 0, "lgtm", True),
        MessageInfo("b", 1, BOT, T0 + 5 * H, "autogenerated:reviewbot", 0, "gated", False),
        MessageInfo("c", 1, ZUUL, T0 + 6 * H, "autogenerated:zuul:check", 0, "ok", True),
    )
    change = snapshot(messages=messages, updated=T0 + 9 * H)
    assert change_activity(change, frozenset({BOT, ZUUL}), T0 + 10 * H) == T0 + H
    assert change_activity(change, frozenset(), T0 + 10 * H) == T0 + 6 * H
