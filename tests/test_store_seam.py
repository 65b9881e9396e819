"""The store's one driver-level seam (reviewbot/store/changes.py `insert_tuples`): rows
written straight to the sqlite3 driver read back exactly as rows Core writes do."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from sqlalchemy import select, text

from reviewbot.store import open_store, session_scope
from reviewbot.store.changes import insert_tuples, stamp_for
from reviewbot.store.tables import ActionLog

COLUMNS = ("id", "change_number", "patch_set", "action", "detail", "reason", "result",
           "error", "created")
ROWS = [
    (1, 101, 3, "add-hashtags", {"add": ["review-priority"]}, "priority", "planned", None,
     datetime(2017, 1, 10, 9, 30)),  # no microseconds: SQLAlchemy still stores .000000
    (2, 102, None, "gated-message", {}, "gated", "applied", None,
     datetime(2017, 1, 10, 9, 30, 0, 250)),
    (3, 103, 1, "remove-hashtags", None, "moved", "failed", "HTTP 500",
     datetime(2016, 12, 31, 23, 59, 59, 999999)),
]


def _store(tmp_path, name: str):
    return open_store(f"sqlite:///{tmp_path / name}")


def _read(engine) -> tuple[list, list]:
    table = ActionLog.__table__
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(select(table).order_by(table.c.id))]
        raw = [tuple(r) for r in conn.execute(text(
            "SELECT id, created FROM action_log ORDER BY id"))]
        # A Core comparison against a bound datetime finds the same rows in both stores.
        after = [r[0] for r in conn.execute(select(table.c.id).where(
            table.c.created >= datetime(2017, 1, 10, 9, 30)).order_by(table.c.id))]
    return rows, raw + [("after", after)]


def test_driver_insert_equals_core_insert_on_sqlite(tmp_path):
    fast, plain = _store(tmp_path, "fast.db"), _store(tmp_path, "plain.db")
    table = ActionLog.__table__
    with session_scope(plain) as session:
        session.execute(table.insert(), [dict(zip(COLUMNS, r, strict=True)) for r in ROWS])
    with session_scope(fast) as session:
        # The driver path takes the same Python values (JSON documents too) as Core.
        insert_tuples(session.connection(), table, COLUMNS, ROWS)
    assert _read(fast) == _read(plain)
    query = "SELECT detail, typeof(detail) FROM action_log ORDER BY id"
    with sqlite3.connect(tmp_path / "fast.db") as one, \
            sqlite3.connect(tmp_path / "plain.db") as two:
        assert one.execute(query).fetchall() == two.execute(query).fetchall()
    fast.dispose()
    plain.dispose()


def test_pre_stamped_datetimes_equal_unstamped_ones(tmp_path):
    one, two = _store(tmp_path, "one.db"), _store(tmp_path, "two.db")
    table = ActionLog.__table__
    with session_scope(one) as session:
        insert_tuples(session.connection(), table, COLUMNS, ROWS)
    with session_scope(two) as session:
        conn = session.connection()
        stamp = stamp_for(conn)
        insert_tuples(conn, table, COLUMNS, [r[:-1] + (stamp(r[-1]),) for r in ROWS],
                      stamped=True)
    assert _read(one) == _read(two)
    one.dispose()
    two.dispose()
