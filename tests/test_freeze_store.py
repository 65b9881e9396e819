"""Feature freeze on a store: a queue as of a date after the freeze drops feature work and keeps
bug fixes and granted exceptions; before the freeze date the same store answers as before."""

from __future__ import annotations

from datetime import datetime

import pytest

from reviewbot.config import validate_config
from reviewbot.evaluate.verdicts import evaluate_store
from reviewbot.store import session_scope
from reviewbot.store.queue_reads import find_reviewer
from reviewbot.views.queue_at import changes_at
from reviewbot.views.queue_view import queue_for, why_not_for
from tests.store_builder import add_account, add_change, add_core, add_current_vote, add_vote_event

CREATED = datetime(2017, 1, 10, 9, 0)
BEFORE = datetime(2017, 1, 20, 12, 0)
AFTER = datetime(2017, 2, 1, 12, 0)
FEATURE, BUGFIX, EXCEPTION, RELATED = 101, 102, 103, 104
CONFIG = validate_config({
    "gerrit": {"projects": ["openstack/glance"], "branches": ["master"],
               "core_group": "glance-core"},
    "cycle": {"name": "ocata", "start": "2016-10-06", "end": "2017-02-20",
              "feature_freeze": "2017-01-26"},
    "freeze": {"enabled": True, "exception_hashtag": "ffe"},
})


@pytest.fixture
def store(store_engine):
    with session_scope(store_engine) as session:
        add_account(session, 1, "owen")
        add_account(session, 10, "alice")
        add_account(session, 20, "carol")
        add_core(session, "glance-core", 20)
        messages = {FEATURE: "Add image cache stats\n\nChange-Id: I1\n",
                    BUGFIX: "Fix cache leak\n\nCloses-Bug: #1650000\nChange-Id: I2\n",
                    EXCEPTION: "Add import plugin\n\nChange-Id: I3\n",
                    RELATED: "Tidy cache\n\nRelated-Bug: #1650000\nChange-Id: I4\n"}
        for number, message in messages.items():
            add_change(session, number, 1, created=CREATED, commit_message=message,
                       files=["glance/cache.py"],
                       hashtags=["ffe"] if number == EXCEPTION else [])
            # alice's non-core +1 opens the gate of each
            add_vote_event(session, number, 1, 10, "Code-Review", 1, datetime(2017, 1, 11))
            add_current_vote(session, number, 10, "Code-Review", 1)
    evaluate_store(store_engine, CONFIG, now=AFTER)
    return store_engine


def _queue(engine, as_of, now=None):
    with session_scope(engine) as session:
        carol = find_reviewer(session, "carol")
        answer = queue_for(session, CONFIG, carol, as_of, now=now)
        return [row.item.number for row in answer.rows]


def test_after_freeze_the_queue_keeps_bug_fixes_and_exceptions(store):
    assert sorted(_queue(store, AFTER)) == [BUGFIX, EXCEPTION]
    assert sorted(_queue(store, None, now=AFTER)) == [BUGFIX, EXCEPTION]  # the stored present


def test_before_freeze_the_same_store_answers_as_before(store):
    # The stored verdicts (judged after the freeze) must not leak into an earlier date.
    assert sorted(_queue(store, BEFORE)) == [FEATURE, BUGFIX, EXCEPTION, RELATED]
    with session_scope(store) as session:
        stored, _ = changes_at(session, CONFIG, BEFORE)
        replayed, _ = changes_at(session, CONFIG, BEFORE, replay_all=True)
    assert sorted((c.number, c.gate_state) for c in stored) == \
        sorted((c.number, c.gate_state) for c in replayed)


def test_why_not_gives_the_freeze_reason(store):
    with session_scope(store) as session:
        carol = find_reviewer(session, "carol")
        answer = why_not_for(session, CONFIG, FEATURE, carol, AFTER)
        before = why_not_for(session, CONFIG, FEATURE, carol, BEFORE)
    assert not answer.in_queue and answer.failed == "gate"
    assert answer.message == (
        "Gate state is frozen. Feature freeze since 2017-01-26: feature work waits for the "
        "next cycle unless granted an exception (hashtag ffe).")
    assert before.in_queue


def test_queue_and_priorities_pages_say_so_after_the_freeze(store):
    from fastapi.testclient import TestClient

    from dashboards.app import create_app

    line = "Feature freeze since 2017-01-26: only cycle priorities"
    with TestClient(create_app(CONFIG, engine=store)) as client:
        after = client.get("/queue?reviewer=carol&as_of=2017-02-01")
        before = client.get("/queue?reviewer=carol&as_of=2017-01-20")
        report = client.get("/priorities?as_of=2017-02-01")
        report_before = client.get("/priorities?as_of=2017-01-20")
    assert after.status_code == before.status_code == report.status_code == 200
    assert after.text.count(line) == 1 and report.text.count(line) == 1
    assert line not in before.text and line not in report_before.text
    assert 'data-change="101"' not in after.text and 'data-change="102"' in after.text
    assert 'data-change="101"' in before.text
