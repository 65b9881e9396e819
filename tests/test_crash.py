"""Crash safety (`pytest -m crash`): real `reviewbot` processes SIGKILLed at random points of a
first start, a back-fill, an evaluation and a write-back, on SQLite and PostgreSQL, against the
sandbox Gerrit. After a restart the store equals the truth and no write reached Gerrit twice.

Kill points are drawn from REVIEWBOT_CRASH_SEED (default: a new seed each run, printed with any
failure, so a failing run can be replayed)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from reviewbot.sandbox import SandboxGerrit, generate_cycle
from reviewbot.store import open_store, session_scope
from reviewbot.store.tables import ActionLog, Verdict
from tests.conftest import ROOT, make_config
from tests.fault_support import (
    differences,
    reached_gerrit,
    repeated_writes,
    sandbox_truth,
    store_content,
    store_truth,
)
from tests.service_support import bot_env
from tests.test_worker import _write_config

pytestmark = pytest.mark.crash

KILLS = 5  # per phase
SEED = int(os.environ.get("REVIEWBOT_CRASH_SEED") or random.randrange(10**6))


class Runner:
    """Runs `reviewbot <command>` against one config, to completion or until killed."""

    def __init__(self, config: Path, env: dict[str, str]):
        self.config = config
        self.env = {**os.environ, **env}
        self.kills = 0

    def start(self, *command: str) -> subprocess.Popen:
        return subprocess.Popen([str(ROOT / ".venv" / "bin" / "reviewbot"), "--config",
                                 str(self.config), *command], env=self.env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def complete(self, *command: str) -> None:
        proc = self.start(*command)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"{command} after the kills (seed {SEED}): {err[-2000:]}"

    def json(self, *command: str) -> dict:
        done = subprocess.run([str(ROOT / ".venv" / "bin" / "reviewbot"), "--config",
                               str(self.config), *command], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout)

    def kill_when(self, command: tuple[str, ...], ready, timeout: float = 60) -> bool:
        """Start `command`, SIGKILL it as soon as `ready()`; False if it finished first."""
        proc = self.start(*command)
        deadline = time.monotonic() + timeout
        while proc.poll() is None and not ready():
            if time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"{command}: never reached its kill point (seed {SEED})")
            time.sleep(0.005)
        if proc.poll() is not None:
            err = proc.stderr.read()
            assert proc.returncode == 0, f"{command} failed (seed {SEED}): {err[-2000:]}"
            return False
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
        self.kills += 1
        return True


def after(seconds: float):
    start = time.monotonic()
    return lambda: time.monotonic() - start >= seconds


def verdicts(engine) -> list[tuple]:
    with session_scope(engine) as session:
        rows = session.execute(select(Verdict)).scalars().all()
        return sorted((v.change_number, v.gate_state, v.gate_reason, tuple(v.priorities),
                       v.rank, v.exempt, v.gate_certain, tuple(v.reasons)) for v in rows)


def fresh_store(url: str) -> None:
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url[len("sqlite:///"):] + suffix).unlink(missing_ok=True)
    else:
        from tests.conftest import _fresh_postgres

        _fresh_postgres(url)


def test_sigkill_at_random_points_then_restart_loses_nothing_and_writes_nothing_twice(
        store_url, sandbox_config_data, tmp_path):
    rng = random.Random(SEED)
    sb = SandboxGerrit()
    generate_cycle(sb, changes=400, seed=21)
    from reviewbot.service.demo import add_demo_bot

    sb.bot_username, sb.bot_password = add_demo_bot(sb, make_config(sandbox_config_data))
    # Writes take a moment in Gerrit, so kills also land while one is in flight.
    sb.inject_fault("slow", method="POST", delay=0.02, count=100_000)
    with sb.running() as url:
        path = _write_config(tmp_path / "c.toml", url, store_url, tmp_path)
        path.write_text(path.read_text().replace("page_size = 100", "page_size = 10"))
        runner = Runner(path, bot_env(sb))
        config = make_config(sandbox_config_data, gerrit={**sandbox_config_data["gerrit"],
                                                          "url": url},
                             database={"url": store_url})

        def queries() -> int:
            with sb.lock:
                return sum(1 for r in sb.requests if r.path.rstrip("/").endswith("/changes"))

        # 1. A first start: killed anywhere from imports through schema setup to the first
        # pages, each time on a fresh store.
        fresh_store(store_url)
        started = time.monotonic()
        runner.complete("sync")  # how long a whole first start takes on this machine
        first_start = time.monotonic() - started
        for _ in range(KILLS):
            fresh_store(store_url)
            runner.kill_when(("sync",), after(rng.uniform(0.05, 0.9) * first_start))
        first_start_kills = runner.kills
        assert first_start_kills >= 3, f"most first starts must be killed (seed {SEED})"

        # 2. A back-fill (~40 pages), killed after a random number of pages, five times.
        fresh_store(store_url)
        runner.complete("check-config")
        open_store(store_url).dispose()  # schema in place: every kill lands in the sync
        pages = len(sandbox_truth(sb, config)["changes"]) // 10 + 1
        while runner.kills < first_start_kills + KILLS:
            seen, k = queries(), rng.randrange(1, pages - 1)
            runner.kill_when(("sync",), lambda seen=seen, k=k: queries() >= seen + k)
        runner.complete("sync")
        engine = open_store(store_url)
        assert store_truth(engine) == sandbox_truth(sb, config), f"seed {SEED}"
        reference_url = f"sqlite:///{tmp_path / 'reference.db'}"
        reference = open_store(reference_url)
        from reviewbot.gerrit.client import GerritClient
        from reviewbot.sync.rest import sync_once

        sync_once(GerritClient(url), reference, config.model_copy(update={
            "database": config.database.model_copy(update={"url": reference_url})}))
        assert differences(store_content(engine), store_content(reference)) == [], SEED

        # 3. An evaluation from scratch, killed at a random moment of it, five times.
        started = time.monotonic()
        runner.complete("evaluate")
        whole = time.monotonic() - started
        truth = verdicts(engine)
        assert len(truth) > 100, "the evaluation stores a verdict per change"
        kills = runner.kills
        for _ in range(4 * KILLS):
            if runner.kills >= kills + KILLS:
                break
            with session_scope(engine) as session:
                session.execute(delete(Verdict))
            runner.kill_when(("evaluate",),
                             after(rng.uniform(0.3, 1.0) * whole))
        assert runner.kills >= kills + 3, f"most evaluations must be killed (seed {SEED})"
        runner.complete("evaluate")
        assert verdicts(engine) == truth, f"seed {SEED}"

        # 4. The write-back, killed right after a random number of writes reached Gerrit
        # (the moment between Gerrit applying a write and the log recording it).
        kills = runner.kills
        for _ in range(4 * KILLS):
            if runner.kills >= kills + KILLS:
                break
            seen, k = len(reached_gerrit(sb)), rng.randrange(1, 8)
            runner.kill_when(("apply",), lambda seen=seen, k=k: len(reached_gerrit(sb)) >= seen + k)
        assert runner.kills >= kills + 3, f"most write-backs must be killed (seed {SEED})"
        runner.complete("apply")
        assert repeated_writes(sb) == [], f"seed {SEED}"
        # Gerrit now carries every planned write: after a fresh sync nothing is planned.
        runner.complete("sync")
        runner.complete("evaluate")
        assert runner.json("apply", "--json")["planned"] == 0, f"seed {SEED}"
        with session_scope(engine) as session:
            applied = session.execute(select(ActionLog).where(
                ActionLog.result == "applied")).scalars().all()
        assert len(applied) == len(reached_gerrit(sb)) > 10, f"seed {SEED}"
        assert repeated_writes(sb) == [], f"seed {SEED}"
        engine.dispose()
        reference.dispose()
