"""Store: small key/value sync facts (cursor, server version, last success)."""

from __future__ import annotations

from sqlmodel import Session

from reviewbot.clock import utcnow
from reviewbot.store.tables import SyncState


def get_state(session: Session, key: str) -> str | None:
    row = session.get(SyncState, key)
    return row.value if row else None


def set_state(session: Session, key: str, value: str) -> None:
    row = session.get(SyncState, key)
    if row is None:
        session.add(SyncState(key=key, value=value, updated=utcnow()))
    else:
        row.value = value
        row.updated = utcnow()
        session.add(row)
