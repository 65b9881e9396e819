"""Store writes: idempotent upserts of synced or imported change records, set-based.

One call writes a whole page (changes, patch sets, messages, vote events,
current votes) with a handful of bulk statements; rows that are already
stored as they are are not touched, and the counts say what really changed,
so a rerun of the same page reports zero.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import JSON, DateTime, and_, bindparam, select
from sqlmodel import Session

from reviewbot.gerrit.records import ChangeRecord
from reviewbot.store.accounts import AccountResolver, chunks
from reviewbot.store.page_rows import (
    CHANGE_COLUMNS,
    CHANGE_OWNER,
    MESSAGE_AUTHOR,
    MESSAGE_COLUMNS,
    PATCH_SET_COLUMNS,
    PATCH_SET_UPLOADER,
    VOTE_ACCOUNT,
    VOTE_COLUMNS,
    ChangeRows,
    PageRows,
    likely_id,
    page_rows,
)
from reviewbot.store.tables import Change, CurrentVote, Message, PatchSet, VoteEventRow

_CHANGE = Change.__table__
_PATCH_SET = PatchSet.__table__
_MESSAGE = Message.__table__
_VOTE = VoteEventRow.__table__
_CURRENT = CurrentVote.__table__


@dataclass
class WriteCounts:
    """Rows actually inserted or changed."""

    changes: int = 0
    patch_sets: int = 0
    messages: int = 0
    votes: int = 0
    current_votes: int = 0
    accounts: int = 0
    skipped: int = 0  # records not applied: REST data or newer data is stored

    def add(self, other: WriteCounts) -> None:
        for key, value in asdict(other).items():
            setattr(self, key, getattr(self, key) + value)

    @property
    def rows(self) -> int:
        return (self.changes + self.patch_sets + self.messages + self.votes
                + self.current_votes + self.accounts)


def insert_tuples(
    conn, table, columns: tuple[str, ...], rows: list[tuple], *, stamped: bool = False
) -> None:
    """Bulk insert. On SQLite straight to the driver: SQLAlchemy's per-row parameter
    processing costs more than SQLite's insert itself (tens of thousands of rows per
    page); PostgreSQL gets Core's batched executemany. `stamped`: on SQLite the
    datetimes are already `_sqlite_stamp` text."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(table.insert(), [dict(zip(columns, r, strict=True)) for r in rows])
        return
    # Datetimes and JSON in exactly SQLAlchemy's SQLite storage format (its JSON type
    # stores None as the text `null`), so SQL comparisons between these rows and
    # parameters SQLAlchemy binds, and reads through the ORM, stay right.
    stamps = [] if stamped else [
        i for i, c in enumerate(columns) if isinstance(table.c[c].type, DateTime)]
    documents = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
    if stamps or documents:
        dumps = json.dumps
        converted = []
        for row in rows:
            line = list(row)
            for i in stamps:
                if line[i] is not None:
                    line[i] = _sqlite_stamp(line[i])
            for i in documents:
                line[i] = dumps(line[i])
            converted.append(tuple(line))
        rows = converted
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(columns))})'
    conn.exec_driver_sql(sql, rows)


def _select_in(conn, columns, key_column, keys):
    for part in chunks(list(keys)):
        yield from conn.execute(select(*columns).where(key_column.in_(part)))


def upsert_changes(session: Session, records: Sequence[ChangeRecord]) -> WriteCounts:
    """Write `records` (one page) into the session's transaction; idempotent."""
    return write_page(session, page_rows(records, stamp_for(session.connection())))


