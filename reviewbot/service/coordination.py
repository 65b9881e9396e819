"""Coordination: exactly one process runs a cycle at a time (PostgreSQL advisory lock or flock).

Two locks, both non-blocking and both released by the operating system or the
database when their holder dies:

- the *leader* lock: held by the leading worker, beside its lease
  (leadership.py decides who leads and fences every Gerrit write; the lock
  lets a standby take over at once when the leader's session is gone);
- the *cycle* lock: held while a cycle runs, by the leader's scheduled cycle
  or by an admin-triggered cycle in a web process, so two cycles never overlap.

On PostgreSQL both are session advisory locks on a dedicated connection; on
SQLite they are `flock` locks on files next to the database (one host only).
"""

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from reviewbot.config import Config
from reviewbot.store import normalise_url

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

LEADER = "leader"
CYCLE = "cycle"


class Lock(Protocol):
    name: str

    def try_acquire(self) -> bool: ...

    def release(self) -> None: ...

    def still_held(self) -> bool: ...


class FileLock:
    """`flock` on a file: exclusive across processes and across open files in one process."""

    def __init__(self, path: Path, name: str):
        self.path = path
        self.name = name
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        # The pid is only for a person wondering who holds it.
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def still_held(self) -> bool:
        return self._fd is not None


class AdvisoryLock:
    """PostgreSQL session advisory lock, held on a connection of its own."""

    def __init__(self, url: str, name: str):
        from reviewbot.store.locks import lock_key

        self.url = url
        self.name = name
        self.key = lock_key(f"reviewbot:{name}")
        self._conn: Connection | None = None

    def try_acquire(self) -> bool:
        from reviewbot.store import locks

        if self._conn is not None:
            if locks.connection_alive(self._conn):
                return True
            self._drop()
        conn = locks.open_lock_connection(self.url)
        try:
            acquired = locks.try_advisory_lock(conn, self.key)
        except Exception:
            locks.close_lock_connection(conn)
            raise
        if not acquired:
            locks.close_lock_connection(conn)
            return False
        self._conn = conn
        return True

    def release(self) -> None:
        from reviewbot.store import locks

        if self._conn is None:
            return
        try:
            locks.advisory_unlock(self._conn, self.key)
        except Exception:  # a dead session has already released it
            log.debug("advisory unlock of %s failed; session already gone", self.name)
        self._drop()

    def still_held(self) -> bool:
        from reviewbot.store import locks

        if self._conn is None:
            return False
        if locks.connection_alive(self._conn):
            return True
        # The database restarted or dropped us: the lock is gone with the session.
        self._drop()
        return False

    def _drop(self) -> None:
        from reviewbot.store import locks

        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                locks.close_lock_connection(conn)
            except Exception:  # closing a broken connection may fail; ignore
                pass


def lock_file_path(database_url: str, name: str, data_dir: str = "data") -> Path:
    """`<db file>.<name>.lock` next to a SQLite database file."""
    url = normalise_url(database_url)
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        db = Path(url[len("sqlite:///"):]).expanduser()
        return db.with_name(f"{db.name}.{name}.lock")
    # An in-memory database lives in one process; a per-user temp file is enough.
    return Path(tempfile.gettempdir()) / f"reviewbot-{os.getuid()}.{name}.lock"


def make_lock(config: Config, name: str) -> Lock:
    """The right kind of lock for the configured database."""
    url = normalise_url(config.database.url)
    if url.startswith("postgresql"):
        return AdvisoryLock(config.database.url, name)
    return FileLock(lock_file_path(config.database.url, name, config.data_dir), name)


class CycleBusy(Exception):
    """Another process is running a cycle right now."""


@contextmanager
def cycle_guard(config: Config) -> Iterator[Lock]:
    """Hold the cycle lock for the duration of a block; CycleBusy if someone else has it."""
    lock = make_lock(config, CYCLE)
    if not lock.try_acquire():
        raise CycleBusy("another cycle is running")
    try:
        yield lock
    finally:
        lock.release()
