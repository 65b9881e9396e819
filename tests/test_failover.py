"""Fail-over with fencing: two real `reviewbot worker` processes on PostgreSQL against the
sandbox Gerrit, through a dropped lock session (what a database restart or a network blip
does to it) and a frozen leader (SIGSTOP past its lease, then SIGCONT). Every write that
reached Gerrit is counted in the sandbox's request log: none may arrive twice."""

from __future__ import annotations

import signal
from collections import Counter

from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from reviewbot.clock import utcnow
from reviewbot.service.leadership import LEASE_KEY, Lease
from reviewbot.store import normalise_url, open_store, session_scope
from reviewbot.store.state import get_state
from reviewbot.store.tables import ActionLog
from tests.service_support import bot_env, running_sandbox, wait_for
from tests.test_worker import _Proc, _write_config

LEASE = 3  # seconds; a frozen leader is replaced within about LEASE + LEASE / 3
WRITE_DELAY = 0.2  # each write takes this long in Gerrit, so a cycle's writes take seconds


def gerrit_writes(sb) -> list:
    with sb.lock:
        return [r for r in sb.requests if r.method == "POST"]


def duplicates(sb) -> list[str]:
    # The scenario never asks for the same write twice (no change is tagged, untagged and
    # tagged again), so a repeated (path, body) is a write done twice.
    sent = Counter((r.path, r.body) for r in gerrit_writes(sb))
    return [f"{path} {body!r} x{n}" for (path, body), n in sent.items() if n > 1]


def drop_lock_sessions(url: str) -> int:
    admin = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return int(conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'reviewbot-lock' AND datname = current_database()"
            )).scalar())
    finally:
        admin.dispose()


def add_gated_changes(sb, label: str, count: int) -> None:
    """New changes nobody reviewed: each needs one hashtag write."""
    owner = "failover-dev"
    if owner not in sb.by_username:
        sb.add_account(owner, name="Fail Over", email="failover@example.org")
    for i in range(count):
        sb.add_change("openstack/glance", "master", f"{label} change {i}", owner,
                      message=f"{label} change {i}\n", created=utcnow())


def lease(engine) -> Lease:
    with session_scope(engine) as session:
        return Lease.parse(get_state(session, LEASE_KEY))


def lease_pid(engine) -> int:
    return int(lease(engine).holder.split(":")[1])


def lease_token(engine) -> int:
    current = lease(engine)
    return current.token if current else 0


def test_two_workers_never_write_twice_through_a_dropped_lock_and_a_frozen_leader(
        sandbox_config_data, postgres_database, tmp_path):
    from tests.conftest import _fresh_postgres

    _fresh_postgres(postgres_database)
    engine = open_store(postgres_database)
    with running_sandbox(sandbox_config_data, changes=80) as sb:
        sb.inject_fault("slow", method="POST", delay=WRITE_DELAY, count=100_000)
        path = _write_config(tmp_path / "c.toml", sb.test_url, postgres_database, tmp_path)
        path.write_text(path.read_text()
                        .replace("poll_seconds = 15", f"poll_seconds = 15\nlease_seconds = {LEASE}")
                        .replace("timeout = 10", "timeout = 2"))
        add_gated_changes(sb, "Start", 30)  # the first cycle has some 40 writes to make
        first = _Proc(path, bot_env(sb))
        second = None
        try:
            wait_for(lambda: first.saw("leader=1"), 30, "the first worker to lead")
            second = _Proc(path, bot_env(sb))
            wait_for(lambda: second.saw("standby=1"), 30, "the second worker on standby")
            workers = {first.proc.pid: first, second.proc.pid: second}

            # 1. The leader's lock session is dropped while it is writing. Either worker
            # may lead next (the leader itself if it gets the lock back first).
            wait_for(lambda: len(gerrit_writes(sb)) >= 5, 60, "the leader to be writing")
            assert drop_lock_sessions(postgres_database) >= 1
            wait_for(lambda: first.saw("leadership lost"), 10, "the leader to notice")
            wait_for(lambda: lease_token(engine) >= 1 and sum(
                w.saw(" cycle duration=") for w in workers.values()) >= 2, 60,
                "a cycle after the drop")
            assert duplicates(sb) == []

            # 2. The leader freezes mid-write, past its lease; the other takes over.
            leader = workers[lease_pid(engine)]
            other = second if leader is first else first
            token = lease_token(engine)
            add_gated_changes(sb, "Fail-over", 25)
            before = len(gerrit_writes(sb))
            wait_for(lambda: len(gerrit_writes(sb)) >= before + 3, 60, "writes by the leader")
            lost_before = leader.saw("leadership lost")
            leader.proc.send_signal(signal.SIGSTOP)
            try:
                wait_for(lambda: lease_pid(engine) == other.proc.pid, LEASE * 3,
                         "the frozen leader to be replaced within about its lease")
                assert lease_token(engine) == token + 1
                cycles = other.saw(" cycle duration=")
                wait_for(lambda: other.saw(" cycle duration=") > cycles, 60,
                         "a full cycle by the replacement")
            finally:
                leader.proc.send_signal(signal.SIGCONT)
            wait_for(lambda: leader.saw("leadership lost") > lost_before, 20,
                     "the woken leader to find its lease taken")
            # Two more cycles: everything written is now known to both.
            cycles = other.saw(" cycle duration=")
            wait_for(lambda: other.saw(" cycle duration=") >= cycles + 2, 60, "quiet cycles")
            assert first.stop(signal.SIGTERM) == 0
            assert second.stop(signal.SIGTERM) == 0
        except AssertionError:
            print("\n".join(first.lines + ["---- second"] + (second.lines if second else [])))
            raise
        finally:
            for proc in (first, second):
                if proc is not None and proc.proc.poll() is None:
                    proc.proc.kill()
        output = "\n".join(first.lines + ["----"] + (second.lines if second else []))
        assert duplicates(sb) == [], output
        writes = gerrit_writes(sb)
        tagged = [c for c in sb.changes.values() if " change " in c.subject
                  and c.subject.split()[0] in ("Start", "Fail-over")]
        assert all("needs-noncore-review" in c.hashtags for c in tagged)
    with Session(engine) as session:
        applied = session.exec(select(ActionLog).where(ActionLog.result == "applied")).all()
    assert len(tagged) == 55
    assert len(writes) == len(applied) > 55
    engine.dispose()
