"""Store: write and read the Verdict rows the evaluate step produces (idempotent upserts)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from reviewbot.rules.verdict import ChangeVerdict
from reviewbot.tables import Verdict

_CHUNK = 2000  # parameter sets per executemany call


def verdict_row(v: ChangeVerdict, evaluated_at: datetime) -> dict:
    """`reasons` holds every sentence (matches, exemption, gate, notes); `matches` only
    the priority matches, so readers can rely on each entry naming a priority."""
    return {
        "change_number": v.number,
        "gate_state": v.gate.state,
        "gate_reason": v.gate.reason,
        "priorities": v.priority_ids,
        "rank": v.rank,
        "exempt": bool(v.exempt_reasons),
        "gate_certain": v.gate.certain,
        "reasons": v.reasons,
        "matches": [
            {"priority": p.priority_id, "title": p.title, "rank": p.rank,
             "reasons": list(p.reasons)}
            for p in v.priorities
        ],
        "evaluated_at": evaluated_at,
    }


def save_verdicts(
    session: Session, verdicts: Sequence[ChangeVerdict], evaluated_at: datetime,
    *, prune: bool = False,
) -> int:
    """Insert or replace one row per change. With `prune`, rows of changes not in
    `verdicts` are deleted (they left the configured scope). Returns rows written."""
    rows = [verdict_row(v, evaluated_at) for v in verdicts]
    if rows:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(Verdict.__table__)
        stmt = stmt.on_conflict_do_update(
            index_elements=["change_number"],
            set_={c: stmt.excluded[c] for c in rows[0] if c != "change_number"},
        )
        # One statement compiled once, executed for many parameter sets: building a
        # multi-row VALUES statement per chunk spent most of its time compiling SQL.
        for i in range(0, len(rows), _CHUNK):
            session.execute(stmt, rows[i : i + _CHUNK])
    if prune:
        keep = {v.number for v in verdicts}
        stored = set(session.execute(select(Verdict.change_number)).scalars())
        stale = sorted(stored - keep)
        for i in range(0, len(stale), _CHUNK):
            session.execute(delete(Verdict).where(Verdict.change_number.in_(stale[i : i + _CHUNK])))
    return len(rows)


def delete_verdicts(session: Session, numbers: Sequence[int]) -> None:
    """Forget verdicts of changes that are no longer evaluated (left the configured scope)."""
    numbers = sorted(set(numbers))
    for i in range(0, len(numbers), _CHUNK):
        session.execute(delete(Verdict).where(Verdict.change_number.in_(numbers[i : i + _CHUNK])))


def load_verdicts(session: Session, numbers: Sequence[int] | None = None) -> dict[int, Verdict]:
    """Stored verdicts by change number (all of them when `numbers` is None)."""
    query = select(Verdict)
    if numbers is not None:
        query = query.where(Verdict.change_number.in_(list(numbers)))
    return {v.change_number: v for v in session.execute(query).scalars()}


def load_verdict(session: Session, number: int) -> Verdict | None:
    return session.get(Verdict, number)
