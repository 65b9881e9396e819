"""Store: the only code that speaks SQL. Opens the database and upgrades its schema.

Why SQLAlchemy Core, with SQLModel only declaring the tables
--------------------------------------------------------------
reviewbot/store/tables.py declares every table once as a SQLModel class: one place for
columns, types and indexes, which Alembic's autogenerate compares against
(reviewbot/migrations, README "Changing the store schema"), and typed rows where a
caller wants one object (`session.get(Verdict, n)`). The reads and writes in this
package are SQLAlchemy Core statements on those tables (`Table.__table__`,
`select(...)`, `insert(...)`, executed with `session.execute`) because of what they do:

- bulk writes of tens of thousands of rows per sync page (messages, vote events,
  stored reviews), where building one ORM object per row and the unit of work's
  flush cost several times the INSERT itself (bench/RESULTS.md, import and sync);
- reads that return columns, counts, groupings and window-like aggregates for the
  queue, standing and report views, not whole objects, and that the views turn into
  their own plain snapshots (reviewbot/timeline/snapshot.py): rules stay pure functions over
  plain data, never over live ORM objects bound to a session;
- one statement for SQLite and PostgreSQL (Core compiles both; upserts pick the
  dialect's `insert`).

Session, not Connection, is still the unit of work everywhere (session_scope): one
transaction per step, committed or rolled back whole.

The one seam for driver-level fast paths
----------------------------------------
Everything goes through Core except, on SQLite only, these, all in
reviewbot/store/changes.py:

- `insert_tuples`: bulk INSERT handed straight to the sqlite3 driver's executemany,
  datetimes and JSON documents rendered in exactly SQLAlchemy's SQLite storage format
  (the caller passes the same Python values on both databases), so rows
  written this way compare and read back as Core-written ones do (PostgreSQL takes
  Core's batched executemany in the same function). Every bulk writer (sync, import,
  judgements, applied changes) calls it; none writes to the driver itself.
- `begin_bulk_load` / `end_bulk_load`: the first load into an empty SQLite store drops
  the message tables' secondary indexes inside the load's transaction and rebuilds
  them at its end.

Two reads use the driver for what Core cannot say: `StoreGeneration` (queue_reads.py,
SQLite's `PRAGMA data_version` on a watch connection) and the schema upgrade's
`BEGIN IMMEDIATE` below. Tests hold the fast paths equal to the plain ones:
tests/test_store_seam.py (the same rows through `insert_tuples` and through Core read
back equal), tests/test_import_bulk.py (bulk load = batch import, indexes intact) and
tests/test_store_parity.py (SQLite's answers = PostgreSQL's, word for word).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

log = logging.getLogger(__name__)

_MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def normalise_url(url: str) -> str:
    """Accept `postgresql://` and point SQLAlchemy at psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str, *, pool_size: int | None = None,
                pool_timeout: float | None = None) -> Engine:
    """`pool_size`: connections held at most (no overflow), for the web process's lanes."""
    url = normalise_url(url)
    pool: dict[str, int | float] = {}
    in_memory = url in ("sqlite://", "sqlite:///:memory:")  # one shared connection: no sizing
    if pool_size is not None and not in_memory:
        pool = {"pool_size": pool_size, "max_overflow": 0}
    if pool_timeout is not None and not in_memory:
        pool["pool_timeout"] = pool_timeout
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               **pool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            # WAL lets the web app read while the worker writes.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **pool)


# The PostgreSQL advisory-lock key that serialises schema upgrades across processes
# (a fixed, arbitrary bigint: "reviewbot schema" is all it has to mean).
SCHEMA_LOCK_KEY = 0x7265766965775F31


_REVISION_LINE = re.compile(r"""^(down_revision|revision)\s*=\s*['"]?(\w+)?['"]?\s*$""",
                            re.MULTILINE)


def schema_head() -> str:
    """The newest migration, read from the scripts' `revision`/`down_revision` lines.

    Not through Alembic: importing it costs ~85 ms on every command start, while
    this reads a few small files. A history that is not one straight line (or a
    script this cannot read) falls back to Alembic's own answer; test_schema_setup
    checks that the two agree.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (_MIGRATIONS / "versions").glob("*.py"):
        found = dict((k, v) for k, v in _REVISION_LINE.findall(script.read_text()))
        if "revision" not in found:
            return head_revision()
        revisions.add(found["revision"])
        if found.get("down_revision"):
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else head_revision()


def head_revision() -> str:
    """The newest Alembic revision, as Alembic reads it from the migration scripts."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    if head is None:
        raise RuntimeError(f"no Alembic revisions under {_MIGRATIONS}")
    return head


def stored_revision(engine: Engine) -> str | None:
    """The store's Alembic revision, None for a store without one (fresh or half-made)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:  # no alembic_version table yet
        return None


def upgrade_schema(engine: Engine) -> bool:
    """Bring the schema to the newest Alembic revision; True when an upgrade ran.

    Run on every start, so the common case costs one query: the stored revision
    is read and compared with the head, and only a store behind it is upgraded.
    The upgrade is one transaction (both databases have transactional DDL), so a
    process killed half-way leaves the store as it was, and it holds a lock for
    its whole length (PostgreSQL: an advisory transaction lock; SQLite: BEGIN
    IMMEDIATE, the database's write lock), so processes starting together take
    turns: the second finds the schema current and does nothing.
    """
    if stored_revision(engine) == schema_head():
        return False
    from alembic import command
    from alembic.config import Config as AlembicConfig
    from sqlalchemy import text

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    migrator = _migration_engine(engine)
    try:
        with migrator.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                                   {"k": SCHEMA_LOCK_KEY})
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
    finally:
        if migrator is not engine:
            migrator.dispose()
    return True


def _migration_engine(engine: Engine) -> Engine:
    """An engine whose transactions really include DDL.

    Python's sqlite3 driver begins a transaction only before INSERT/UPDATE/DELETE,
    so a CREATE TABLE runs (and stays) on its own: a kill half-way through the
    first start left some tables and no alembic_version, and every later start
    failed with "table ... already exists". SQLAlchemy's documented recipe
    ("Serializable isolation / Savepoints / Transactional DDL" for pysqlite):
    turn the driver's own transaction handling off and emit BEGIN ourselves,
    IMMEDIATE so that the write lock is taken before alembic_version is read.
    """
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return engine  # an in-memory database dies with its process: nothing to protect
    from sqlalchemy.pool import NullPool

    migrator = create_engine(engine.url, poolclass=NullPool,
                             connect_args={"check_same_thread": False, "timeout": 60})

    @event.listens_for(migrator, "connect")
    def _driver_autocommit(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA journal_mode=WAL")

    @event.listens_for(migrator, "begin")
    def _begin_immediate(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return migrator


def open_store(url: str, *, migrate: bool = True, pool_size: int | None = None,
               pool_timeout: float | None = None) -> Engine:
    """Engine for `url` (pool sizing as in make_engine), schema upgraded. Creates the SQLite
    file's folder under data/ only; a missing folder elsewhere is a ValueError."""
    from reviewbot.config import sqlite_file, sqlite_folder_problem

    problem = sqlite_folder_problem(url)
    if problem:
        raise ValueError(f"database.url: {problem}")
    if (path := sqlite_file(url)) is not None:
        path.parent.mkdir(parents=True, exist_ok=True)  # under data/ only, see above
    engine = make_engine(url, pool_size=pool_size, pool_timeout=pool_timeout)
    if migrate:
        upgrade_schema(engine)
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
