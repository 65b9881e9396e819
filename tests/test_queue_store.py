"""Core queue read from the store: same answers as the pure rules, cache follows the store."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session

from reviewbot.queue import QueueChange, build_queue
from reviewbot.store import session_scope
from reviewbot.store.queue_reads import (
    QueueCache,
    core_ids_at,
    find_reviewer,
    load_queue,
    queue_changes,
    why_not_in_queue,
)
from reviewbot.store.snapshots import load_roster
from tests.conftest import make_config
from tests.store_builder import (
    add_account,
    add_change,
    add_core,
    add_current_vote,
    set_verdict,
)

NOW = datetime(2017, 1, 20, 12, 0, 0)
CORES = [1, 2, 3]
OTHERS = [10, 11, 12, 13]


@pytest.fixture
def config(sandbox_config_data: dict):
    return make_config(sandbox_config_data)


def random_store(engine, seed: int = 3, n: int = 120) -> None:  # noqa: ANN001
    rng = random.Random(seed)
    with session_scope(engine) as s:
        for a in CORES:
            add_account(s, a, f"core{a}")
        for a in OTHERS:
            add_account(s, a, f"user{a}")
        add_account(s, 99, "zuul")
        add_core(s, "glance-core", *CORES)
        for number in range(1, n + 1):
            uploads = sorted(NOW - timedelta(hours=rng.choice([0, 12, 24, 36, 48, 60, 72, 200]),
                                             minutes=rng.choice([0, 0, 30]))
                             for _ in range(rng.randint(1, 3)))
            add_change(
                s, number, rng.choice(CORES + OTHERS), patch_sets=uploads,
                status=rng.choice(["NEW"] * 8 + ["MERGED"]), wip=rng.random() < 0.05,
                project=rng.choice(["openstack/glance"] * 5 + ["openstack/nova"]),
            )
            for voter in rng.sample(CORES + OTHERS, rng.randint(0, 4)):
                add_current_vote(s, number, voter, "Code-Review",
                                 rng.choice([-2, -1, 0, 1, 1, 2]))
            if rng.random() < 0.7:
                add_current_vote(s, number, 99, "Verified", rng.choice([1, 1, -1]))
            if rng.random() < 0.05:
                add_current_vote(s, number, 10, "Workflow", -1)
            state = rng.choice(["priority", "priority", "exempt", "open", "open", "gated"])
            if state == "priority":
                pid, rank = rng.choice([("community-goal", 1), ("image-import-refactor", 3)])
                set_verdict(s, number, "priority", priorities=[pid], rank=rank,
                            matches=[{"priority": pid, "title": pid, "rank": rank,
                                      "reasons": [f"blueprint {pid} (commit footer)"]}])
            else:
                set_verdict(s, number, state, gate_reason=f"gate says {state}")


def test_store_queue_equals_pure_queue(store_engine, config) -> None:
    random_store(store_engine)
    cache = QueueCache(store_engine, config)
    for reviewer in ("core1", "core2", "core3"):
        for now in (NOW, NOW + timedelta(hours=12), NOW + timedelta(days=3),
                    NOW - timedelta(days=2), NOW + timedelta(days=1, minutes=30)):
            with Session(store_engine) as s:
                who = find_reviewer(s, reviewer)
                page = load_queue(s, config, who.id, now, limit=None, cache=cache)
                roster = load_roster(s, config)
                summaries = queue_changes(s, config, list(range(1, 121)))
            tracked: list[QueueChange] = [
                c.change for c in summaries.values()
                if c.project in config.gerrit.projects and c.branch in config.gerrit.branches
            ]
            expected = build_queue(tracked, who.id, core_ids_at(roster, now), now,
                                   roster.username)
            assert expected, "the random store should give a non-empty queue"
            got = [(it.number, it.score, it.priority) for it, _summary in page.items]
            assert got == [(it.number, it.score, it.priority) for it in expected], (reviewer, now)
            assert page.total == len(expected)
            assert [it.reasons for it, _s in page.items] == [it.reasons for it in expected]
    cache.close()


def test_paging_returns_the_same_order(engine, config) -> None:
    random_store(engine)
    cache = QueueCache(engine, config)
    with Session(engine) as s:
        everything = load_queue(s, config, 1, NOW, limit=None, cache=cache)
        first = load_queue(s, config, 1, NOW, offset=0, limit=10, cache=cache)
        second = load_queue(s, config, 1, NOW, offset=10, limit=10, cache=cache)
    numbers = [it.number for it, _ in everything.items]
    assert [it.number for it, _ in first.items + second.items] == numbers[:20]
    assert first.total == second.total == len(numbers)


def test_cache_sees_writes_made_elsewhere(store_engine, config) -> None:
    with session_scope(store_engine) as s:
        add_account(s, 1, "alice")
        add_account(s, 5, "owner")
        add_core(s, "glance-core", 1)
        add_change(s, 100, 5, created=NOW - timedelta(days=1))
        set_verdict(s, 100, "open")
    cache = QueueCache(store_engine, config)
    with Session(store_engine) as s:
        assert [it.number for it, _ in load_queue(s, config, 1, NOW, cache=cache).items] == [100]
    with session_scope(store_engine) as s:  # alice reviews it
        add_current_vote(s, 100, 1, "Code-Review", 1)
    with Session(store_engine) as s:
        assert load_queue(s, config, 1, NOW, cache=cache).items == []
    cache.close()


def test_why_not_reports_position_and_failures(engine, config) -> None:
    with session_scope(engine) as s:
        add_account(s, 1, "alice")
        add_account(s, 5, "owner")
        add_account(s, 7, "carol")
        add_core(s, "glance-core", 1)
        add_change(s, 100, 5, created=NOW - timedelta(days=2))
        add_change(s, 101, 5, created=NOW - timedelta(days=1))
        add_change(s, 102, 5, created=NOW)
        add_change(s, 103, 5, project="openstack/nova")
        set_verdict(s, 100, "open")
        set_verdict(s, 101, "open")
        set_verdict(s, 102, "gated", gate_reason="Not a cycle priority; waiting for a non-core "
                    "+1 on patch set 1.")
        set_verdict(s, 103, "open")
    with Session(engine) as s:
        alice = find_reviewer(s, "ALICE")  # usernames are found in any case
        answer = why_not_in_queue(s, config, 101, alice, NOW)
        assert answer.in_queue and answer.position == 2 and answer.total == 2
        assert "position 2 of 2" in answer.message
        gated = why_not_in_queue(s, config, 102, alice, NOW)
        assert gated.failed == "gate" and "waiting for a non-core +1" in gated.message
        assert why_not_in_queue(s, config, 103, alice, NOW).message.endswith(
            "outside the configured projects and branches.")
        carol = find_reviewer(s, "carol")
        assert why_not_in_queue(s, config, 100, carol, NOW).failed == "reviewer"
        assert why_not_in_queue(s, config, 999, alice, NOW) is None
        assert find_reviewer(s, "nobody") is None
