"""Store reads for the change list, one change's verdict, and the write-back action log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlmodel import Session

from reviewbot.store.tables import Account, ActionLog, Change, Message, PatchSet, Verdict
from reviewbot.timeline.snapshot import BOT_MESSAGE_TAG

# `state` filter values beyond the rules' gate states.
UNEVALUATED = "unevaluated"


@dataclass(frozen=True, slots=True)
class ListedChange:
    """One row of the /changes list: a change with its gate state and last human activity."""

    number: int
    project: str
    branch: str
    subject: str
    owner_id: int
    status: str
    wip: bool
    updated: datetime  # Gerrit's `updated`: bumped by anything, the bot's own writes too
    gate_state: str | None
    priorities: list[str]
    last_human: datetime  # latest upload, vote or message by a person (at least: created)


def account_ids(session: Session, usernames: list[str]) -> set[int]:
    """Ids of the stored accounts with these usernames."""
    if not usernames:
        return set()
    return set(session.execute(
        select(Account.id).where(Account.username.in_(usernames))).scalars())


def list_changes(
    session: Session, *, state: str | None = None, status: str | None = "NEW",
    offset: int = 0, limit: int = 50, not_people: frozenset[int] = frozenset(),
    projects: Sequence[str] | None = None,
) -> tuple[int, list[ListedChange]]:
    """Changes by last human activity, newest first, optionally one gate state; (total, page).

    Human activity (DESIGN "PTL report", stale) is an upload, vote or message by an
    account not in `not_people` (the bots, the bot's own account): the bot's hashtag
    writes bump Gerrit's `updated` and would otherwise look like the latest news.
    Votes arrive as messages, so messages and patch sets cover all three. The same
    notion as `reviewbot.timeline.state.last_human_activity` (creation at the least, the bot's
    tagged messages never), computed in SQL for one page of a long list.
    """
    people = list(not_people)
    filters = [Change.missing_since.is_(None)]
    if projects is not None:  # one team of several: its projects only
        filters.append(Change.project.in_(list(projects)))
    if status:
        filters.append(Change.status == status)
    if state == UNEVALUATED:
        filters.append(Verdict.gate_state.is_(None))
    elif state:
        filters.append(Verdict.gate_state == state)
    # Aggregate only the listed changes' messages and patch sets, not the whole history.
    listed = (select(Change.number).outerjoin(Verdict, Verdict.change_number == Change.number)
              .where(*filters))
    said = (select(Message.change_number.label("number"), func.max(Message.date).label("at"))
            .where(Message.change_number.in_(listed),
                   Message.author_id.is_not(None), Message.author_id.not_in(people),
                   or_(Message.tag.is_(None), Message.tag != BOT_MESSAGE_TAG))
            .group_by(Message.change_number).subquery())
    uploaded = (select(PatchSet.change_number.label("number"),
                       func.max(PatchSet.created).label("at"))
                .where(PatchSet.change_number.in_(listed),
                       or_(PatchSet.uploader_id.is_(None), PatchSet.uploader_id.not_in(people)))
                .group_by(PatchSet.change_number).subquery())
    people_at = case(
        (said.c.at.is_(None), uploaded.c.at),
        (uploaded.c.at.is_(None), said.c.at),
        (said.c.at > uploaded.c.at, said.c.at),
        else_=uploaded.c.at,
    )
    last_human = case(
        (people_at.is_(None), Change.created),
        (people_at > Change.created, people_at),
        else_=Change.created,
    ).label("last_human")
    total = session.execute(
        select(func.count()).select_from(Change)
        .outerjoin(Verdict, Verdict.change_number == Change.number).where(*filters)
    ).scalar_one()
    query = (select(Change.number, Change.project, Change.branch, Change.subject,
                    Change.owner_id, Change.status, Change.wip, Change.updated,
                    Verdict.gate_state, Verdict.priorities, last_human)
             .select_from(Change)
             .outerjoin(Verdict, Verdict.change_number == Change.number)
             .outerjoin(said, said.c.number == Change.number)
             .outerjoin(uploaded, uploaded.c.number == Change.number)
             .where(*filters))
    rows = session.execute(
        query.order_by(last_human.desc(), Change.number.desc())
        .offset(offset).limit(limit)).all()
    return total, [
        ListedChange(number, project, branch, subject, owner_id, status, wip, updated,
                     gate_state, list(priorities or []), _stamp(last))
        for (number, project, branch, subject, owner_id, status, wip, updated, gate_state,
             priorities, last) in rows
    ]


def _stamp(value: datetime | str) -> datetime:
    # SQLite hands back the CASE of two DateTime columns as text.
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def list_actions(session: Session, *, offset: int = 0, limit: int = 50,
                 change: int | None = None, projects: Sequence[str] | None = None,
                 ) -> tuple[int, list[ActionLog]]:
    """Write-back log, newest first; (total, page). `projects`: only those projects'
    changes (one team of several)."""
    query = select(ActionLog)
    count = select(func.count()).select_from(ActionLog)
    if change is not None:
        query = query.where(ActionLog.change_number == change)
        count = count.where(ActionLog.change_number == change)
    if projects is not None:
        mine = ActionLog.change_number.in_(
            select(Change.number).where(Change.project.in_(list(projects))))
        query = query.where(mine)
        count = count.where(mine)
    total = session.execute(count).scalar_one()
    rows = session.execute(
        query.order_by(ActionLog.created.desc(), ActionLog.id.desc()).offset(offset).limit(limit)
    ).scalars().all()
    return total, list(rows)
