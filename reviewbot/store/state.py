"""Store: small key/value sync facts (cursor, server version, last success)."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from reviewbot.clock import utcnow
from reviewbot.store.snapshots import plain_rows
from reviewbot.store.tables import SyncState


def get_state(session: Session, key: str) -> str | None:
    # A Core read of the one column (pending writes flushed first, as `session.get` would
    # see them): the first ORM query of a process configures every mapper, ~12 ms of an
    # answer command (`reviewers`) that otherwise reads columns only.
    c = SyncState.__table__.c
    rows = plain_rows(session, select(c.value).where(c.key == key))
    return rows[0][0] if rows else None


def set_state(session: Session, key: str, value: str) -> None:
    row = session.get(SyncState, key)
    if row is None:
        session.add(SyncState(key=key, value=value, updated=utcnow()))
    else:
        row.value = value
        row.updated = utcnow()
        session.add(row)
