"""Test support for the service tests: a running sandbox Gerrit with a bot, and configs for it."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

from reviewbot.config import Config, Secrets
from tests.conftest import make_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_sandbox(config_data: dict, changes: int = 25, seed: int = 5) -> Iterator:
    """A generated sandbox with the bot account (fresh password), serving on a free port."""
    from reviewbot.sandbox import SandboxGerrit, generate_cycle
    from reviewbot.service.demo import add_demo_bot

    sb = SandboxGerrit()
    generate_cycle(sb, changes=changes, seed=seed)
    config = make_config(config_data)
    sb.bot_username, sb.bot_password = add_demo_bot(sb, config)
    with sb.running() as url:
        sb.test_url = url
        yield sb


def service_config(config_data: dict, sb, database_url: str, **overrides) -> Config:
    gerrit = {**config_data["gerrit"], "url": sb.test_url, "retries": 1}
    return make_config(config_data, gerrit=gerrit, database={"url": database_url}, **overrides)


def bot_secrets(sb, **extra) -> Secrets:
    return Secrets(gerrit_username=sb.bot_username, gerrit_password=sb.bot_password, **extra)


def bot_env(sb) -> dict[str, str]:
    return {"REVIEWBOT_GERRIT_USERNAME": sb.bot_username,
            "REVIEWBOT_GERRIT_PASSWORD": sb.bot_password}


def hashtag_writes(sb) -> list:
    with sb.lock:
        return [r for r in sb.requests if r.method == "POST" and r.path.endswith("/hashtags")]


def wait_for(predicate, timeout: float, what: str, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


@contextmanager
def generated_sandbox(changes: int, seed: int) -> Iterator:
    """A sandbox serving a generated cycle for `config/sandbox.toml`: (sandbox, config data)."""
    import tomllib

    from tests.conftest import ROOT

    data = tomllib.loads((ROOT / "config" / "sandbox.toml").read_text())
    with running_sandbox(data, changes=changes, seed=seed) as sb:
        yield sb, data


def synced_and_evaluated(sb, data: dict, store_url: str, *, after: float = 3.0):
    """Sync the sandbox into a store at `store_url` over HTTP and evaluate it at the present,
    `after` hours past the newest change update: (engine, config, now)."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from reviewbot.evaluate.verdicts import evaluate_store
    from reviewbot.gerrit.client import GerritClient
    from reviewbot.store import open_store, session_scope
    from reviewbot.store.tables import Change
    from reviewbot.sync.rest import sync_once

    config = service_config(data, sb, store_url)
    engine = open_store(store_url)
    sync_once(GerritClient(sb.test_url), engine, config)
    with session_scope(engine) as session:
        newest = session.execute(select(func.max(Change.updated))).scalar()
    now = newest + timedelta(hours=after)
    evaluate_store(engine, config, now=now)
    return engine, config, now