def write_page(session: Session, page: PageRows) -> WriteCounts:
    """Write one page's rows (`store.page_rows`) into the session's transaction;
    idempotent."""
    counts = WriteCounts()
    if not page.changes:
        return counts
    conn = session.connection()
    by_number = {c.number: c for c in page.changes}
    existing = {
        row.number: row
        for row in _select_in(conn, [_CHANGE.c[c] for c in CHANGE_COLUMNS],
                              _CHANGE.c.number, by_number)
    }
    # REST data is richer (message ids, real account ids, tags): an import never
    # overwrites a change a REST sync stored.
    # Nor does older data overwrite newer (an old dump, a stale index entry):
    # Gerrit's `updated` only moves forward.
    for number, row in existing.items():
        rows = by_number[number]
        if (row.source == "rest" and rows.source == "import") or row.updated > rows.updated:
            del by_number[number]
            counts.skipped += 1
    if not by_number:
        return counts
    changes = list(by_number.values())
    resolver = AccountResolver(session)
    resolver.prepare(page.accounts)
    counts.accounts = resolver.written
    # Rows name accounts by their likely id: those stored under another one.
    moved = {guess: stored for ref in page.accounts
             if (guess := likely_id(ref)) != (stored := resolver.resolve(ref))}

    replaced = [n for n, row in existing.items()
                if n in by_number and row.source == "import" and by_number[n].source == "rest"]
    if replaced:
        # Imported messages have made-up ids; REST brings the real ones.
        for part in chunks(replaced):
            conn.execute(_VOTE.delete().where(_VOTE.c.change_number.in_(part)))
            conn.execute(_MESSAGE.delete().where(_MESSAGE.c.change_number.in_(part)))

    # Only changes stored before can have stored patch sets, messages or votes
    # (foreign keys): a back-fill or first import reads nothing back.
    known = [c.number for c in changes if c.number in existing]
    touched: set[int] = set(replaced)  # stored changes whose rows this page rewrites
    counts.changes = _write_changes(conn, changes, existing, moved, touched)
    counts.patch_sets = _write_patch_sets(conn, changes, moved, known, touched)
    counts.messages, counts.votes = _write_messages(conn, changes, moved, known, touched)
    # Current votes are no input to judging: not added to `touched`, no revision move.
    counts.current_votes = _write_current_votes(conn, changes, moved, known)
    bump_revisions(conn, touched & existing.keys())
    return counts


def bump_revisions(conn, numbers: Iterable[int]) -> None:
    """Mark these stored changes as rewritten (their stored judgements are then stale)."""
    for part in chunks(sorted(numbers)):
        conn.execute(_CHANGE.update().where(_CHANGE.c.number.in_(part))
                     .values(revision=_CHANGE.c.revision + 1))


def _moved(rows: list[tuple], column: int, moved: dict[int, int | None]) -> list[tuple]:
    """`rows` with the accounts of `column` stored under another id than their likely
    one (`page_rows.likely_id`) renamed."""
    if not moved:
        return rows
    return [row if (account := row[column]) not in moved
            else (*row[:column], moved[account], *row[column + 1:]) for row in rows]


def _write_changes(conn, changes: list[ChangeRows], existing, moved, touched) -> int:
    inserts: list[tuple] = []
    updates = []
    for c, row in zip(changes, _moved([c.change for c in changes], CHANGE_OWNER, moved),
                      strict=True):
        old = existing.get(c.number)
        if old is None:
            inserts.append(row)
        elif any(old[i] != row[i] for i in range(1, len(CHANGE_COLUMNS))):
            updates.append({"_number": c.number, **dict(zip(CHANGE_COLUMNS[1:], row[1:],
                                                            strict=True))})
            touched.add(c.number)
    insert_tuples(conn, _CHANGE, CHANGE_COLUMNS, inserts)
    if updates:
        conn.execute(
            _CHANGE.update().where(_CHANGE.c.number == bindparam("_number"))
            .values({c: bindparam(c) for c in CHANGE_COLUMNS[1:]}),
            updates,
        )
    return len(inserts) + len(updates)


