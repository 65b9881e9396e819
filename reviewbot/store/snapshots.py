"""Store reads: build plain ChangeSnapshots and the Roster from the tables, set-based."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from reviewbot.config import Config
from reviewbot.people import Roster, spells_from_config
from reviewbot.snapshot import ChangeSnapshot, MessageInfo, PatchSetInfo, Vote, VoteEvent
from reviewbot.tables import (
    Account,
    Change,
    CurrentVote,
    GroupMember,
    LaunchpadRecord,
    Message,
    PatchSet,
    SyncState,
)
from reviewbot.tables import VoteEvent as VoteEventRow

_CHUNK = 900  # stay under SQLite's bound-parameter limit


def _chunks(numbers: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(numbers), _CHUNK):
        yield numbers[i : i + _CHUNK]


def plain_rows(session: Session, stmt: Any) -> list[tuple]:
    """Rows of a Core select exactly as the driver returns them.

    SQLAlchemy's per-value result processing (and ORM entities even more so) costs
    more than the database itself on reads of 100,000+ rows, so the hot reads take
    the driver's tuples and convert the few columns that need it (`RawValues`).
    Pending ORM changes are flushed first, as an ORM query would.
    """
    if session.autoflush:
        session.flush()
    result = session.connection().execute(stmt)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _json_value(value: Any) -> Any:
    # SQLite hands back the JSON text; PostgreSQL drivers already decode it.
    if not isinstance(value, str):
        return value
    if value == "[]":
        return []
    return None if value == "null" else json.loads(value)


class RawValues:
    """Converters from driver values to Python values for `plain_rows` results: SQLite
    returns DateTime columns as text (parsed with the C `fromisoformat`), booleans as
    0/1 and JSON as text; PostgreSQL's driver returns them converted already."""

    def __init__(self, session: Session):
        sqlite = session.get_bind().dialect.name == "sqlite"
        self.datetime: Callable[[Any], datetime] = (
            datetime.fromisoformat if sqlite else _same
        )
        self.json = _json_value

    def optional_datetime(self, value: Any) -> datetime | None:
        return None if value is None else self.datetime(value)


def _same(value: Any) -> Any:
    return value


