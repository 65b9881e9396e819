"""Owner view "Where is my change?" on a store synced from the sandbox Gerrit over HTTP: its
positions equal each core's own queue (present and a past date), the page, the JSON and the
CLI agree, and the suggestions name what would move the change."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dashboards.app import create_app
from reviewbot.cli import main
from reviewbot.metrics.queue import QueueChange
from reviewbot.store import session_scope
from reviewbot.store.queue_reads import find_reviewer
from reviewbot.store.tables import Change
from reviewbot.timeline.people import Roster
from reviewbot.timeline.snapshot import Vote
from reviewbot.timeline.state import WAITING_ON_AUTHOR, WAITING_ON_REVIEWERS, ReviewState
from reviewbot.views.queue_view import queue_for
from reviewbot.views.where import moves, where_is
from tests.conftest import ROOT
from tests.service_support import generated_sandbox, synced_and_evaluated

PAST = datetime(2016, 12, 20, 12, 0)


@pytest.fixture(scope="module")
def sandbox():
    with generated_sandbox(changes=90, seed=31) as generated:
        yield generated


@pytest.fixture
def cycle(sandbox, store_url):
    engine, config, now = synced_and_evaluated(*sandbox, store_url)
    yield engine, config, now
    engine.dispose()


def _queues(session, config, roster_cores, as_of, now):
    out = {}
    for name in roster_cores:
        answer = queue_for(session, config, find_reviewer(session, name), as_of, now=now)
        out[name] = [row.item.number for row in answer.rows]
    return out


@pytest.mark.parametrize("past", [False, True], ids=["present", "past"])
def test_positions_equal_every_core_queue(cycle, past) -> None:
    engine, config, now = cycle
    as_of = PAST if past else None
    with session_scope(engine) as session:
        numbers = [n for (n,) in session.execute(select(Change.number).order_by(Change.number))]
        first = where_is(session, config, numbers[0], as_of, now=now)
        cores = [p.reviewer for p in first.places]
        assert cores, "the sandbox has core reviewers"
        queues = _queues(session, config, cores, as_of, now)
        seen_in_queue = seen_out = 0
        for number in numbers[::3]:
            answer = where_is(session, config, number, as_of, now=now)
            for place in answer.places:
                queue = queues[place.reviewer]
                assert place.total == len(queue)
                if number in queue:
                    assert place.position == queue.index(number) + 1
                    seen_in_queue += 1
                else:
                    assert place.position is None and place.failed and place.message
                    seen_out += 1
    assert seen_in_queue and seen_out


def test_gated_and_waiting_changes_say_what_moves_them(cycle) -> None:
    engine, config, now = cycle
    with session_scope(engine) as session:
        numbers = [n for (n,) in session.execute(select(Change.number))]
        answers = [where_is(session, config, n, None, now=now) for n in numbers]
    gated = [a for a in answers if a.gate_state == "gated" and a.status == "open"
             and a.review_state == WAITING_ON_REVIEWERS]
    assert gated
    for a in gated:
        assert not a.in_queues and {p.failed for p in a.places} <= {"gate", "owner", "voted"}
        assert a.moves[-1].startswith("a non-core +1 on patch set ")
        assert a.first_crack_position is not None
    author = [a for a in answers if a.review_state == WAITING_ON_AUTHOR and a.status == "open"]
    assert author
    for a in author:
        assert "answer the -1" in a.moves[0] or "CI" in a.moves[0]
        assert all(p.failed in ("review_state", "owner") for p in a.places)
    queued = [a for a in answers if a.in_queues]
    assert queued and all(a.score is not None and a.moves for a in queued)


def test_page_json_and_cli_agree(cycle, tmp_path, capsys) -> None:
    engine, config, now = cycle
    with session_scope(engine) as session:
        number = next(n for (n,) in session.execute(
            select(Change.number).where(Change.status == "NEW").order_by(Change.number)))
        expected = where_is(session, config, number, PAST)
    with TestClient(create_app(config, engine=engine)) as client:
        api = client.get(f"/api/v1/changes/{number}/where?as_of=2016-12-20T12:00:00Z")
        page = client.get(f"/changes/{number}/where?as_of=2016-12-20T12:00:00Z")
        change_page = client.get(f"/changes/{number}")
        missing = client.get("/api/v1/changes/999999/where")
        missing_page = client.get("/changes/999999/where")
    assert api.status_code == 200
    data = api.json()
    assert data["queues"] == [p.as_json() for p in expected.places]
    assert data["moves"] == list(expected.moves) and data["headline"] == expected.headline()
    assert page.status_code == 200 and f"Where is change {number}?" in page.text
    assert expected.headline() in page.text.replace("&#39;", "'")
    assert f'href="/changes/{number}/where"' in change_page.text
    assert missing.status_code == 404 and "not in the store" in missing.json()["detail"]
    assert missing_page.status_code == 404

    text = (ROOT / "config" / "sandbox.toml").read_text().replace(
        'url = "sqlite:///data/sandbox/reviewbot.db"', f'url = "{config.database.url}"')
    path = tmp_path / "c.toml"
    path.write_text(text)
    assert main(["--config", str(path), "where", str(number), "--as-of",
                 "2016-12-20T12:00:00Z", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["queues"] == data["queues"]
    assert main(["--config", str(path), "where", str(number), "--as-of",
                 "2016-12-20T12:00:00Z"]) == 0
    out = capsys.readouterr().out
    assert expected.headline() in out
    assert main(["--config", str(path), "where", "999999"]) == 1


CORE, CORE2, OWNER, ALICE = 20, 21, 1, 10
ROSTER = Roster(core_now=frozenset({CORE, CORE2}), core_known=True, bots=frozenset(),
                usernames={CORE: "carol", CORE2: "cyril", OWNER: "owen", ALICE: "alice"})
AT = datetime(2017, 1, 20)


def _change(gate="open", votes=(), review=WAITING_ON_REVIEWERS, reason="waiting on reviewers",
            status="open"):
    return QueueChange(7, status == "open", status, OWNER, 2, AT - timedelta(days=4),
                       tuple(Vote(label, a, v) for label, a, v in votes),
                       ReviewState(review, reason), gate, "")


MOVES = [
    ("one-core-plus2", _change(votes=[("Code-Review", CORE, 2), ("Verified", 99, 1)]),
     ["a second core +2 adds 20 points (it has carol's)"]),
    ("no-plus2-no-ci", _change(), ["a passing CI run (Verified +1) adds 10 points",
                                   "a core +2 adds 20 points"]),
    ("gated", _change(gate="gated"),
     ["a non-core +1 on patch set 2 opens the gate: it then enters every core reviewer's "
      "queue"]),
    ("unanswered-minus1", _change(gate="gated", review=WAITING_ON_AUTHOR,
                                  reason="waiting on the author: a Code-Review -1 ..."),
     ["answer the -1 (reply on the change or upload a new patch set) to hand it back to "
      "reviewers"]),
    ("wip", _change(status="wip"), ["mark it ready for review: work in progress is in no queue"]),
]


@pytest.mark.parametrize(("change", "starts"), [r[1:] for r in MOVES], ids=[r[0] for r in MOVES])
def test_moves_table(change, starts) -> None:
    assert moves(change, ROSTER, AT)[:len(starts)] == starts


def test_on_a_stable_branch_the_branch_cores_plus2_is_the_one_that_counts() -> None:
    # A stable-maint member (ALICE here) is the core of a stable branch: her +2 is the
    # first core +2 there, while the project core's +2 is not counted on that branch.
    stable_cores = {ALICE}.__contains__
    mine = _change(votes=[("Code-Review", ALICE, 2), ("Verified", 99, 1)])
    assert moves(mine, ROSTER, AT, core_test=stable_cores)[0] == (
        "a second core +2 adds 20 points (it has alice's)")
    theirs = _change(votes=[("Code-Review", CORE, 2), ("Verified", 99, 1)])
    assert moves(theirs, ROSTER, AT, core_test=stable_cores)[0] == "a core +2 adds 20 points"


def test_frozen_change_names_the_exception_hashtag() -> None:
    out = moves(_change(gate="frozen"), ROSTER, AT, exception_hashtag="ffe")
    assert out == ["after feature freeze only bug fixes are reviewed: a Closes-Bug or "
                   "Partial-Bug footer, a release-critical bug tag or the freeze-exception "
                   "hashtag ffe from the PTL brings it back"]


def test_hostile_numbers_are_a_422_naming_the_parameter(cycle) -> None:
    engine, config, _now = cycle
    with TestClient(create_app(config, engine=engine)) as client:
        for bad in ("2" * 30, "0", "abc", "²"):
            page = client.get(f"/changes/{bad}/where")
            assert page.status_code == 422 and "not a change number" in page.text
        api = client.get(f"/api/v1/changes/{2 ** 63}/where")
        assert api.status_code == 422 and "number" in str(api.json()["detail"])
        assert client.get("/api/v1/changes/1/where?as_of=tomorrow").status_code == 422
