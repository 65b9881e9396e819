"""Worker: coordination locks, cycles against the sandbox, SIGTERM, two workers on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from reviewbot.coordination import CYCLE, LEADER, CycleBusy, cycle_guard, make_lock
from tests.conftest import ROOT, make_config

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
    from reviewbot.coordination import make_lock
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
