"""Sync: the first back-fill into an empty store (one transaction, indexes built at the end)
and the read-ahead of query pages, against the sandbox Gerrit over real HTTP."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from reviewbot.gerrit.errors import GerritError
from reviewbot.sandbox import SandboxGerrit
from reviewbot.store import open_store
from reviewbot.store.state import get_state
from reviewbot.store.tables import Account, Change, Message, PatchSet, VoteEventRow
from reviewbot.sync.rest import CURSOR_KEY, sync_once
from tests.test_sync import NOW, build, client_for, config_for, sandbox_messages


@pytest.fixture
def sandbox():
    sb = SandboxGerrit()
    build(sb)
    with sb.running() as url:
        sb.url = url
        yield sb


def _indexes(url: str) -> set[str]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}


def _rows(engine) -> tuple:
    with Session(engine) as s:
        return tuple(
            sorted(tuple(r) for r in s.exec(select(*table.__table__.c)).all())
            for table in (Change, PatchSet, Message)
        ) + (s.exec(select(func.count()).select_from(VoteEventRow)).scalar_one(),)


def test_first_backfill_stores_what_a_page_by_page_sync_stores_and_keeps_indexes(
    sandbox, sandbox_config_data, tmp_path
):
    config = config_for(sandbox, sandbox_config_data)
    schema = f"sqlite:///{tmp_path / 'schema.db'}"
    open_store(schema).dispose()

    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = open_store(empty)
    first = sync_once(client_for(sandbox), engine, config, now=NOW)
    assert first.pages >= 3  # page_size 3: the back-fill spans several pages
    assert _indexes(empty) == _indexes(schema)

    # The same sync into a store that already holds a change runs page by page.
    seeded = f"sqlite:///{tmp_path / 'seeded.db'}"
    other = open_store(seeded)
    with Session(other) as s:
        s.add(Account(id=1, username="old"))
        s.flush()
        s.add(Change(number=1, gerrit_id="x", change_id="I1", project="openstack/glance",
                     branch="master", subject="old", status="NEW", owner_id=1,
                     created=datetime(2016, 1, 1), updated=datetime(2016, 1, 1),
                     current_patch_set=1))
        s.commit()
    by_page = sync_once(client_for(sandbox), other, config, now=NOW)
    assert (by_page.changes, by_page.messages, by_page.votes) == (
        first.changes, first.messages, first.votes)
    rows, seeded_rows = _rows(engine), _rows(other)
    assert rows[0] == [r for r in seeded_rows[0] if r[0] != 1]
    assert rows[1:] == seeded_rows[1:]
    assert first.messages == sandbox_messages(sandbox)
    engine.dispose()
    other.dispose()


def test_a_failed_first_backfill_stores_nothing_and_the_next_sync_recovers(
    sandbox, sandbox_config_data, sqlite_url
):
    config = config_for(sandbox, sandbox_config_data)
    engine = open_store(sqlite_url)
    indexes = _indexes(sqlite_url)
    sandbox.inject_fault("status", status=500, path_contains="S=3")
    with pytest.raises(GerritError):
        sync_once(client_for(sandbox), engine, config, now=NOW)
    # Rolled back whole, indexes included; the page reader stopped.
    assert _indexes(sqlite_url) == indexes
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Message)).scalar_one() == 0
        assert get_state(s, CURSOR_KEY) is None
    assert not [t for t in threading.enumerate() if t.name == "sync-read-ahead"]

    sandbox.clear_faults()
    recovered = sync_once(client_for(sandbox), engine, config, now=NOW)
    assert recovered.messages == sandbox_messages(sandbox)
    engine.dispose()


def test_a_later_poll_runs_page_by_page_and_a_failed_page_keeps_earlier_pages(
    sandbox, sandbox_config_data, engine
):
    config = config_for(sandbox, sandbox_config_data)
    client = client_for(sandbox)
    sync_once(client, engine, config, now=NOW)
    later = datetime(2016, 11, 5)
    for i, number in enumerate((1001, 1002, 1004, 1005)):
        sandbox.review(number, "carol", labels={"Code-Review": 2},
                       when=later + timedelta(minutes=i))
    sandbox.inject_fault("status", status=500, path_contains="S=3")
    with pytest.raises(GerritError):
        sync_once(client, engine, config, now=NOW)
    with Session(engine) as s:
        # The first page (the three newest changes) was committed on its own.
        carol = s.exec(select(func.count()).select_from(VoteEventRow)
                       .where(VoteEventRow.value == 2)).scalar_one()
    assert carol == 3
