"""Store reads for the change list, one change's verdict, and the write-back action log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from reviewbot.tables import ActionLog, Change, Verdict

# `state` filter values beyond the rules' gate states.
UNEVALUATED = "unevaluated"


@dataclass(frozen=True, slots=True)
class ChangeRow:
    number: int
    project: str
    branch: str
    subject: str
    owner_id: int
    status: str
    wip: bool
    updated: datetime
    gate_state: str | None
    priorities: list[str]


def list_changes(
    session: Session, *, state: str | None = None, status: str | None = "NEW",
    offset: int = 0, limit: int = 50,
) -> tuple[int, list[ChangeRow]]:
    """Changes newest-updated first, optionally only one gate state; (total, page)."""
    query = select(Change.number, Change.project, Change.branch, Change.subject,
                   Change.owner_id, Change.status, Change.wip, Change.updated,
                   Verdict.gate_state, Verdict.priorities).select_from(Change).outerjoin(
        Verdict, Verdict.change_number == Change.number).where(Change.missing_since.is_(None))
    if status:
        query = query.where(Change.status == status)
    if state == UNEVALUATED:
        query = query.where(Verdict.gate_state.is_(None))
    elif state:
        query = query.where(Verdict.gate_state == state)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(
        query.order_by(Change.updated.desc(), Change.number.desc()).offset(offset).limit(limit)
    ).all()
    return total, [ChangeRow(*r[:9], list(r[9] or [])) for r in rows]


def change_verdict(session: Session, number: int) -> dict[str, Any] | None:
    """The stored verdict of one change as plain data (None: never evaluated)."""
    v = session.get(Verdict, number)
    if v is None:
        return None
    return {
        "gate_state": v.gate_state, "gate_reason": v.gate_reason,
        "priorities": list(v.priorities or []), "rank": v.rank,
        "reasons": list(v.reasons or []), "matches": list(v.matches or []),
        "evaluated_at": v.evaluated_at,
    }


def list_actions(session: Session, *, offset: int = 0, limit: int = 50,
                 change: int | None = None) -> tuple[int, list[ActionLog]]:
    """Write-back log, newest first; (total, page)."""
    query = select(ActionLog)
    count = select(func.count()).select_from(ActionLog)
    if change is not None:
        query = query.where(ActionLog.change_number == change)
        count = count.where(ActionLog.change_number == change)
    total = session.execute(count).scalar_one()
    rows = session.execute(
        query.order_by(ActionLog.created.desc(), ActionLog.id.desc()).offset(offset).limit(limit)
    ).scalars().all()
    return total, list(rows)
