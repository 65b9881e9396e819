"""Leadership: one lease holder at a time, fenced writes, and bounded fail-over, on SQLite
(flock) and PostgreSQL (advisory lock), with real locks and a real store."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text

from reviewbot.service.coordination import LEADER, make_lock
from reviewbot.service.leadership import Leadership, Lease, may_take
from reviewbot.store import normalise_url
from tests.conftest import make_config


def pair(config, engine, lease_seconds: float = 30.0) -> tuple[Leadership, Leadership]:
    return tuple(Leadership(engine, make_lock(config, LEADER), lease_seconds, holder=name)
                 for name in ("A", "B"))


@pytest.fixture
def config(sandbox_config_data, store_url):
    return make_config(sandbox_config_data, database={"url": store_url})


def test_the_take_over_rule():
    assert may_take(None, 100.0, have_lock=False)
    live = Lease("A", 3, expires=110.0, locked=True)
    assert not may_take(live, 100.0, have_lock=False)  # A leads
    assert may_take(live, 100.0, have_lock=True)  # A's lock session is gone
    assert may_take(live, 110.0, have_lock=False)  # A stopped renewing: frozen or dead
    unlocked = Lease("A", 3, expires=110.0, locked=False)
    assert not may_take(unlocked, 100.0, have_lock=True)  # A leads without the lock
    assert Lease.parse(live.text()) == live and Lease.parse("{bad") is None


def test_one_leader_and_a_clean_release_hands_over_at_once(config, store_engine):
    a, b = pair(config, store_engine)
    assert a.acquire() and a.token == 1
    assert not b.acquire() and b.token is None
    assert a.still_leading() and a.acquire()  # renewals keep the token
    assert a.token == 1
    a.release()
    assert not a.still_leading()
    assert b.acquire() and b.token == 2
    b.release()


def test_a_frozen_leader_is_replaced_after_its_lease_and_stops_on_waking(config, store_engine):
    a, b = pair(config, store_engine, lease_seconds=1.0)
    assert a.acquire()
    assert not b.acquire()
    time.sleep(1.2)  # A is frozen: no heartbeat, its lock still held
    assert b.acquire() and b.token == 2
    assert b.lease.locked is False  # A still holds the lock
    assert b.still_leading()
    # A wakes up: its fence fails before any write, and it lets go of the lock.
    assert not a.still_leading()
    assert not a.acquire(), "the woken leader must not take the lease back"
    assert b.acquire() and b.lease.locked and b.token == 2
    assert not a.acquire()
    b.release()


def test_a_leader_whose_lock_session_is_dropped_is_fenced_and_replaced_at_once(
        sandbox_config_data, postgres_database):
    from reviewbot.store import open_store
    from tests.conftest import _fresh_postgres

    _fresh_postgres(postgres_database)
    engine = open_store(postgres_database)
    config = make_config(sandbox_config_data, database={"url": postgres_database})
    a, b = pair(config, engine)
    assert a.acquire() and not b.acquire()
    admin = create_engine(normalise_url(postgres_database), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'reviewbot-lock' AND datname = current_database()"
        )).scalar()
    admin.dispose()
    assert killed == 1
    assert not a.still_leading(), "a leader without its lock session must not write"
    assert b.acquire() and b.token == 2, "the standby takes over without waiting the lease"
    assert not a.acquire()
    b.release()
    engine.dispose()


def test_a_fence_whose_renewal_stalls_past_a_third_of_the_lease_does_not_let_a_write_out(
        config, store_engine):
    # A leader can stall inside its renewal (here: another transaction holds the lease
    # row) for as long as it could have been frozen after the commit; a standby may lead
    # by then, so the fence must not pass. Taking the lease back later is allowed.
    import threading

    a, _b = pair(config, store_engine, lease_seconds=1.5)
    assert a.acquire()
    assert a.still_leading(), "a prompt renewal passes the fence"
    release = threading.Event()

    def hold_the_lease_row() -> None:
        with store_engine.begin() as conn:
            conn.execute(text("UPDATE sync_state SET value = value WHERE key = 'leader.lease'"))
            release.wait(5)

    holder = threading.Thread(target=hold_the_lease_row)
    holder.start()
    time.sleep(0.1)  # the other transaction has the row
    threading.Timer(0.8, release.set).start()
    try:
        assert not a.still_leading(), "a renewal that took 0.7 s of a 1.5 s lease must fail"
    finally:
        release.set()
        holder.join()
    assert a.token is None
    assert a.acquire() and a.token == 1, "the lease is still ours: the next tick leads again"
    a.release()