def load_changes(
    session: Session,
    *,
    numbers: Sequence[int] | None = None,
    projects: Sequence[str] | None = None,
    branches: Sequence[str] | None = None,
    status: Sequence[str] | None = None,
    include_missing: bool = False,
    history: bool = True,
    messages: bool = False,
) -> list[ChangeSnapshot]:
    """Snapshots of the selected changes, with patch sets, current votes and (optionally)
    vote history and messages. A handful of queries whatever the number of changes."""
    c = Change.__table__.c
    query = select(
        c.number, c.project, c.branch, c.subject, c.status, c.wip, c.owner_id, c.created,
        c.updated, c.current_patch_set, c.topic, c.hashtags, c.commit_message, c.files,
        c.submitted, c.closed_at, c.missing_since, c.gerrit_id,
    )
    if numbers is not None:
        query = query.where(c.number.in_(list(numbers)))
    if projects:
        query = query.where(c.project.in_(list(projects)))
    if branches:
        query = query.where(c.branch.in_(list(branches)))
    if status:
        query = query.where(c.status.in_(list(status)))
    if not include_missing:
        query = query.where(c.missing_since.is_(None))
    rows = plain_rows(session, query.order_by(c.number))
    if not rows:
        return []
    wanted = [r[0] for r in rows]
    whole_table = numbers is None and not projects and not branches and not status
    raw = RawValues(session)
    to_dt = raw.datetime

    def scoped(stmt, column, order=()) -> list[tuple]:  # noqa: ANN001
        if whole_table:
            return plain_rows(session, stmt.order_by(*order))
        out: list[tuple] = []
        for chunk in _chunks(wanted):  # ascending numbers, so chunks stay in order
            out += plain_rows(session, stmt.where(column.in_(list(chunk))).order_by(*order))
        return out

    ps_t = PatchSet.__table__.c
    patch_sets: dict[int, list[PatchSetInfo]] = defaultdict(list)
    for number, ps, created, uploader, ins, dels in scoped(
        select(ps_t.change_number, ps_t.number, ps_t.created, ps_t.uploader_id,
               ps_t.insertions, ps_t.deletions),
        ps_t.change_number, (ps_t.change_number, ps_t.number),
    ):
        patch_sets[number].append(PatchSetInfo(ps, to_dt(created), uploader, ins, dels))

    cv = CurrentVote.__table__.c
    current: dict[int, list[Vote]] = defaultdict(list)
    # No ORDER BY: the order is the table's, as it always was.
    for number, label, account, value in scoped(
        select(cv.change_number, cv.label, cv.account_id, cv.value), cv.change_number
    ):
        current[number].append(Vote(label, account, value))

    m = Message.__table__.c
    by_change_messages: dict[int, list[MessageInfo]] = defaultdict(list)
    if messages:
        pairs = [
            (number, MessageInfo(mid, ps, author, to_dt(date), tag, inline, free, bool(votes)))
            for number, mid, ps, author, date, tag, inline, free, votes in scoped(
                select(m.change_number, m.id, m.patch_set, m.author_id, m.date, m.tag,
                       m.inline_comments, m.free_text, m.changes_votes),
                m.change_number, (m.change_number, m.date, m.id),
            )
        ]
        # Python order, not the database's collation, decides between text ids.
        pairs.sort(key=lambda pair: (pair[0], pair[1].date, pair[1].id))
        for number, info in pairs:
            by_change_messages[number].append(info)

    events: dict[int, list[VoteEvent]] = defaultdict(list)
    if history:
        ve = VoteEventRow.__table__.c
        # The vote message's comment count and free text come joined in SQL, rather
        # than reading every message row.
        stmt = select(
            ve.change_number, ve.patch_set, ve.account_id, ve.label, ve.value, ve.date,
            ve.message_id, ve.removed, func.coalesce(m.inline_comments, 0),
            func.coalesce(m.free_text, ""),
        ).select_from(
            VoteEventRow.__table__.outerjoin(Message.__table__, m.id == ve.message_id)
        )
        loaded = [
            VoteEvent(number, ps, account, label, value, to_dt(date), mid, bool(removed),
                      inline, free)
            for number, ps, account, label, value, date, mid, removed, inline, free in scoped(
                stmt, ve.change_number, (ve.change_number, ve.date, ve.message_id, ve.id)
            )
        ]
        # The database already returned them in this order; the stable sort keeps it
        # exact (datetime and Python string order) at the cost of a linear pass.
        loaded.sort(key=attrgetter("change_number", "date", "message_id"))
        for e in loaded:
            events[e.change_number].append(e)
    launchpad = _launchpad_facts(session)

    to_json = raw.json
    opt_dt = raw.optional_datetime
    return [
        # Positional, in ChangeSnapshot's field order (cheaper than keywords at this count).
        ChangeSnapshot(
            number, project, branch, subject, status, bool(wip), owner, to_dt(created),
            to_dt(updated), cur_ps, topic, tuple(to_json(hashtags) or ()), commit_message,
            tuple(files) if (files := to_json(files_raw)) is not None else None,
            opt_dt(submitted), opt_dt(closed_at), tuple(patch_sets.get(number, ())),
            tuple(current.get(number, ())), tuple(events.get(number, ())),
            tuple(by_change_messages.get(number, ())), launchpad, missing is not None,
            gerrit_id,
        )
        for (number, project, branch, subject, status, wip, owner, created, updated, cur_ps,
             topic, hashtags, commit_message, files_raw, submitted, closed_at, missing,
             gerrit_id) in rows
    ]


def _launchpad_facts(session: Session) -> dict[tuple[str, str], dict]:
    facts: dict[tuple[str, str], dict] = {}
    for rec in session.exec(select(LaunchpadRecord).where(LaunchpadRecord.found)).scalars():
        facts[(rec.kind, rec.key)] = rec.data or {}
    return facts


def load_roster(session: Session, config: Config) -> Roster:
    """Core and bot membership from the synced groups, config bot accounts and core history."""
    usernames: dict[int, str] = {}
    names: dict[int, str] = {}
    for a in session.exec(select(Account)).scalars():
        if a.username:
            usernames[a.id] = a.username
        if a.name:
            names[a.id] = a.name
    ids_by_username = {u: i for i, u in usernames.items()}

    members: dict[str, set[int]] = defaultdict(set)
    for gm in session.exec(select(GroupMember)).scalars():
        members[gm.group_name].add(gm.account_id)
    core_now = members.get(config.gerrit.core_group, set()) if config.gerrit.core_group else set()
    known_row = session.get(SyncState, f"group_known:{config.gerrit.core_group}")
    # The sync writes "false" when the group read back empty; it then keeps the
    # previously stored members, which are a hint, not knowledge.
    if known_row is not None:
        core_known = known_row.value == "true"
    else:
        core_known = bool(core_now)

    bots = set(members.get(config.gerrit.bot_group, set()))
    bots |= {ids_by_username[u] for u in config.gerrit.bot_accounts if u in ids_by_username}

    history = spells_from_config(
        ((e.username, e.joined, e.left) for e in config.core_history), ids_by_username
    )
    return Roster(
        core_now=frozenset(core_now),
        core_known=core_known,
        bots=frozenset(bots),
        history=history,
        usernames=usernames,
        names=names,
    )
