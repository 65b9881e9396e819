"""Core queue rules (DESIGN "Core queue", "Why-not") as table tests over plain inputs."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from reviewbot.queue import QueueChange, build_queue, first_failure, why_not
from reviewbot.snapshot import Vote

NOW = datetime(2017, 1, 10, 12, 0, 0)
ME, OTHER_CORE, NONCORE, OWNER, ZUUL = 100, 101, 200, 300, 900
CORES = frozenset({ME, OTHER_CORE})
NAMES = {ME: "alice", OTHER_CORE: "bob", NONCORE: "carol", OWNER: "dave", ZUUL: "zuul"}


def change(number: int, *, days: float = 0, votes=(), gate: str | None = "open",
           priorities=(), rank=None, **kw) -> QueueChange:
    fields = dict(
        number=number, status="NEW", wip=False, owner_id=OWNER, current_patch_set=2,
        uploaded=NOW - timedelta(days=days), votes=tuple(Vote(*v) for v in votes),
        gate_state=gate, gate_reason="", priorities=tuple(priorities), rank=rank,
    )
    fields.update(kw)
    return QueueChange(**fields)


def queue(*changes: QueueChange, now: datetime = NOW):
    return build_queue(changes, ME, CORES, now, NAMES.get)


EXCLUSIONS = [
    ("own change", change(1, owner_id=ME), "owner"),
    ("already +1'd the current patch set", change(1, votes=[("Code-Review", ME, 1)]), "voted"),
    ("already -1'd the current patch set", change(1, votes=[("Code-Review", ME, -1)]), "voted"),
    ("blocked by another core's -2", change(1, votes=[("Code-Review", OTHER_CORE, -2)]),
     "blocked"),
    ("blocked by the owner's Workflow -1", change(1, votes=[("Workflow", OWNER, -1)]),
     "blocked"),
    ("gated: waiting for a non-core +1", change(1, gate="gated"), "gate"),
    ("never evaluated", change(1, gate=None), "gate"),
    ("work in progress", change(1, wip=True), "open"),
    ("merged", change(1, status="MERGED"), "open"),
    ("abandoned", change(1, status="ABANDONED"), "open"),
]


@pytest.mark.parametrize("scenario,item,failed", EXCLUSIONS, ids=[e[0] for e in EXCLUSIONS])
def test_exclusions(scenario: str, item: QueueChange, failed: str) -> None:
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
    ("voted only Verified/Workflow", change(1, votes=[("Workflow", ME, 1)])),
    ("another core's -1 does not block", change(1, votes=[("Code-Review", OTHER_CORE, -1)])),
]


@pytest.mark.parametrize("scenario,item", INCLUSIONS, ids=[e[0] for e in INCLUSIONS])
def test_inclusions(scenario: str, item: QueueChange) -> None:
    assert [i.number for i in queue(item)] == [1]
    answer = why_not(item, ME, "alice", queue=queue(item), name=NAMES.get)
    assert answer.in_queue and answer.position == 1 and answer.total == 1


SCORES = [
    ("fresh upload, nothing else", change(1, days=0.5), 0),
    ("3 full days waiting", change(1, days=3.9), 9),
    ("CI passed", change(1, days=1, votes=[("Verified", ZUUL, 1)]), 3 + 10),
    ("CI failed earns nothing", change(1, days=1, votes=[("Verified", ZUUL, -1)]), 3),
    ("a core +2 needs a second core", change(1, votes=[("Code-Review", OTHER_CORE, 2)]), 20),
    ("a non-core +2 is not a core +2", change(1, votes=[("Code-Review", NONCORE, 2)]), 0),
    ("any -1, even non-core", change(1, days=2, votes=[("Code-Review", NONCORE, -1)]), 6 - 30),
    ("everything", change(1, days=10, votes=[("Verified", ZUUL, 2), ("Code-Review", OTHER_CORE, 2),
                                             ("Code-Review", NONCORE, -1)]), 30 + 10 + 20 - 30),
]


@pytest.mark.parametrize("scenario,item,expected", SCORES, ids=[s[0] for s in SCORES])
def test_score(scenario: str, item: QueueChange, expected: int) -> None:
    [row] = queue(item)
    assert row.score == expected
    assert row.reasons  # every row carries its reasons


def test_reasons_name_the_voters_and_terms() -> None:
    [row] = queue(change(1, days=2, votes=[("Verified", ZUUL, 1), ("Code-Review", OTHER_CORE, 2),
                                           ("Code-Review", NONCORE, -1)]))
    text = "\n".join(row.reasons)
    assert "patch set 2 waiting 2 full days: +6" in text
    assert "CI passed: +10" in text
    assert "has a core +2 (bob), needs a second core: +20" in text
    assert "has a Code-Review -1 (carol): -30" in text


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
        change(9, days=9, votes=[("Code-Review", NONCORE, -1)]),  # 27 - 30 = -3: last
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
    assert key == "blocked" and "Code-Review -2 by bob" in message
    item = change(1, gate="gated", gate_reason="Waiting for a non-core +1 on patch set 2.")
    answer = why_not(item, ME, "alice", name=NAMES.get)
    assert answer.failed == "gate" and "Waiting for a non-core +1 on patch set 2." in answer.message


def test_why_not_for_a_non_core_reviewer() -> None:
    answer = why_not(change(1), NONCORE, "carol", reviewer_is_core=False)
    assert not answer.in_queue and answer.failed == "reviewer"
    assert "not a core reviewer" in answer.message