def _write_patch_sets(conn, changes: list[ChangeRows], moved, known, touched) -> int:
    existing = {
        (row[0], row[1]): tuple(row[2:])
        for row in _select_in(conn, [_PATCH_SET.c[c] for c in PATCH_SET_COLUMNS],
                              _PATCH_SET.c.change_number, known)
    }
    inserts, updates = [], []
    for c in changes:
        for row in _moved(c.patch_sets, PATCH_SET_UPLOADER, moved):
            old = existing.get((row[0], row[1])) if existing else None
            if old is not None and old == tuple(row[2:]):
                continue
            touched.add(c.number)
            if old is None:
                inserts.append(row)
            else:
                updates.append({"_change": row[0], "_ps": row[1],
                                **dict(zip(PATCH_SET_COLUMNS[2:], row[2:], strict=True))})
    insert_tuples(conn, _PATCH_SET, PATCH_SET_COLUMNS, inserts)
    if updates:
        conn.execute(
            _PATCH_SET.update()
            .where(and_(_PATCH_SET.c.change_number == bindparam("_change"),
                        _PATCH_SET.c.number == bindparam("_ps")))
            .values({c: bindparam(c) for c in PATCH_SET_COLUMNS[2:]}),
            updates,
        )
    return len(inserts) + len(updates)


def _write_messages(conn, changes: list[ChangeRows], moved, known, touched
                    ) -> tuple[int, int]:
    """New messages and their vote events. Gerrit never edits a message, so a stored
    message (and the votes read from it) stays as it is."""
    stored = {
        row.id for row in _select_in(conn, [_MESSAGE.c.id], _MESSAGE.c.change_number, known)
    }
    messages: list[tuple] = []
    votes: list[tuple] = []
    for c in changes:
        if not c.messages:
            continue
        if stored:  # only a stored change has stored messages
            new = [m for m in c.messages if m[0] not in stored]
            if not new:
                continue
            fresh = {m[0] for m in new}
            messages += new
            votes += [v for v in c.votes if v[0] in fresh]
        else:
            messages += c.messages
            votes += c.votes
        touched.add(c.number)
    insert_tuples(conn, _MESSAGE, MESSAGE_COLUMNS, _moved(messages, MESSAGE_AUTHOR, moved),
                  stamped=True)
    insert_tuples(conn, _VOTE, VOTE_COLUMNS, _moved(votes, VOTE_ACCOUNT, moved), stamped=True)
    return len(messages), len(votes)


def stamp_for(conn) -> Callable[[datetime], datetime | str]:
    """How `insert_tuples(..., stamped=True)` wants datetimes on this connection."""
    return _sqlite_stamp if conn.dialect.name == "sqlite" else _same


def _sqlite_stamp(value: datetime) -> str:
    """A datetime as SQLAlchemy stores it on SQLite (always with microseconds)."""
    text = str(value)  # C-fast; no `.000000` when microseconds are 0
    return text if len(text) > 19 else text + ".000000"


def _same(value: datetime) -> datetime:
    return value


def _write_current_votes(conn, changes: list[ChangeRows], moved, known) -> int:
    existing = {
        (row.change_number, row.label, row.account_id): row.value
        for row in _select_in(
            conn, [_CURRENT.c.change_number, _CURRENT.c.label, _CURRENT.c.account_id,
                   _CURRENT.c.value],
            _CURRENT.c.change_number, known,
        )
    }
    wanted: dict[tuple[int, str, int], int] = {}
    for c in changes:
        for label, voter, value in c.current_votes:
            wanted[(c.number, label, moved.get(voter, voter))] = value
    inserts = [(*k, v) for k, v in wanted.items() if k not in existing]
    updates = [{"_c": k[0], "_l": k[1], "_a": k[2], "value": v}
               for k, v in wanted.items() if k in existing and existing[k] != v]
    deletes = [{"_c": k[0], "_l": k[1], "_a": k[2]} for k in existing if k not in wanted]
    key = and_(_CURRENT.c.change_number == bindparam("_c"), _CURRENT.c.label == bindparam("_l"),
               _CURRENT.c.account_id == bindparam("_a"))
    if deletes:
        conn.execute(_CURRENT.delete().where(key), deletes)
    insert_tuples(conn, _CURRENT, ("change_number", "label", "account_id", "value"), inserts)
    if updates:
        conn.execute(_CURRENT.update().where(key).values(value=bindparam("value")), updates)
    return len(inserts) + len(updates) + len(deletes)


