"""Store: worker coordination: PostgreSQL advisory locks on a dedicated connection, and the
leader lease (a compare-and-set row in sync_state) that fences writes to Gerrit."""

from __future__ import annotations

import hashlib
import time

from sqlalchemy import create_engine, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from reviewbot.clock import utcnow
from reviewbot.store import normalise_url
from reviewbot.store.tables import SyncState

# The server drops a vanished client's session (and so its advisory locks)
# after about idle + interval * count seconds, instead of the OS default of
# two hours, so a standby worker can take over within one poll interval.
_KEEPALIVE = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
              "keepalives_count": 3}
_SERVER_KEEPALIVE = (
    "SET tcp_keepalives_idle = 10",
    "SET tcp_keepalives_interval = 5",
    "SET tcp_keepalives_count = 3",
)


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `name` (advisory locks are keyed by bigint)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def open_lock_connection(url: str) -> Connection:
    """A connection of its own (not from any pool): the lock lives exactly as long as it."""
    engine = create_engine(
        normalise_url(url), poolclass=NullPool, isolation_level="AUTOCOMMIT",
        connect_args={**_KEEPALIVE, "application_name": "reviewbot-lock"},
    )
    conn = engine.connect()
    for statement in _SERVER_KEEPALIVE:
        conn.execute(text(statement))
    return conn


def try_advisory_lock(conn: Connection, key: int) -> bool:
    return bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())


def advisory_unlock(conn: Connection, key: int) -> None:
    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})


def connection_alive(conn: Connection) -> bool:
    """False when the server side of the lock's session is gone (the lock with it)."""
    try:
        conn.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure means the session, and the lock, are gone
        return False


def close_lock_connection(conn: Connection) -> None:
    engine = conn.engine
    try:
        conn.close()
    finally:
        engine.dispose()


# -- the leader lease (fencing) -------------------------------------------------------


def database_clock(session: Session) -> float:
    """Seconds since the epoch by the database's clock (one clock for every host on
    PostgreSQL; SQLite is one host, so the local clock is the same thing)."""
    if session.get_bind().dialect.name == "postgresql":
        return float(session.execute(text("SELECT extract(epoch FROM clock_timestamp())"))
                     .scalar_one())
    return time.time()


def read_lease(session: Session, key: str) -> str | None:
    return session.execute(select(SyncState.value).where(SyncState.key == key)).scalar()


def swap_lease(session: Session, key: str, expected: str | None, new: str) -> bool:
    """Compare-and-set: store `new` only if the value is still `expected` (None: no row).

    One UPDATE ... WHERE value = expected (or one INSERT racing on the primary
    key), so of two processes swapping from the same value exactly one wins.
    """
    if expected is None:
        try:
            with session.begin_nested():
                session.execute(insert(SyncState).values(key=key, value=new, updated=utcnow()))
        except IntegrityError:
            return False
        return True
    done = session.execute(
        update(SyncState).where(SyncState.key == key, SyncState.value == expected)
        .values(value=new, updated=utcnow())
    )
    return done.rowcount == 1
