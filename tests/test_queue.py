"""Queues (DESIGN "Core queue", "First-crack queue", "Why-not") as table tests over plain
inputs: each row a situation a Glance core or an aspiring reviewer would recognise."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from reviewbot.metrics.queue import (
    QueueChange,
    build_first_crack,
    build_queue,
    first_failure,
    why_not,
)
from reviewbot.timeline.snapshot import Vote
from reviewbot.timeline.state import review_state

NOW = datetime(2017, 1, 10, 12, 0, 0)
ME, OTHER_CORE, THIRD_CORE, NONCORE, OWNER, ZUUL = 100, 101, 102, 200, 300, 900
CORES = frozenset({ME, OTHER_CORE, THIRD_CORE})
NAMES = {ME: "alice", OTHER_CORE: "bob", THIRD_CORE: "erin", NONCORE: "carol", OWNER: "dave",
         ZUUL: "zuul"}


def change(number: int, *, days: float = 0, votes=(), gate: str | None = "open",
           priorities=(), rank=None, minus1_at: datetime | None = None,
           replies: tuple[datetime, ...] = (), status: str = "open", **kw) -> QueueChange:
    """A change whose review state is the timeline's answer for its votes and the owner's
    replies (a -1 cast at `minus1_at`, default: at the upload)."""
    uploaded = kw.pop("uploaded", NOW - timedelta(days=days))
    vote_tuple = tuple(Vote(*v) for v in votes)
    review = review_state(vote_tuple, 2, newest_minus1_at=minus1_at, uploaded=uploaded,
                          owner_replies=replies, at=NOW, name=NAMES.get)
    fields = dict(
        number=number, open=status == "open", status=status, owner_id=OWNER,
        current_patch_set=2, uploaded=uploaded, votes=vote_tuple, review=review,
        gate_state=gate, gate_reason="", priorities=tuple(priorities), rank=rank,
    )
    fields.update(kw)
    return QueueChange(**fields)


def queue(*changes: QueueChange, now: datetime = NOW):
    return build_queue(changes, ME, CORES.__contains__, now, NAMES.get)


ANSWERED = dict(minus1_at=NOW - timedelta(days=1), replies=(NOW - timedelta(hours=5),))

EXCLUSIONS = [
    ("own change", change(1, owner_id=ME), "owner"),
    ("already +1'd the current patch set", change(1, votes=[("Code-Review", ME, 1)]), "voted"),
    ("already -1'd the current patch set (and the owner answered)",
     change(1, votes=[("Code-Review", ME, -1)], **ANSWERED), "voted"),
    ("blocked by another core's -2", change(1, votes=[("Code-Review", OTHER_CORE, -2)]),
     "review_state"),
    ("blocked by the owner's Workflow -1", change(1, votes=[("Workflow", OWNER, -1)]),
     "review_state"),
    ("approved: a Workflow +1 waits for the gate, not for reviewers",
     change(1, votes=[("Workflow", OTHER_CORE, 1)]), "review_state"),
    ("CI failed: waiting on the author", change(1, votes=[("Verified", ZUUL, -1)]),
     "review_state"),
    ("a -1 the owner has not answered", change(1, votes=[("Code-Review", NONCORE, -1)]),
     "review_state"),
    ("the owner answered before the newest -1",
     change(1, votes=[("Code-Review", NONCORE, -1)], minus1_at=NOW - timedelta(hours=1),
            replies=(NOW - timedelta(hours=5),)), "review_state"),
    ("gated: waiting for a non-core +1", change(1, gate="gated"), "gate"),
    ("never evaluated", change(1, gate=None), "gate"),
    ("work in progress", change(1, status="wip"), "open"),
    ("merged", change(1, status="merged"), "open"),
    ("abandoned", change(1, status="abandoned"), "open"),
    ("not created yet at T", change(1, status="absent"), "open"),
]


@pytest.mark.parametrize("scenario,item,failed", EXCLUSIONS, ids=[e[0] for e in EXCLUSIONS])
def test_core_queue_exclusions(scenario: str, item: QueueChange, failed: str) -> None:
    assert queue(item) == []
    answer = why_not(item, ME, "alice", name=NAMES.get)
    assert not answer.in_queue
    assert answer.failed == failed
    assert answer.message


INCLUSIONS = [
    ("open gate", change(1, gate="open")),
    ("exempt (requirements bot)", change(1, gate="exempt")),
    ("priority, nobody voted", change(1, gate="priority", priorities=["p"], rank=1)),
    ("listed as reviewer with no vote (0)", change(1, votes=[("Code-Review", ME, 0)])),
    ("voted only Verified", change(1, votes=[("Verified", ME, 1)])),
    ("another core's -1 the owner answered",
     change(1, votes=[("Code-Review", OTHER_CORE, -1)], **ANSWERED)),
]


@pytest.mark.parametrize("scenario,item", INCLUSIONS, ids=[e[0] for e in INCLUSIONS])
def test_core_queue_inclusions(scenario: str, item: QueueChange) -> None:
    assert [i.number for i in queue(item)] == [1]
    answer = why_not(item, ME, "alice", queue=queue(item), name=NAMES.get)
    assert answer.in_queue and answer.position == 1 and answer.total == 1


SCORES = [
    ("fresh upload, nothing else", change(1, days=0.5), 0),
    ("3 full days waiting", change(1, days=3.9), 9),
    ("CI passed", change(1, days=1, votes=[("Verified", ZUUL, 1)]), 3 + 10),
    ("one core +2: needs a second core", change(1, votes=[("Code-Review", OTHER_CORE, 2)]), 20),
    ("two core +2s: needs Workflow +1",
     change(1, votes=[("Code-Review", OTHER_CORE, 2), ("Code-Review", THIRD_CORE, 2)]), 40),
    ("a non-core +2 is not a core +2", change(1, votes=[("Code-Review", NONCORE, 2)]), 0),
    ("a -1 the owner answered", change(1, days=2, votes=[("Code-Review", NONCORE, -1)],
                                       **ANSWERED), 6 - 30),
    ("everything", change(1, days=10, votes=[("Verified", ZUUL, 2), ("Code-Review", OTHER_CORE, 2),
                                             ("Code-Review", NONCORE, -1)], **ANSWERED),
     30 + 10 + 20 - 30),
]


@pytest.mark.parametrize("scenario,item,expected", SCORES, ids=[s[0] for s in SCORES])
def test_score(scenario: str, item: QueueChange, expected: int) -> None:
    [row] = queue(item)
    assert row.score == expected
    assert row.reasons  # every row carries its reasons


def test_reasons_say_what_the_change_needs() -> None:
    [row] = queue(change(1, days=2, votes=[("Verified", ZUUL, 1), ("Code-Review", OTHER_CORE, 2),
                                           ("Code-Review", NONCORE, -1)], **ANSWERED))
    text = "\n".join(row.reasons)
    assert "patch set 2 waiting 2 full days: +6" in text
    assert "CI passed: +10" in text
    assert "has a core +2 (bob), needs a second core: +20" in text
    assert "has a -1 the owner answered (carol): -30" in text
    [row] = queue(change(1, votes=[("Code-Review", OTHER_CORE, 2),
                                   ("Code-Review", THIRD_CORE, 2)]))
    text = "\n".join(row.reasons)
    assert "has 2 core +2s (bob, erin), needs Workflow +1: +40" in text
    assert "second core" not in text


def test_a_core_who_left_no_longer_counts_for_the_plus2_points() -> None:
    item = change(1, votes=[("Code-Review", OTHER_CORE, 2)])
    [row] = build_queue([item], ME, frozenset({ME}).__contains__, NOW, NAMES.get)
    assert row.score == 0


def test_priority_changes_come_first_by_rank_then_score() -> None:
    rows = queue(
        change(1, days=30, gate="open"),  # highest score, but not a priority
        change(2, days=1, gate="priority", priorities=["rolling"], rank=2),
        change(3, days=0, gate="priority", priorities=["import"], rank=1),
        change(4, days=5, gate="priority", priorities=["import"], rank=1),
        change(5, days=2, gate="exempt"),
    )
    assert [r.number for r in rows] == [4, 3, 2, 1, 5]
    assert [r.priority for r in rows] == ["import", "import", "rolling", None, None]


def test_ties_older_upload_first_then_lower_number() -> None:
    rows = queue(
        change(7, days=2.0),  # score 6, uploaded 48h ago
        change(5, days=2.5),  # score 6, uploaded 60h ago: older, goes first
        change(3, days=2.0),  # same upload time as 7: lower number first
        change(9, days=9, votes=[("Code-Review", NONCORE, -1)], **ANSWERED),  # 27 - 30: last
    )
    assert [r.number for r in rows] == [5, 3, 7, 9]


@pytest.mark.parametrize("as_of,points", [
    (datetime(2017, 1, 10, 12, 0, 0), 6),  # exactly 2 days after upload
    (datetime(2017, 1, 10, 11, 59, 59), 3),  # one second short of 2 full days
    (datetime(2017, 1, 1), 0),  # before the upload: never negative
])
def test_as_of_sets_now(as_of: datetime, points: int) -> None:
    item = change(1, uploaded=datetime(2017, 1, 8, 12, 0, 0))
    [row] = queue(item, now=as_of)
    assert row.score == points


def test_why_not_gives_the_first_failing_condition_in_design_order() -> None:
    # Own, blocked, already voted and gated all at once: ownership is checked first.
    item = change(1, owner_id=ME, gate="gated",
                  votes=[("Code-Review", OTHER_CORE, -2), ("Code-Review", ME, 1)])
    assert first_failure(item, ME, NAMES.get)[0] == "owner"
    item = change(1, gate="gated", votes=[("Code-Review", OTHER_CORE, -2), ("Code-Review", ME, 1)])
    key, message = first_failure(item, ME, NAMES.get)
    assert key == "review_state" and "Code-Review -2 by bob" in message
    item = change(1, gate="gated", votes=[("Code-Review", ME, 1)])
    assert first_failure(item, ME, NAMES.get)[0] == "voted"
    item = change(1, gate="gated", gate_reason="Waiting for a non-core +1 on patch set 2.")
    answer = why_not(item, ME, "alice", name=NAMES.get)
    assert answer.failed == "gate" and "Waiting for a non-core +1 on patch set 2." in answer.message


def test_why_not_names_the_unanswered_minus1() -> None:
    answer = why_not(change(1, votes=[("Code-Review", NONCORE, -1)]), ME, "alice",
                     name=NAMES.get)
    assert answer.failed == "review_state"
    assert "not waiting on reviewers" in answer.message
    assert "Code-Review -1 by carol" in answer.message and "not answered" in answer.message


# --- the first-crack queue -------------------------------------------------------------------


def first_crack(*changes: QueueChange, who: int = NONCORE):
    return build_first_crack(changes, who, NOW, NAMES.get)


def test_first_crack_lists_gated_changes_waiting_on_reviewers_longest_wait_first() -> None:
    rows = first_crack(
        change(1, days=2, gate="gated"),
        change(2, days=9, gate="gated"),
        change(3, days=9, gate="gated", uploaded=NOW - timedelta(days=9)),
        change(4, days=30, gate="open"),  # past the gate: the cores' now
        change(5, days=30, gate="priority", priorities=["p"], rank=1),  # never gated
        change(6, days=30, gate="gated", votes=[("Verified", ZUUL, -1)]),  # author's turn
        change(7, days=30, gate="gated", owner_id=NONCORE),  # R's own change
        change(8, days=30, gate="gated", votes=[("Code-Review", NONCORE, -1)], **ANSWERED),
    )
    assert [r.number for r in rows] == [2, 3, 1]
    assert rows[0].wait_days == 9
    assert rows[0].reasons == ("no non-core +1 on patch set 2 yet; waiting 9 full days since "
                               "the upload",)


def test_a_non_core_reviewer_gets_the_first_crack_why_not() -> None:
    gated = change(1, gate="gated")
    answer = why_not(gated, NONCORE, "carol", reviewer_is_core=False,
                     first_crack=first_crack(gated), name=NAMES.get)
    assert answer.in_queue and answer.kind == "first-crack" and answer.position == 1
    answer = why_not(change(2, gate="open"), NONCORE, "carol", reviewer_is_core=False,
                     name=NAMES.get)
    assert not answer.in_queue and answer.failed == "gate" and answer.kind == "first-crack"
    assert "not a core reviewer" in answer.message
