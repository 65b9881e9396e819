"""Store: what the apply step last settled per open change, and which changes moved since.

One `applied_change` row per change whose plan was settled (nothing to write, everything
written, or, in a dry run, planned and logged), holding the change's `revision` and the
verdict facts the plan read. A change is due for planning again when it has no row, its
revision moved (sync, import, account adoption: any write to its rows) or its verdict's
gate state, priorities or certainty changed. Everything is due again when the plan's
inputs outside the store change (`apply.fingerprint`: settings, projects, priorities).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import Text, cast, delete, func, or_, select
from sqlmodel import Session

from reviewbot.config import Config
from reviewbot.store.accounts import chunks
from reviewbot.store.changes import insert_tuples
from reviewbot.store.snapshots import plain_rows
from reviewbot.store.state import get_state, set_state
from reviewbot.store.tables import AppliedChange, Change, Verdict
from reviewbot.timeline.snapshot import GATE_STATES

FINGERPRINT_KEY = "apply.fingerprint"
_APPLIED = AppliedChange.__table__
_COLUMNS = ("change_number", "revision", "gate_state", "priorities", "gate_certain",
            "pending_writes")


class AppliedStamp(NamedTuple):
    """A change as the apply step read it: what its `applied_change` row will hold."""

    number: int
    revision: int
    gate_state: str
    priorities: str
    gate_certain: bool


def _in_scope(config: Config) -> list:
    """Open (NEW, not WIP), not missing, configured project and branch, with a gate
    verdict: the changes write-back acts on (`writeback.in_scope`)."""
    return [Change.status == "NEW", Change.wip.is_(False), Change.missing_since.is_(None),
            Change.project.in_(list(config.gerrit.projects)),
            Change.branch.in_(list(config.gerrit.branches)),
            Verdict.gate_state.in_(GATE_STATES)]


def _moved():
    return or_(
        AppliedChange.change_number.is_(None),
        AppliedChange.revision != Change.revision,
        AppliedChange.gate_state != Verdict.gate_state,
        AppliedChange.priorities != cast(Verdict.priorities, Text),
        AppliedChange.gate_certain != Verdict.gate_certain,
    )


def _joined(*columns):
    return (select(*columns).select_from(Change)
            .join(Verdict, Verdict.change_number == Change.number)
            .outerjoin(AppliedChange, AppliedChange.change_number == Change.number))


class Due(NamedTuple):
    open: int  # open changes in scope
    moved: list[AppliedStamp]  # of those, the ones to plan again
    pending_writes: int  # writes earlier dry runs planned for the others


def due_changes(session: Session, config: Config, fingerprint: str, *,
                everything: bool = False) -> Due:
    """The open changes in scope that moved since the last apply (all of them when the
    fingerprint changed or `everything`), with their revision and verdict facts read
    before the plan reads their data: a write in between leaves them due, never wrongly
    settled."""
    key = config.state_key(FINGERPRINT_KEY)  # one per team of the deployment
    if get_state(session, key) != fingerprint:
        session.execute(delete(AppliedChange))
        set_state(session, key, fingerprint)
    scope = _in_scope(config)
    stamp_columns = (Change.number, Change.revision, Verdict.gate_state,
                     cast(Verdict.priorities, Text), Verdict.gate_certain)
    query = _joined(*stamp_columns).where(*scope)
    if not everything:
        query = query.where(_moved())
    moved = [AppliedStamp(n, r, g, p or "[]", bool(c))
             for n, r, g, p, c in plain_rows(session, query.order_by(Change.number))]
    settled_pending = func.sum(AppliedChange.pending_writes).filter(~_moved())
    count, pending = session.execute(
        _joined(func.count(), settled_pending).where(*scope)).one()
    return Due(open=count or 0, moved=moved,
               pending_writes=0 if everything else int(pending or 0))


def settle(session: Session, stamps: Sequence[AppliedStamp], pending: dict[int, int],
           unsettled: set[int]) -> None:
    """Record the changes whose plan is settled (with the writes a dry run left pending);
    forget the `unsettled` ones (a failed or refused write: planned again next time)."""
    numbers = sorted({s.number for s in stamps})
    for part in chunks(numbers):
        session.execute(delete(AppliedChange).where(AppliedChange.change_number.in_(part)))
    rows = [(s.number, s.revision, s.gate_state, s.priorities, s.gate_certain,
             pending.get(s.number, 0)) for s in stamps if s.number not in unsettled]
    insert_tuples(session.connection(), _APPLIED, _COLUMNS, rows)
