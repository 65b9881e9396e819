"""As of T, time travel equals truncation (DESIGN "Testing"): every answer as of T on the
whole store equals the answer "now = T" on a copy that holds only what existed at T.

A generated Glance-like cycle is synced from the sandbox Gerrit over HTTP; the copies
are made by `tests.time_travel`, written from DESIGN's words. Answers compared: gate
and review states (evaluate), every core's queue and non-cores' first-crack queues,
why-not, the PTL report and the standing leaderboard.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlmodel import Session

from reviewbot.evaluate.verdicts import evaluate_as_of, evaluate_store, stored_verdicts
from reviewbot.gerrit.client import GerritClient
from reviewbot.store import normalise_url, open_store, session_scope
from reviewbot.store.queue_reads import find_reviewer
from reviewbot.store.snapshots import load_changes
from reviewbot.store.tables import Account, Change
from reviewbot.sync.rest import sync_once
from reviewbot.timeline.roster import load_roster
from reviewbot.views.queue_view import queue_for, why_not_for
from reviewbot.views.report_render import report_json
from reviewbot.views.reporting import report_as_of
from reviewbot.views.standing_view import leaderboard
from tests.conftest import POSTGRES_URL
from tests.service_support import generated_sandbox, service_config
from tests.time_travel import truncate_copy


@pytest.fixture(scope="module")
def sandbox():
    with generated_sandbox(changes=110, seed=17) as generated:
        yield generated


@pytest.fixture
def copy_url(store_url, tmp_path):
    """A second empty store of the same kind as `store_url`."""
    if store_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'copy.db'}"
        return
    name = f"reviewbot_copy_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _verdicts(result) -> dict:
    return {v.number: (v.gate.state, v.gate.reason, tuple(v.priority_ids),
                       v.review.state if v.review else None)
            for v in result.all}


def _queue(answer) -> tuple:
    return (answer.kind, answer.total,
            [(r.item.number, getattr(r.item, "score", None), tuple(r.item.reasons))
             for r in answer.rows])


def _board(rows) -> list:
    return [(r.account_id, r.metrics) if hasattr(r, "metrics") else r for r in rows]


def test_every_answer_as_of_t_equals_now_on_a_store_truncated_at_t(sandbox, store_url,
                                                                    copy_url) -> None:
    sb, data = sandbox
    config = service_config(data, sb, store_url)
    whole = open_store(store_url)
    sync_once(GerritClient(sb.test_url), whole, config)
    with session_scope(whole) as s:
        first = s.execute(select(func.min(Change.created))).scalar()
        last = s.execute(select(func.max(Change.updated))).scalar()
    evaluate_store(whole, config, now=last + timedelta(hours=1))
    span = last - first
    checked = {"core": 0, "first-crack": 0, "in": 0, "out": 0}
    for i, at in enumerate((first + span * 0.35, first + span * 0.6 + timedelta(minutes=7),
                            first + span * 0.85)):
        target = copy_url.replace("copy", f"copy{i}") if copy_url.startswith("sqlite") \
            else copy_url
        if not copy_url.startswith("sqlite"):
            with create_engine(normalise_url(target), isolation_level="AUTOCOMMIT").connect() \
                    as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        part = open_store(target)
        truncate_copy(whole, part, at)
        evaluate_store(part, config, now=at)

        assert _verdicts(evaluate_as_of(whole, config, at)) == _verdicts(
            stored_verdicts(part)), at

        with Session(whole) as sw, Session(part) as sp:
            roster = load_roster(sw, config)
            names = [a.username for a in sw.execute(select(Account)).scalars()
                     if a.username and a.id not in roster.bots]
            for name in names:
                who_w, who_p = find_reviewer(sw, name), find_reviewer(sp, name)
                past = queue_for(sw, config, who_w, at)
                present = queue_for(sp, config, who_p, None, now=at)
                assert _queue(past) == _queue(present), (at, name)
                checked[past.kind] += past.total
            numbers = [c.number for c in load_changes(sp, history=False)][::7]
            for name in names[:4]:
                who_w, who_p = find_reviewer(sw, name), find_reviewer(sp, name)
                for number in numbers:
                    a = why_not_for(sw, config, number, who_w, at)
                    b = why_not_for(sp, config, number, who_p, None, now=at)
                    assert a.as_json() == b.as_json(), (at, name, number)
                    checked["in" if a.in_queue else "out"] += 1

            assert report_json(report_as_of(sw, config, at)) == report_json(
                report_as_of(sp, config, at)), at
            for replay in (True, False):
                assert _board(leaderboard(sw, config, as_of=at, window_days=90,
                                          include_core=True, replay=replay)) == _board(
                    leaderboard(sp, config, as_of=at, window_days=90, include_core=True,
                                replay=replay)), (at, replay)
        part.dispose()
    whole.dispose()
    # The comparison covered both kinds of queue and both why-not answers.
    assert all(checked.values()), checked


def test_the_truncated_copy_holds_nothing_after_t(sandbox, store_url, copy_url) -> None:
    sb, data = sandbox
    config = service_config(data, sb, store_url)
    whole = open_store(store_url)
    sync_once(GerritClient(sb.test_url), whole, config)
    with session_scope(whole) as s:
        at = s.execute(select(func.min(Change.created))).scalar() + timedelta(days=40)
    part = open_store(copy_url)
    truncate_copy(whole, part, at)
    with Session(part) as s:
        for change in load_changes(s, messages=True):
            assert change.created <= at and change.updated <= at
            assert all(p.created <= at for p in change.patch_sets)
            assert all(m.date <= at for m in change.messages)
            assert all(e.date <= at for e in change.vote_events)
            assert change.status == "NEW" or (change.closed_at or change.submitted) <= at
    whole.dispose()
    part.dispose()


@pytest.mark.parametrize("at", [datetime(2016, 1, 1)])
def test_before_anything_existed_every_queue_is_empty(sandbox, store_url, at) -> None:
    sb, data = sandbox
    config = service_config(data, sb, store_url)
    whole = open_store(store_url)
    sync_once(GerritClient(sb.test_url), whole, config)
    with Session(whole) as s:
        roster = load_roster(s, config)
        for account in sorted(roster.ever_core())[:3]:
            who = find_reviewer(s, roster.username(account))
            assert queue_for(s, config, who, at).total == 0
    assert evaluate_as_of(whole, config, at).all == []
    whole.dispose()
