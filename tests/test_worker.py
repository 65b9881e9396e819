"""Worker: coordination locks, cycles against the sandbox, SIGTERM, two workers on PostgreSQL."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from reviewbot.clock import utcnow
from reviewbot.service.coordination import CYCLE, LEADER, CycleBusy, cycle_guard, make_lock
from reviewbot.service.cycle import run_cycle
from reviewbot.service.worker import Worker
from reviewbot.store import open_store
from reviewbot.store.tables import ActionLog, Change, Verdict, VoteEventRow
from reviewbot.views.standing_view import leaderboard
from tests.conftest import ROOT, make_config
from tests.service_support import (
    bot_env,
    bot_secrets,
    free_port,
    hashtag_writes,
    running_sandbox,
    service_config,
    wait_for,
)

PYTHON = sys.executable


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


HOLD_LOCK = textwrap.dedent("""
    import sys, time
    from reviewbot.config import validate_config
    from reviewbot.service.coordination import make_lock
    import json
    config = validate_config(json.loads(sys.argv[1]))
    lock = make_lock(config, sys.argv[2])
    print("acquired" if lock.try_acquire() else "busy", flush=True)
    time.sleep(60)
""")


def _lock_holder(config_data: dict, name: str) -> subprocess.Popen:
    import json

    proc = subprocess.Popen([PYTHON, "-c", HOLD_LOCK, json.dumps(config_data, default=str), name],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    line = proc.stdout.readline().strip()
    assert line == "acquired", line
    return proc


# --- coordination ------------------------------------------------------------------


def test_file_lock_admits_one_holder_and_frees_on_release(sandbox_config_data, sqlite_url):
    config = make_config(sandbox_config_data, database={"url": sqlite_url})
    first, second = make_lock(config, CYCLE), make_lock(config, CYCLE)
    assert first.try_acquire()
    assert not second.try_acquire()
    # The leader lock is a different lock.
    leader = make_lock(config, LEADER)
    assert leader.try_acquire()
    first.release()
    assert second.try_acquire()
    with pytest.raises(CycleBusy):
        with cycle_guard(config):
            pass
    second.release()
    leader.release()
    with cycle_guard(config) as held:
        assert held.still_held()
    lock_file = Path(sqlite_url[len("sqlite:///"):]).with_name("reviewbot.db.cycle.lock")
    assert lock_file.exists(), "the lock file lives next to the database"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_dead_holders_lock_is_taken_over(backend, sandbox_config_data, tmp_path, request):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'reviewbot.db'}"
    else:
        url = request.getfixturevalue("postgres_database")
    data = {**sandbox_config_data, "database": {"url": url}}
    config = make_config(data)
    holder = _lock_holder(data, LEADER)
    try:
        mine = make_lock(config, LEADER)
        assert not mine.try_acquire(), "a second process must not get a held lock"
        holder.kill()  # no clean release: the OS / the database must free it
        holder.wait()
        _wait_for(mine.try_acquire, 10, "the lock of a killed holder to be free")
        assert mine.still_held()
        mine.release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


# --- cycles against the sandbox ------------------------------------------------------


def test_worker_runs_scheduled_cycles_end_to_end_against_the_sandbox(
        sandbox_config_data, sqlite_url, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="reviewbot.service.worker")
    with running_sandbox(sandbox_config_data) as sb:
        config = service_config(sandbox_config_data, sb, sqlite_url, data_dir=str(tmp_path))
        engine = open_store(sqlite_url)
        worker = Worker(config, bot_secrets(sb), engine, poll_seconds=0.3)
        worker.start()
        try:
            wait_for(lambda: len(worker.cycles) >= 2, 60, "two scheduled cycles")
        finally:
            worker.stop()
            worker.wait_and_shutdown()
        writes_sent = len(hashtag_writes(sb))
    first, second = worker.cycles[:2]
    assert first.errors == 0, first.steps
    assert first.changes > 0 and first.requests > 0 and first.evaluated > 0
    assert first.writes > 0, "sandbox config has write-back on: the first cycle tags changes"
    assert first.writes == writes_sent
    assert second.writes == 0, "nothing changed in Gerrit, so the second cycle writes nothing"
    assert second.requests_by_status.get("200", 0) >= 1
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("cycle ")]
    assert len(lines) >= 2
    assert all(f" {key}=" in f" {lines[0]}" for key in
               ("duration", "requests", "changes", "writes", "errors"))
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Verdict)).one() > 0
        # The cycle's judge step leaves standing readable from stored judgements.
        board = leaderboard(session, config, as_of=utcnow(), window_days=3650)
    assert board and {r.judgements for r in board} == {"stored"}


def test_a_failing_step_is_logged_and_the_rest_of_the_cycle_goes_on(
        sandbox_config_data, sqlite_url, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}/"
    with running_sandbox(sandbox_config_data) as sb:
        config = service_config(
            sandbox_config_data, sb, sqlite_url, data_dir=str(tmp_path),
            launchpad={"enabled": True, "service_root": dead, "project": "glance",
                       "timeout": 1, "deadline_seconds": 5})
        engine = open_store(sqlite_url)
        summary = run_cycle(config, bot_secrets(sb), engine)
        # Launchpad is down: that step fails, sync before and evaluate/apply after still run.
        assert summary.failed_steps == ["launchpad"], summary.steps
        assert summary.steps["sync"].ok and summary.changes > 0
        assert summary.steps["evaluate"].ok and summary.evaluated > 0
        assert summary.steps["apply"].ok and summary.writes > 0
        # Gerrit answers 500 to every query: the sync fails, the store-only steps still run.
        sb.inject_fault("status", status=500, count=1000, path_contains="/changes/?")
        summary = run_cycle(config.model_copy(update={"launchpad": config.launchpad.model_copy(
            update={"enabled": False})}), bot_secrets(sb), engine)
        sb.clear_faults()
    assert summary.failed_steps == ["sync"], summary.steps
    assert summary.steps["evaluate"].ok and summary.evaluated > 0
    assert summary.requests_by_status.get("500", 0) >= 1


def _write_config(path: Path, gerrit_url: str, database_url: str, data_dir: Path) -> Path:
    text = (ROOT / "config" / "sandbox.toml").read_text()
    text = text.replace('url = "http://127.0.0.1:8080"', f'url = "{gerrit_url}"\nretries = 1')
    text = text.replace('url = "sqlite:///data/sandbox/reviewbot.db"', f'url = "{database_url}"')
    text = text.replace('data_dir = "data/sandbox"', f'data_dir = "{data_dir}"')
    path.write_text(text)
    return path


class _Proc:
    """A `reviewbot worker` subprocess whose stderr is collected line by line."""

    def __init__(self, config_path: Path, env: dict[str, str], poll: float = 0.5):
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "reviewbot"), "--config", str(config_path), "worker",
             "--poll-seconds", str(poll)],
            cwd=ROOT, env={**os.environ, **env}, stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def saw(self, text: str) -> int:
        return sum(text in line for line in list(self.lines))

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code


def test_sigterm_mid_cycle_finishes_the_current_step_and_exits_0(
        sandbox_config_data, sqlite_url, tmp_path):
    with running_sandbox(sandbox_config_data) as sb:
        # The sync's query takes 2 s, so SIGTERM arrives while the sync is running.
        sb.inject_fault("slow", delay=2.0, count=1, path_contains="/changes/?")
        path = _write_config(tmp_path / "c.toml", sb.test_url, sqlite_url, tmp_path)
        worker = _Proc(path, bot_env(sb), poll=30)
        try:
            wait_for(lambda: worker.saw("leader=1"), 30, "the worker to start its cycle")
            # The slow fault is taken (and so removed) when the query arrives: from then
            # on the sync is in flight for 2 s, whatever the machine's load.
            wait_for(lambda: not sb.faults, 30, "the sync's slow query to be in flight")
            assert worker.proc.poll() is None
            code = worker.stop(signal.SIGTERM)
        finally:
            if worker.proc.poll() is None:
                worker.proc.kill()
    output = "\n".join(worker.lines)
    assert code == 0, output
    assert worker.saw("SIGTERM received"), output
    cycle_lines = [line for line in worker.lines if " cycle duration=" in line]
    assert len(cycle_lines) == 1 and "stopped_early=1" in cycle_lines[0], output
    # The sync step in flight was finished and committed, not cut off.
    engine = open_store(sqlite_url)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Change)).one() > 0, output
    assert worker.saw("worker stopped"), output


def test_two_workers_on_postgresql_never_duplicate_writes_or_rows(
        sandbox_config_data, postgres_database, tmp_path):
    from reviewbot.sandbox import Activity
    from reviewbot.store.ops import metrics_facts
    from tests.conftest import _fresh_postgres

    _fresh_postgres(postgres_database)
    engine = open_store(postgres_database)

    def cycles_ok() -> int:
        with Session(engine) as session:
            return int(metrics_facts(session)["counters"].get("cycles", {}).get("ok", 0))

    with running_sandbox(sandbox_config_data, changes=30) as sb:
        path = _write_config(tmp_path / "c.toml", sb.test_url, postgres_database, tmp_path)
        first = _Proc(path, bot_env(sb))
        second = None
        try:
            wait_for(lambda: first.saw("leader=1"), 30, "the first worker to lead")
            second = _Proc(path, bot_env(sb))
            wait_for(lambda: second.saw("standby=1") >= 2, 30, "the second worker on standby")
            # New votes and uploads between cycles, so later cycles have writes to make.
            activity = Activity(sb, seed=11)
            for _ in range(8):
                activity.step(utcnow())
            done = cycles_ok()
            wait_for(lambda: cycles_ok() >= done + 2, 90, "two more cycles by the leader")
            assert second.saw(" cycle duration=") == 0, "the standby must not run cycles"
            first.proc.kill()  # dies without releasing anything
            first.proc.wait()
            for _ in range(8):
                activity.step(utcnow())
            done = cycles_ok()
            wait_for(lambda: second.saw("leader=1"), 30, "the standby to take over")
            wait_for(lambda: cycles_ok() >= done + 2, 90, "cycles by the new leader")
            assert second.stop(signal.SIGTERM) == 0
        finally:
            for proc in (first, second):
                if proc is not None and proc.proc.poll() is None:
                    proc.proc.kill()
        posts = hashtag_writes(sb)
        scope = sandbox_config_data["gerrit"]
        expected_changes = len([c for c in sb.changes.values()
                                if c.project in scope["projects"] and not c.private
                                and c.branch in scope["branches"]])
    with Session(engine) as session:
        applied = session.exec(select(ActionLog).where(ActionLog.result == "applied")).all()
        changes = session.exec(select(func.count()).select_from(Change)).one()
        votes = session.exec(select(func.count()).select_from(VoteEventRow)).one()
        distinct_votes = session.exec(
            select(func.count(func.distinct(VoteEventRow.message_id + VoteEventRow.label)))).one()
    # Every write that reached Gerrit is one applied action, and no change got the
    # same write twice in a row (what two overlapping cycles would produce).
    assert len(posts) == len(applied) > 0
    last_body: dict[str, bytes] = {}
    for request in posts:
        assert last_body.get(request.path) != request.body, f"duplicate write {request.path}"
        last_body[request.path] = request.body
    assert changes == expected_changes
    assert votes == distinct_votes
