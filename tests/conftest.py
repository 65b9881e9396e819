"""Shared fixtures: stores on SQLite and (when reachable) PostgreSQL, configs."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from reviewbot.config import Config, load_config, validate_config
from reviewbot.store import normalise_url, open_store

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Real data copied from ../shared/research/data (licences in each folder's SOURCES.md),
# so the suite does not depend on what sits beside the checkout.
PRIORITIES_RST = FIXTURES / "priorities"
SSH_DUMPS = FIXTURES / "ssh"

POSTGRES_URL = os.environ.get("REVIEWBOT_TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A throw-away PostgreSQL database for this test session."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL store tests skipped: REVIEWBOT_TEST_POSTGRES_URL is not set")
    name = f"reviewbot_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _fresh_postgres(url: str) -> None:
    engine = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL with an empty schema, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'reviewbot.db'}"
    url = request.getfixturevalue("postgres_database")
    _fresh_postgres(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """For tests whose subject is not the store: SQLite only."""
    return f"sqlite:///{tmp_path / 'reviewbot.db'}"


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    eng = open_store(sqlite_url)
    yield eng
    eng.dispose()


@pytest.fixture
def store_engine(store_url: str) -> Iterator[Engine]:
    eng = open_store(store_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sandbox_config_data() -> dict:
    import tomllib

    return tomllib.loads((ROOT / "config" / "sandbox.toml").read_text())


def make_config(data: dict, **overrides: object) -> Config:
    """A validated Config from a TOML-shaped dict with top-level sections replaced."""
    merged = dict(data)
    merged.update(overrides)
    return validate_config(merged)


@pytest.fixture
def ocata_config() -> Config:
    return load_config(ROOT / "config" / "glance-ocata.toml")
