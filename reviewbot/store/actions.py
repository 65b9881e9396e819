"""Store: the write-back action log, the "Gerrit said 403" memory, and hashtags after a write."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from reviewbot.store.state import get_state, set_state
from reviewbot.store.tables import ActionLog, Change, SyncState

# "uncertain": the write was sent, its answer was lost and no read-back has shown it
# applied yet; the next attempt reads back before sending anything again.
RESULTS = ("planned", "applied", "failed", "forbidden", "uncertain")
_FORBIDDEN_PREFIX = "writeback.forbidden:"  # SyncState key prefix, then "<kind>:<project>"
_CHUNK = 900


def record_action(
    session: Session,
    *,
    change: int,
    patch_set: int | None,
    action: str,
    detail: dict[str, Any],
    reason: str,
    result: str,
    when: datetime,
    error: str | None = None,
) -> ActionLog:
    if result not in RESULTS:
        raise ValueError(f"unknown action result {result!r}")
    row = ActionLog(
        change_number=change, patch_set=patch_set, action=action, detail=detail,
        reason=reason, result=result, error=error[:1000] if error else None, created=when,
    )
    session.add(row)
    return row


def settle_action(session: Session, row_id: int, *, result: str, error: str | None,
                  detail: dict[str, Any]) -> None:
    """Turn a write's "uncertain" row (logged before sending) into its outcome."""
    if result not in RESULTS:
        raise ValueError(f"unknown action result {result!r}")
    row = session.get(ActionLog, row_id)
    if row is None:
        raise LookupError(f"action_log row {row_id} to settle is not in the store")
    row.result = result
    row.error = error[:1000] if error else None
    row.detail = detail
    session.add(row)


def discard_intent(session: Session, row_id: int) -> None:
    """Drop a write's "uncertain" row logged before sending, when it was never sent (the
    fence failed after it was logged): no write happened, so nothing is left to show."""
    row = session.get(ActionLog, row_id)
    if row is not None and row.result == "uncertain":
        session.delete(row)


def latest_actions(session: Session, numbers: Sequence[int]) -> dict[tuple[int, str], ActionLog]:
    """The newest log row per (change, action) for these changes."""
    latest: dict[tuple[int, str], ActionLog] = {}
    numbers = list(numbers)
    for i in range(0, len(numbers), _CHUNK):
        chunk = numbers[i : i + _CHUNK]
        newest = (
            select(func.max(ActionLog.id))
            .where(ActionLog.change_number.in_(chunk))
            .group_by(ActionLog.change_number, ActionLog.action)
        )
        for row in session.execute(select(ActionLog).where(ActionLog.id.in_(newest))).scalars():
            latest[(row.change_number, row.action)] = row
    return latest


def posted_messages(session: Session, action: str, numbers: Sequence[int]) -> set[tuple[int, int]]:
    """(change, patch set) pairs where `action` was applied (a message really posted)."""
    posted: set[tuple[int, int]] = set()
    numbers = list(numbers)
    for i in range(0, len(numbers), _CHUNK):
        query = select(ActionLog.change_number, ActionLog.patch_set).where(
            ActionLog.action == action,
            ActionLog.result == "applied",
            ActionLog.change_number.in_(numbers[i : i + _CHUNK]),
        )
        posted |= {(c, p) for c, p in session.execute(query) if p is not None}
    return posted


def unconfirmed_writes(session: Session) -> set[tuple[int, str]]:
    """(change, action) whose latest attempt is "uncertain": read back before writing again."""
    newer = aliased(ActionLog)
    later_attempt = (
        select(newer.id)
        .where(newer.change_number == ActionLog.change_number, newer.action == ActionLog.action,
               col(newer.id) > col(ActionLog.id), newer.result != "planned")
        .exists()
    )
    query = select(ActionLog.change_number, ActionLog.action).where(
        ActionLog.result == "uncertain", ~later_attempt)
    return {(number, action) for number, action in session.execute(query)}


def recent_actions(
    session: Session, *, limit: int = 100, change: int | None = None,
    projects: Sequence[str] | None = None,
) -> list[ActionLog]:
    query = select(ActionLog)
    if change is not None:
        query = query.where(ActionLog.change_number == change)
    if projects is not None:  # one team of several: its changes only
        query = query.where(ActionLog.change_number.in_(
            select(Change.number).where(Change.project.in_(list(projects)))))
    query = query.order_by(ActionLog.id.desc()).limit(limit)
    return list(session.execute(query).scalars())


def store_hashtags(session: Session, number: int, hashtags: Sequence[str]) -> None:
    """What Gerrit answered after our write, so the next plan sees it before the next sync."""
    row = session.get(Change, number)
    if row is not None:
        row.hashtags = list(hashtags)
        session.add(row)


# -- 403 memory ---------------------------------------------------------------


@dataclass(frozen=True)
class Forbidden:
    """Gerrit refused a kind of write ("hashtags" or "message") in a project."""

    kind: str
    project: str
    since: datetime
    change: int
    error: str
    fingerprint: str  # the write-back settings in force when it happened


def get_forbidden(session: Session, kind: str, project: str) -> Forbidden | None:
    raw = get_state(session, f"{_FORBIDDEN_PREFIX}{kind}:{project}")
    return _parse_forbidden(kind, project, raw) if raw else None


def set_forbidden(session: Session, f: Forbidden) -> None:
    set_state(session, f"{_FORBIDDEN_PREFIX}{f.kind}:{f.project}", json.dumps({
        "since": f.since.isoformat(), "change": f.change, "error": f.error,
        "fingerprint": f.fingerprint,
    }))


def clear_forbidden(session: Session, kind: str, project: str) -> None:
    row = session.get(SyncState, f"{_FORBIDDEN_PREFIX}{kind}:{project}")
    if row is not None:
        session.delete(row)


def all_forbidden(session: Session) -> list[Forbidden]:
    """Every remembered refusal, for `reviewbot apply` and the dashboard."""
    query = select(SyncState).where(SyncState.key.startswith(_FORBIDDEN_PREFIX))
    found = []
    for row in session.execute(query).scalars():
        kind, _, project = row.key[len(_FORBIDDEN_PREFIX):].partition(":")
        parsed = _parse_forbidden(kind, project, row.value)
        if parsed is not None:
            found.append(parsed)
    return sorted(found, key=lambda f: (f.kind, f.project))


def _parse_forbidden(kind: str, project: str, raw: str) -> Forbidden | None:
    try:
        data = json.loads(raw)
        return Forbidden(kind, project, datetime.fromisoformat(data["since"]),
                         int(data["change"]), str(data["error"]), str(data["fingerprint"]))
    except (ValueError, KeyError, TypeError):
        return None  # an unreadable memory is no memory: the next write simply tries
