"""Queues read from the store: the stored present equals the timeline replayed at the same
time, a past queue holds exactly the changes open then, and the cache follows the store.

A generated Glance-like cycle is synced from the sandbox Gerrit over HTTP and evaluated.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from reviewbot.store import session_scope
from reviewbot.store.queue_reads import find_reviewer
from reviewbot.store.snapshots import load_changes
from reviewbot.store.tables import Account
from reviewbot.timeline.roster import load_roster
from reviewbot.timeline.state import WAITING_ON_REVIEWERS, state_at
from reviewbot.views.queue_at import changes_at
from reviewbot.views.queue_present import QueueCache
from reviewbot.views.queue_view import queue_for, queue_sizes, why_not_for
from tests.service_support import generated_sandbox, synced_and_evaluated


@pytest.fixture(scope="module")
def sandbox():
    with generated_sandbox(changes=120, seed=23) as generated:
        yield generated


@pytest.fixture
def cycle(sandbox, store_url):
    # The present: after everything the store holds.
    engine, config, now = synced_and_evaluated(*sandbox, store_url)
    yield engine, config, now
    engine.dispose()


def _people(engine, config, now):
    with Session(engine) as s:
        roster = load_roster(s, config)
        names = [a.username for a in s.execute(select(Account)).scalars() if a.username]
    cores = [roster.username(a) for a in sorted(roster.core_at(now))]
    others = [n for n in names if roster.account_by_username(n) not in roster.core_at(now)
              and roster.account_by_username(n) not in roster.bots]
    return cores, others[:6]


def _answer(answer):
    return [(row.item.number, getattr(row.item, "score", None), tuple(row.item.reasons))
            for row in answer.rows], answer.total, answer.kind


def test_the_stored_present_equals_the_timeline_replayed_now(cycle) -> None:
    engine, config, now = cycle
    cores, others = _people(engine, config, now)
    assert cores and others
    cache = QueueCache(engine, config)
    seen = {"core": 0, "first-crack": 0}
    with Session(engine) as s:
        for name in cores + others:
            who = find_reviewer(s, name)
            stored = queue_for(s, config, who, None, now=now, cache=cache)
            replayed = queue_for(s, config, who, now)
            assert _answer(stored) == _answer(replayed), name
            # A one-off answer reads only this reviewer's candidates: the same queue.
            assert _answer(queue_for(s, config, who, None, now=now)) == _answer(stored), name
            seen[stored.kind] += stored.total
            later = now + timedelta(days=2, hours=5)  # scores move with the clock alike
            assert _answer(queue_for(s, config, who, None, now=later, cache=cache)) == \
                _answer(queue_for(s, config, who, later)), name
        sizes, _roster = queue_sizes(s, config, None, cache, now=now)
        assert sizes == queue_sizes(s, config, now)[0]
    cache.close()
    assert seen["core"] and seen["first-crack"], seen


def test_every_queue_row_is_open_waiting_on_reviewers_and_in_the_right_gate(cycle) -> None:
    engine, config, now = cycle
    cores, others = _people(engine, config, now)
    with Session(engine) as s:
        roster = load_roster(s, config)
        for name in (cores[0], others[0]):
            who = find_reviewer(s, name)
            answer = queue_for(s, config, who, now)
            numbers = [row.item.number for row in answer.rows]
            for change in load_changes(s, numbers=numbers):
                state = state_at(change, now)
                assert state.is_open
                assert state.review.state == WAITING_ON_REVIEWERS
                assert change.owner_id != who.id
                assert state.voted(who.id) is None
            gates = {row.change.gate_state for row in answer.rows}
            assert gates <= ({"gated"} if answer.kind == "first-crack"
                             else {"priority", "exempt", "open"})
            if answer.kind == "first-crack":
                uploads = [row.item.uploaded for row in answer.rows]
                assert uploads == sorted(uploads)  # longest wait first
                assert all("no non-core +1 on patch set" in row.item.reasons[0]
                           for row in answer.rows)
            assert roster.core_status(who.id, now) is (answer.kind == "core")


def test_a_past_queue_holds_exactly_the_changes_open_then(cycle) -> None:
    engine, config, now = cycle
    cores, _others = _people(engine, config, now)
    with Session(engine) as s:
        first = min(c.created for c in load_changes(s, history=False))
        past = first + (now - first) / 2
        changes, _roster = changes_at(s, config, past)
        every = load_changes(s, projects=config.gerrit.projects,
                             branches=config.gerrit.branches)
        waiting_then = {c.number for c in every if state_at(c, past).is_open
                        and state_at(c, past).review.state == WAITING_ON_REVIEWERS}
        assert {c.number for c in changes if c.open} == waiting_then
        created_later = {c.number for c in every if c.created > past}
        assert created_later
        who = find_reviewer(s, cores[0])
        rows = queue_for(s, config, who, past).rows
        assert rows
        assert not {r.item.number for r in rows} & created_later


def test_paging_returns_the_same_order(cycle) -> None:
    engine, config, now = cycle
    cores, _ = _people(engine, config, now)
    with Session(engine) as s:
        who = find_reviewer(s, cores[0])
        everything = queue_for(s, config, who, None, now=now)
        first = queue_for(s, config, who, None, now=now, offset=0, limit=3)
        second = queue_for(s, config, who, None, now=now, offset=3, limit=3)
    numbers = [r.item.number for r in everything.rows]
    assert [r.item.number for r in first.rows + second.rows] == numbers[:6]
    assert first.total == second.total == len(numbers)


def test_why_not_matches_the_queue(cycle) -> None:
    engine, config, now = cycle
    cores, others = _people(engine, config, now)
    with Session(engine) as s:
        for name in (cores[0], others[0]):
            who = find_reviewer(s, name)
            answer = queue_for(s, config, who, None, now=now)
            in_queue = {r.item.number: i for i, r in enumerate(answer.rows, 1)}
            for change in load_changes(s, projects=config.gerrit.projects,
                                       branches=config.gerrit.branches, history=False)[:60]:
                why = why_not_for(s, config, change.number, who, None, now=now)
                assert why.in_queue is (change.number in in_queue), (name, change.number)
                if why.in_queue:
                    assert why.position == in_queue[change.number]
                else:
                    assert why.failed and why.message
        assert why_not_for(s, config, 10**9, who, None, now=now) is None


def test_cache_sees_writes_made_elsewhere(cycle) -> None:
    engine, config, now = cycle
    cores, _ = _people(engine, config, now)
    cache = QueueCache(engine, config)
    with Session(engine) as s:
        who = find_reviewer(s, cores[0])
        before = queue_for(s, config, who, None, now=now, cache=cache)
        assert before.rows
    top = before.rows[0].item.number
    with session_scope(engine) as s:  # the verdict of the top change moves to "gated"
        from reviewbot.store.tables import Verdict

        s.get(Verdict, top).gate_state = "gated"
    with Session(engine) as s:
        after = queue_for(s, config, who, None, now=now, cache=cache)
    assert top not in [r.item.number for r in after.rows]
    cache.close()


def test_settled_changes_read_from_their_stored_states_equal_their_replay(cycle) -> None:
    engine, config, now = cycle
    with Session(engine) as s:
        first = min(c.created for c in load_changes(s, history=False))
        for fraction in (0.3, 0.55, 0.8, 1.0):
            at = first + (now - first) * fraction
            stored, _ = changes_at(s, config, at)
            replayed, _ = changes_at(s, config, at, replay_all=True)

            def key(changes):
                return sorted((c.number, c.gate_state, c.current_patch_set, c.uploaded,
                               tuple(sorted(c.votes)), c.priorities, c.rank,
                               c.priority_reasons, c.gate_reason if c.gate_state != "gated"
                               else None) for c in changes)
            assert key(stored) == key(replayed), at
            assert stored
