"""Store: release cycles (the `cycle` table) and the open changes' hashtags a rollover reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from reviewbot.store.snapshots import RawValues, plain_rows
from reviewbot.store.tables import Change, Cycle


def save_cycle(session: Session, values: dict[str, Any]) -> Cycle:
    """Insert or replace the cycle named `values["name"]` (its `ended` is kept)."""
    row = session.get(Cycle, values["name"])
    if row is None:
        row = Cycle(**values)
    else:
        for key, value in values.items():
            if key != "ended":
                setattr(row, key, value)
    session.add(row)
    return row


def end_cycles(session: Session, present: str, when: datetime) -> list[str]:
    """Mark every other cycle not yet ended as ended at `when`; their names."""
    ended = []
    for row in session.exec(select(Cycle).where(Cycle.name != present,
                                                Cycle.ended.is_(None))).scalars():
        row.ended = when
        session.add(row)
        ended.append(row.name)
    return ended


def all_cycles(session: Session) -> list[Cycle]:
    """Every stored cycle, newest start first."""
    return list(session.exec(select(Cycle).order_by(Cycle.start.desc(), Cycle.name))
                .scalars())


def get_cycle(session: Session, name: str) -> Cycle | None:
    return session.get(Cycle, name)


def open_change_hashtags(session: Session, projects: Sequence[str], branches: Sequence[str]
                         ) -> list[tuple[int, str, str, int, list[str]]]:
    """(number, project, branch, current patch set, hashtags) of every change still under
    review (status NEW, WIP too) in the configured projects and branches, as last synced."""
    c = Change.__table__.c
    to_json = RawValues(session).json
    rows = plain_rows(session, select(c.number, c.project, c.branch, c.current_patch_set,
                                      c.hashtags)
                      .where(c.status == "NEW", c.missing_since.is_(None),
                             c.project.in_(list(projects)), c.branch.in_(list(branches)))
                      .order_by(c.number))
    return [(n, p, b, ps, list(to_json(tags) or [])) for n, p, b, ps, tags in rows]