def mark_missing(
    session: Session,
    *,
    projects: Sequence[str],
    branches: Sequence[str],
    open_numbers: set[int],
    now: datetime,
) -> tuple[int, int]:
    """Reconcile stored open changes with the open set Gerrit returns now.

    A stored open change Gerrit no longer returns was deleted or made private:
    mark it missing (kept, but out of every queue). One that came back is
    un-marked. Returns (marked, unmarked).
    """
    conn = session.connection()
    rows = conn.execute(
        select(_CHANGE.c.number, _CHANGE.c.missing_since).where(
            _CHANGE.c.status == "NEW", _CHANGE.c.project.in_(list(projects)),
            _CHANGE.c.branch.in_(list(branches)),
        )
    ).all()
    gone = [r.number for r in rows if r.number not in open_numbers and r.missing_since is None]
    back = [r.number for r in rows if r.number in open_numbers and r.missing_since is not None]
    for part in chunks(gone):
        conn.execute(_CHANGE.update().where(_CHANGE.c.number.in_(part)).values(missing_since=now))
    for part in chunks(back):
        conn.execute(_CHANGE.update().where(_CHANGE.c.number.in_(part)).values(missing_since=None))
    return len(gone), len(back)


def mark_gone(session: Session, number: int, now: datetime) -> bool:
    """One stored change Gerrit answered 404 for: mark it missing. True if it changed."""
    result = session.connection().execute(
        _CHANGE.update()
        .where(_CHANGE.c.number == number, _CHANGE.c.missing_since.is_(None))
        .values(missing_since=now)
    )
    return bool(result.rowcount)


# -- first import into an empty store ------------------------------------------------

# Tables whose secondary indexes a first bulk load builds once at the end: for an
# empty store that is ~2x cheaper than maintaining them row by row. Primary keys and
# unique constraints (SQLite autoindexes) always stay, so uniqueness is enforced.
_BULK_TABLES = ("message", "vote_event")
# Page cache for the load and the index builds. 32 MiB: the 20k-change import and the
# 60k back-fill ran as fast as with 64 MiB and peaked 40 / 90 MB lower (bench/RESULTS.md).
_BULK_CACHE_KIB = 32768


@dataclass
class BulkLoad:
    """What `begin_bulk_load` changed, for `end_bulk_load` to put back."""

    index_ddl: list[str]
    cache_size: int


def begin_bulk_load(session: Session) -> BulkLoad | None:
    """On an empty SQLite store, drop the secondary indexes of the message tables inside
    the session's transaction and return their DDL for `end_bulk_load`; else None.

    Safe because SQLite DDL is transactional: if the load fails or the process dies
    before commit, the drop is rolled back with everything else. Not for polls: a
    store that already holds changes keeps its indexes.
    """
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return None
    # pysqlite opens a transaction only before DML; DDL alone would autocommit.
    conn.exec_driver_sql("DELETE FROM vote_event WHERE 0")
    if not conn.connection.driver_connection.in_transaction:
        return None
    if conn.exec_driver_sql(
        'SELECT EXISTS (SELECT 1 FROM "change") OR EXISTS (SELECT 1 FROM message)'
    ).scalar():
        return None
    marks = ", ".join("?" * len(_BULK_TABLES))
    indexes = conn.exec_driver_sql(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({marks}) ORDER BY name", _BULK_TABLES,
    ).all()
    for name, _ in indexes:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    cache_size = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{_BULK_CACHE_KIB}")
    return BulkLoad([sql for _, sql in indexes], int(cache_size))


def end_bulk_load(session: Session, bulk: BulkLoad) -> None:
    """Rebuild the indexes `begin_bulk_load` dropped (same transaction), restore the cache."""
    conn = session.connection()
    for sql in bulk.index_ddl:
        conn.exec_driver_sql(sql)
    conn.exec_driver_sql(f"PRAGMA cache_size = {bulk.cache_size}")
