"""Store: write and read the Verdict rows the evaluate step produces (idempotent upserts)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from reviewbot.store.snapshots import RawValues, plain_rows
from reviewbot.store.tables import Change, Verdict

_CHUNK = 2000  # parameter sets per executemany call


def save_verdicts(session: Session, rows: Sequence[dict], *, keep: set[int] | None = None) -> int:
    """Insert or replace one row per change (Verdict columns by name). With `keep`, rows
    of other changes are deleted (they left the configured scope). Returns rows written."""
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
    if keep is not None:
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


class VerdictRow(NamedTuple):
    """A stored verdict as plain values (the Verdict columns a reader rebuilds it from)."""

    change_number: int
    gate_state: str
    gate_reason: str
    gate_certain: bool
    exempt: bool
    reasons: list
    matches: list
    review_state: str | None
    review_reason: str
    evaluated_revision: int


def verdict_rows(session: Session, numbers: Sequence[int] | None = None) -> dict[int, VerdictRow]:
    """Stored verdicts as plain rows (no ORM objects: a queue as of T reads thousands)."""
    v = Verdict.__table__.c
    stmt = select(v.change_number, v.gate_state, v.gate_reason, v.gate_certain, v.exempt,
                  v.reasons, v.matches, v.review_state, v.review_reason, v.evaluated_revision)
    raw = RawValues(session)
    to_json = raw.json
    out: dict[int, VerdictRow] = {}
    chunks = [None] if numbers is None else [
        list(numbers)[i : i + _CHUNK] for i in range(0, len(numbers), _CHUNK)]
    for chunk in chunks:
        query = stmt if chunk is None else stmt.where(v.change_number.in_(chunk))
        for (number, gate, reason, certain, exempt, reasons, matches, review, review_reason,
             revision) in plain_rows(session, query):
            out[number] = VerdictRow(number, gate, reason or "", bool(certain), bool(exempt),
                                     to_json(reasons) or [], to_json(matches) or [], review,
                                     review_reason or "", revision)
    return out


def load_verdict(session: Session, number: int) -> Verdict | None:
    return session.get(Verdict, number)


def moved_since_evaluated(session: Session, projects: Sequence[str], branches: Sequence[str]
                          ) -> list[int]:
    """Changes in scope whose rows moved since their verdict was computed (or that have none)."""
    c, v = Change.__table__.c, Verdict.__table__.c
    return list(session.execute(
        select(c.number).select_from(Change.__table__.outerjoin(
            Verdict.__table__, v.change_number == c.number))
        .where(c.project.in_(list(projects)), c.branch.in_(list(branches)),
               c.missing_since.is_(None),
               or_(v.change_number.is_(None), v.evaluated_revision != c.revision))
        .order_by(c.number)
    ).scalars())


def newest_update(session: Session, projects: Sequence[str], branches: Sequence[str]
                  ) -> datetime | None:
    """The newest `updated` among the tracked changes (None for an empty store)."""
    c = Change.__table__.c
    return session.execute(select(func.max(Change.updated)).where(
        c.project.in_(list(projects)), c.branch.in_(list(branches)))).scalar()


def count_open(session: Session, projects: Sequence[str], branches: Sequence[str]) -> int:
    c = Change.__table__.c
    return session.execute(
        select(func.count()).select_from(Change.__table__)
        .where(c.project.in_(list(projects)), c.branch.in_(list(branches)),
               c.missing_since.is_(None), c.status == "NEW", c.wip == False)  # noqa: E712
    ).scalar_one()


def out_of_scope(session: Session, projects: Sequence[str], branches: Sequence[str]) -> list[int]:
    """Verdicts of changes no longer in the configured projects and branches (or missing)."""
    c, v = Change.__table__.c, Verdict.__table__.c
    return list(session.execute(
        select(v.change_number).select_from(Verdict.__table__.outerjoin(
            Change.__table__, v.change_number == c.number))
        .where(or_(c.number.is_(None), c.missing_since.is_not(None),
                   ~c.project.in_(list(projects)), ~c.branch.in_(list(branches))))
    ).scalars())


def priorities_matching_nothing(session: Session, priority_ids: Sequence[str]) -> list[str]:
    """The configured priorities (ids, in the order given) that no stored verdict names:
    they match no synced change, which evaluate and the /priorities page say out loud."""
    # Only rows with a priority carry a rank; their JSON lists are read, the rest skipped.
    named = session.execute(select(Verdict.priorities).where(Verdict.rank.is_not(None)))
    matched = {pid for ids in named.scalars() for pid in ids or ()}
    return [pid for pid in priority_ids if pid not in matched]
