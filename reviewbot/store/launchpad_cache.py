"""Store: the Launchpad enrichment cache (one row per bug or blueprint) and its staleness flag.

A row is *fresh* when its last lookup succeeded (no `error`) and `fetched_at`
is within the TTL. A failed lookup keeps the data of the last good one (old
facts beat no facts for priority matching) and records the error, so the next
cycle tries again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from reviewbot.store.state import get_state, set_state
from reviewbot.store.tables import LaunchpadRecord

STALE_KEY = "launchpad_stale"  # SyncState: reason text, "" when the last enrichment was clean
CHECKED_KEY = "launchpad_checked_at"  # SyncState: ISO time of the last enrichment run

Ref = tuple[str, str]  # ("bug", "1654321") | ("blueprint", "image-import-refactor")


def load_records(session: Session, refs: Iterable[Ref]) -> dict[Ref, LaunchpadRecord]:
    wanted = set(refs)
    if not wanted:
        return {}
    found: dict[Ref, LaunchpadRecord] = {}
    kinds = {kind for kind, _ in wanted}
    query = select(LaunchpadRecord).where(LaunchpadRecord.kind.in_(kinds))
    for rec in session.exec(query).scalars():
        ref = (rec.kind, rec.key)
        if ref in wanted:
            found[ref] = rec
    return found


def is_fresh(record: LaunchpadRecord | None, now: datetime, ttl_seconds: int) -> bool:
    if record is None or record.error is not None:
        return False
    return record.fetched_at > now - timedelta(seconds=ttl_seconds)


def record_lookup(
    session: Session, ref: Ref, data: dict[str, Any] | None, now: datetime
) -> None:
    """A successful lookup: `data` is None when Launchpad has no such bug or blueprint."""
    kind, key = ref
    rec = session.get(LaunchpadRecord, (kind, key))
    if rec is None:
        rec = LaunchpadRecord(kind=kind, key=key, fetched_at=now)
    rec.found = data is not None
    rec.data = dict(data or {})
    rec.fetched_at = now
    rec.error = None
    session.add(rec)


def record_failure(session: Session, ref: Ref, error: str, now: datetime) -> None:
    """A failed lookup: keep what we knew, remember why it failed."""
    kind, key = ref
    rec = session.get(LaunchpadRecord, (kind, key))
    if rec is None:
        rec = LaunchpadRecord(kind=kind, key=key, found=False, data={}, fetched_at=now)
    rec.error = error[:500]
    session.add(rec)


def set_staleness(session: Session, reason: str | None, now: datetime) -> None:
    set_state(session, STALE_KEY, reason or "")
    set_state(session, CHECKED_KEY, now.isoformat(timespec="seconds"))


def staleness(session: Session) -> str | None:
    """Why Launchpad data is stale (for the dashboard), or None when the last run was clean."""
    return get_state(session, STALE_KEY) or None


def last_checked(session: Session) -> datetime | None:
    value = get_state(session, CHECKED_KEY)
    return datetime.fromisoformat(value) if value else None


def facts_digest(session: Session) -> str:
    """A digest of every cached fact that priority matching reads: it moves only when a
    lookup brought different facts (a refresh that found the same ones leaves it alone)."""
    rows = session.execute(
        select(LaunchpadRecord.kind, LaunchpadRecord.key, LaunchpadRecord.found,
               LaunchpadRecord.data).order_by(LaunchpadRecord.kind, LaunchpadRecord.key)
    ).all()
    text = json.dumps([list(r) for r in rows], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
