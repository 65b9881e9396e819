"""Store reads: build plain ChangeSnapshots and the Roster from the tables, set-based."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import select
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
    query = select(Change)
    if numbers is not None:
        query = query.where(Change.number.in_(list(numbers)))
    if projects:
        query = query.where(Change.project.in_(list(projects)))
    if branches:
        query = query.where(Change.branch.in_(list(branches)))
    if status:
        query = query.where(Change.status.in_(list(status)))
    if not include_missing:
        query = query.where(Change.missing_since.is_(None))
    rows = list(session.exec(query.order_by(Change.number)).scalars())
    if not rows:
        return []
    wanted = [r.number for r in rows]
    whole_table = numbers is None and not projects and not branches and not status

    def _scoped(stmt, column):  # noqa: ANN001, ANN202
        if whole_table:
            yield from session.exec(stmt).scalars()
            return
        for chunk in _chunks(wanted):
            yield from session.exec(stmt.where(column.in_(list(chunk)))).scalars()

    patch_sets: dict[int, list[PatchSetInfo]] = defaultdict(list)
    for ps in _scoped(select(PatchSet), PatchSet.change_number):
        patch_sets[ps.change_number].append(
            PatchSetInfo(ps.number, ps.created, ps.uploader_id, ps.insertions, ps.deletions)
        )
    current: dict[int, list[Vote]] = defaultdict(list)
    for v in _scoped(select(CurrentVote), CurrentVote.change_number):
        current[v.change_number].append(Vote(v.label, v.account_id, v.value))

    message_rows: dict[str, Message] = {}
    by_change_messages: dict[int, list[MessageInfo]] = defaultdict(list)
    if history or messages:
        for m in _scoped(select(Message), Message.change_number):
            message_rows[m.id] = m
            if messages:
                by_change_messages[m.change_number].append(
                    MessageInfo(
                        m.id, m.patch_set, m.author_id, m.date, m.tag,
                        m.inline_comments, m.free_text, m.changes_votes,
                    )
                )
    events: dict[int, list[VoteEvent]] = defaultdict(list)
    if history:
        for e in _scoped(select(VoteEventRow), VoteEventRow.change_number):
            msg = message_rows.get(e.message_id)
            events[e.change_number].append(
                VoteEvent(
                    e.change_number, e.patch_set, e.account_id, e.label, e.value, e.date,
                    e.message_id, e.removed,
                    msg.inline_comments if msg else 0,
                    msg.free_text if msg else "",
                )
            )
    launchpad = _launchpad_facts(session)

    snapshots = []
    for r in rows:
        evs = sorted(events.get(r.number, ()), key=lambda e: (e.date, e.message_id))
        msgs = sorted(by_change_messages.get(r.number, ()), key=lambda m: (m.date, m.id))
        snapshots.append(
            ChangeSnapshot(
                number=r.number,
                project=r.project,
                branch=r.branch,
                subject=r.subject,
                status=r.status,
                wip=r.wip,
                owner_id=r.owner_id,
                created=r.created,
                updated=r.updated,
                current_patch_set=r.current_patch_set,
                topic=r.topic,
                hashtags=tuple(r.hashtags or ()),
                commit_message=r.commit_message,
                files=tuple(r.files) if r.files is not None else None,
                submitted=r.submitted,
                closed_at=r.closed_at,
                patch_sets=tuple(sorted(patch_sets.get(r.number, ()), key=lambda p: p.number)),
                current_votes=tuple(current.get(r.number, ())),
                vote_events=tuple(evs),
                messages=tuple(msgs),
                launchpad=launchpad,
                missing=r.missing_since is not None,
                gerrit_id=r.gerrit_id,
            )
        )
    return snapshots


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
