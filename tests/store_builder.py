"""Test data: put accounts, changes, votes and verdicts straight into a store (any test may use).

Each helper adds rows to an open Session and returns what it made; the caller
commits. Defaults describe an ordinary open change on openstack/glance master.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlmodel import Session

from reviewbot.store.tables import (
    Account,
    ActionLog,
    Change,
    CurrentVote,
    GroupMember,
    Message,
    PatchSet,
    SyncState,
    Verdict,
    VoteEventRow,
)

T0 = datetime(2017, 1, 2, 9, 0, 0)


def add_account(session: Session, account_id: int, username: str | None = None,
                name: str | None = None, email: str | None = None) -> Account:
    account = Account(id=account_id, username=username, name=name or username, email=email)
    session.add(account)
    return account


def add_core(session: Session, group: str, *account_ids: int, known: bool = True) -> None:
    """Members of the core group, and the sync fact that the group was readable."""
    for account_id in account_ids:
        session.add(GroupMember(group_name=group, account_id=account_id))
    session.add(SyncState(key=f"group_known:{group}", value="true" if known else "false",
                          updated=T0))


def add_change(
    session: Session,
    number: int,
    owner_id: int,
    *,
    subject: str | None = None,
    project: str = "openstack/glance",
    branch: str = "master",
    status: str = "NEW",
    wip: bool = False,
    topic: str | None = None,
    hashtags: Iterable[str] = (),
    created: datetime = T0,
    patch_sets: Iterable[datetime] | None = None,
    uploader_id: int | None = None,
    commit_message: str | None = None,
    files: Iterable[str] | None = None,
) -> Change:
    """A change with patch sets uploaded at the given times (default: one, at `created`)."""
    uploads = list(patch_sets) if patch_sets is not None else [created]
    change = Change(
        number=number, gerrit_id=f"{project.replace('/', '%2F')}~{branch}~I{number:040d}",
        change_id=f"I{number:040d}", project=project, branch=branch,
        subject=subject if subject is not None else f"Change {number}", status=status,
        wip=wip, owner_id=owner_id, topic=topic, hashtags=list(hashtags), created=created,
        updated=max(uploads), current_patch_set=len(uploads),
        commit_message=commit_message, files=list(files) if files is not None else None,
    )
    session.add(change)
    session.flush()
    for i, when in enumerate(uploads, 1):
        session.add(PatchSet(change_number=number, number=i, revision=f"{number:020d}{i:020d}",
                             created=when, uploader_id=uploader_id or owner_id))
    return change


def add_current_vote(session: Session, number: int, account_id: int, label: str,
                     value: int) -> None:
    session.add(CurrentVote(change_number=number, label=label, account_id=account_id,
                            value=value))


def add_vote_event(session: Session, number: int, patch_set: int, account_id: int, label: str,
                   value: int, date: datetime, *, text: str | None = None) -> VoteEventRow:
    """A vote event and the change message it came from."""
    message_id = f"m-{number}-{patch_set}-{account_id}-{label}-{date.isoformat()}"
    if session.get(Message, message_id) is None:
        session.add(Message(
            id=message_id, change_number=number, patch_set=patch_set, author_id=account_id,
            date=date, text=text or f"Patch Set {patch_set}: {label}{value:+d}",
            changes_votes=True,
        ))
        session.flush()
    event = VoteEventRow(message_id=message_id, change_number=number, patch_set=patch_set,
                         account_id=account_id, label=label, value=value,
                         removed=value == 0, date=date)
    session.add(event)
    return event


def set_verdict(
    session: Session,
    number: int,
    gate_state: str,
    *,
    gate_reason: str = "",
    priorities: Iterable[str] = (),
    rank: int | None = None,
    matches: list[dict] | None = None,
    evaluated_at: datetime = T0 + timedelta(days=365),
    current: bool = False,
) -> Verdict:
    """The rules' verdict for a change. `matches` rows: {priority, title, rank, reasons}.
    `current`: judged at the change's stored revision, as the evaluate step records it
    (else at none, like a verdict stored before revisions were kept)."""
    ids = list(priorities)
    change = session.get(Change, number) if current else None
    verdict = Verdict(
        evaluated_revision=change.revision if change is not None else -1,
        change_number=number, gate_state=gate_state, gate_reason=gate_reason, priorities=ids,
        rank=rank, reasons=[r for m in matches or [] for r in m.get("reasons", [])]
        + ([gate_reason] if gate_reason else []),
        matches=matches or [], evaluated_at=evaluated_at,
    )
    session.merge(verdict)
    return verdict


def add_action(session: Session, number: int, action: str, result: str, created: datetime,
               *, reason: str = "", detail: dict | None = None,
               patch_set: int | None = None) -> ActionLog:
    row = ActionLog(change_number=number, patch_set=patch_set, action=action,
                    detail=detail or {}, reason=reason, result=result, created=created)
    session.add(row)
    return row
