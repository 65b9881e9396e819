"""Store: the only code that speaks SQL. Opens the database and upgrades its schema."""

from __future__ import annotations

import logging
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
    pool: dict = {}
    in_memory = url in ("sqlite://", "sqlite:///:memory:")  # one shared connection: no sizing
    if pool_size is not None and not in_memory:
        pool = {"pool_size": pool_size, "max_overflow": 0}
    if pool_timeout is not None and not in_memory:
        pool["pool_timeout"] = pool_timeout
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               **pool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            # WAL lets the web app read while the worker writes.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **pool)


def upgrade_schema(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (run on every start)."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def open_store(url: str, *, migrate: bool = True, **pool: object) -> Engine:
    """Engine for `url` (`pool`: make_engine's sizing), schema upgraded. Creates the SQLite
    file's folder under data/ only; a missing folder elsewhere is a ValueError."""
    from reviewbot.config import sqlite_file, sqlite_folder_problem

    problem = sqlite_folder_problem(url)
    if problem:
        raise ValueError(f"database.url: {problem}")
    if (path := sqlite_file(url)) is not None:
        path.parent.mkdir(parents=True, exist_ok=True)  # under data/ only, see above
    engine = make_engine(url, **pool)
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
