"""Store: PostgreSQL advisory locks on a dedicated connection (worker coordination)."""

from __future__ import annotations

import hashlib

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from reviewbot.store import normalise_url

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
    except Exception:  # noqa: BLE001 - any failure means the session, and the lock, are gone
        return False


def close_lock_connection(conn: Connection) -> None:
    engine = conn.engine
    try:
        conn.close()
    finally:
        engine.dispose()
