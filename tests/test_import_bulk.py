"""Import into an empty store (the one-transaction bulk path): same rows, indexes intact."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from reviewbot.store.tables import Change, Message, VoteEventRow
from reviewbot.sync.importer import ImportFailed, import_files
from tests.conftest import FIXTURES

SAMPLES = sorted((FIXTURES / "ssh").glob("gerrit_reviews_page_*"))


def _indexes(url: str) -> set[str]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}


def _counts(engine) -> tuple[int, int, int]:
    with Session(engine) as s:
        return tuple(s.exec(select(func.count()).select_from(t)).scalar_one()
                     for t in (Change, Message, VoteEventRow))


def test_first_import_matches_batch_import_and_keeps_indexes(engine, sqlite_url, tmp_path):
    from reviewbot.store import open_store

    before = _indexes(sqlite_url)
    assert any(n.startswith("ix_message_") for n in before)
    assert any(n.startswith("ix_vote_event_") for n in before)
    first = import_files(engine, SAMPLES)  # empty store: bulk path
    assert _indexes(sqlite_url) == before
    # The same dumps through the per-batch path (store not empty: one change first).
    other = open_store(f"sqlite:///{tmp_path / 'other.db'}")
    import_files(other, SAMPLES[:1], batch_size=1)
    import_files(other, SAMPLES, batch_size=7)
    assert _counts(other) == _counts(engine)
    assert first.counts.messages == _counts(engine)[1]
    # Rerunning writes nothing.
    again = import_files(engine, SAMPLES)
    assert again.counts.rows == 0
    other.dispose()


def test_bad_line_in_first_import_keeps_earlier_batches_and_indexes(engine, sqlite_url, tmp_path):
    before = _indexes(sqlite_url)
    lines = SAMPLES[1].read_text().splitlines()
    dump = tmp_path / "dump.json"
    dump.write_text("\n".join(lines[:2]) + "\n{truncated\n")
    with pytest.raises(ImportFailed, match=r"dump.json:3: not a JSON line"):
        import_files(engine, [dump], batch_size=1)
    assert _indexes(sqlite_url) == before
    with Session(engine) as s:
        # Both complete batches (one change each) were committed, as in the batch mode.
        assert s.exec(select(func.count()).select_from(Change)).scalar_one() == 2
