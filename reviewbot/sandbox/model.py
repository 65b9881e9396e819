"""Sandbox Gerrit records: accounts, groups, changes, patch sets, votes and messages.

Plain data; the builder API that scripts them is `State` (state.py, on top of
changes.py and directory.py). All times are naive UTC datetimes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

# Label -> (min, max) as on OpenDev's OpenStack projects.
LABELS: dict[str, tuple[int, int]] = {
    "Code-Review": (-2, 2),
    "Verified": (-2, 2),
    "Workflow": (-1, 1),
}
LABEL_VALUES: dict[str, dict[str, str]] = {
    "Code-Review": {
        "-2": "Do not merge",
        "-1": "This patch needs further work before it can be merged",
        " 0": "No score",
        "+1": "Looks good to me, but someone else must approve",
        "+2": "Looks good to me (core reviewer)",
    },
    "Verified": {
        "-2": "Fails",
        "-1": "Doesn't seem to work",
        " 0": "No score",
        "+1": "Works for me",
        "+2": "Verified",
    },
    "Workflow": {"-1": "Work in progress", " 0": "Ready for reviews", "+1": "Approved"},
}


class SandboxError(ValueError):
    """A builder call that Gerrit itself would refuse (unknown change, account, label)."""


def sha1_hex(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


@dataclass(slots=True)
class Account:
    id: int
    username: str
    name: str
    email: str
    password: str | None = None
    may_edit_hashtags: bool = True


@dataclass(slots=True)
class AuditEvent:
    """One entry of a group's audit log (GroupAuditEventInfo): a user added or removed."""

    type: str  # ADD_USER | REMOVE_USER
    member: int  # account id
    by: int | None  # who did it (None: the site administrator)
    date: datetime


@dataclass(slots=True)
class Group:
    uuid: str
    group_id: int
    name: str
    members: list[int]
    includes: list[str]
    visible: bool
    created_on: datetime
    audit: list[AuditEvent] = field(default_factory=list)
    # Gerrit serves the audit log to group owners and administrators only; False answers
    # 403 as it does to anyone else.
    audit_readable: bool = True


@dataclass(slots=True)
class Approval:
    value: int
    date: datetime
    tag: str | None = None


@dataclass(slots=True)
class PatchSet:
    number: int
    sha: str
    created: datetime
    uploader: int
    kind: str
    files: tuple[tuple[str, int, int], ...]
    body: str | None  # commit message body (between subject and Change-Id footer)
    approvals: dict[str, dict[int, Approval]] = field(default_factory=dict)


@dataclass(slots=True)
class Message:
    author: int | None  # None for Gerrit's own system messages
    date: datetime
    text: str
    tag: str | None
    patch_set: int
    comments: int = 0
    accounts: tuple[int, ...] = ()  # accounts behind <GERRIT_ACCOUNT_n> templates in `text`


@dataclass(slots=True, eq=False)
class Change:
    number: int
    project: str
    branch: str
    change_id: str
    owner: int
    subject: str
    topic: str | None
    hashtags: list[str]
    status: str  # NEW, MERGED, ABANDONED
    created: datetime
    updated: datetime
    wip: bool = False
    private: bool = False
    submitted: datetime | None = None
    submitter: int | None = None
    patch_sets: list[PatchSet] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    reviewers: dict[int, str] = field(default_factory=dict)  # account -> REVIEWER / CC
    cache: dict = field(default_factory=dict)  # rendered wire bytes per option set

    @property
    def current(self) -> PatchSet:
        return self.patch_sets[-1]

    def commit_message(self, ps: PatchSet) -> str:
        body = f"\n\n{ps.body.strip()}" if ps.body and ps.body.strip() else ""
        return f"{self.subject}{body}\n\nChange-Id: {self.change_id}\n"

    def comment_count(self) -> int:
        return sum(m.comments for m in self.messages)

