"""Store: sync hints — refresh requests the web records and the leading worker drains."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from reviewbot.clock import utcnow
from reviewbot.store import session_scope
from reviewbot.store.tables import SyncHint

ADMIN_SOURCE = "admin"  # the source of a POST /api/v1/sync hint

_HINT = SyncHint.__table__


@dataclass(frozen=True)
class Hint:
    id: int
    change_number: int | None  # None: a full cycle
    received: datetime
    source: str


def record_hint(session: Session, change_number: int | None, source: str,
                received: datetime) -> Hint:
    """Store one hint (a burst is coalesced when drained, not here: a hint that arrives
    while its change is being refreshed must cause one more refresh)."""
    new_id = session.execute(
        _HINT.insert().values(change_number=change_number, source=source, received=received)
        .returning(_HINT.c.id)).scalar_one()
    return Hint(new_id, change_number, received, source)


def pending_hints(session: Session, limit: int = 10_000) -> list[Hint]:
    """The oldest `limit` hints waiting, oldest first."""
    rows = session.execute(select(_HINT.c.id, _HINT.c.change_number, _HINT.c.received,
                                  _HINT.c.source).order_by(_HINT.c.id).limit(limit))
    return [Hint(*row) for row in rows]


def pending_count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(_HINT)).scalar_one()


def drop_hints(session: Session, ids: list[int]) -> int:
    """Forget hints that were acted on; hints recorded since then stay."""
    if not ids:
        return 0
    dropped = 0
    for start in range(0, len(ids), 500):  # bound the IN list (SQLite's variable limit)
        dropped += session.execute(
            delete(_HINT).where(_HINT.c.id.in_(ids[start:start + 500]))).rowcount
    return dropped


@dataclass(frozen=True)
class Queued:
    """What a caller's hint asked for and how many hints wait now (its own included)."""

    hint: Hint
    pending: int


def queue_hint(engine: Engine, change_number: int | None, source: str) -> Queued:
    """Record one hint (None: a whole cycle) in its own transaction; the web's side of the
    hint (it never reads Gerrit)."""
    with session_scope(engine) as session:
        hint = record_hint(session, change_number, source, utcnow())
        return Queued(hint, pending_count(session))
