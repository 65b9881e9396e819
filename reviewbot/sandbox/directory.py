"""Sandbox Gerrit accounts and groups: who exists, who is in which group, what each may vote.

`Directory` is the base of the sandbox's state (`State`, state.py): it owns the
lock every builder method takes and the `version` counter every edit bumps.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime

from reviewbot.clock import utcnow
from reviewbot.sandbox.model import LABELS, Account, AuditEvent, Group, SandboxError, sha1_hex


class Directory:
    """Accounts, groups and the permissions they give; thread-safe via `self.lock`."""

    def __init__(self, *, first_account: int = 1000001) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[int, Account] = {}
        self.by_username: dict[str, Account] = {}
        self.groups: dict[str, Group] = {}
        self.version = 0
        self._next_account = first_account
        self._ranks: tuple[frozenset[int], frozenset[int]] | None = None

    def add_account(
        self,
        username: str,
        name: str | None = None,
        email: str | None = None,
        password: str | None = None,
        *,
        may_edit_hashtags: bool = True,
    ) -> int:
        with self.lock:
            if username in self.by_username:
                raise SandboxError(f"account {username!r} already exists")
            account = Account(
                id=self._next_account,
                username=username,
                name=name or username.replace(".", " ").replace("-", " ").title(),
                email=email or f"{username}@example.org",
                password=password,
                may_edit_hashtags=may_edit_hashtags,
            )
            self._next_account += 1
            self.accounts[account.id] = account
            self.by_username[username] = account
            self._touch_all()
            return account.id

    def set_permission(self, username: str, *, edit_hashtags: bool) -> None:
        with self.lock:
            self.account(username).may_edit_hashtags = edit_hashtags

    def add_group(
        self,
        name: str,
        members: Iterable[str | int] = (),
        visible: bool = True,
        *,
        includes: Iterable[str] = (),
    ) -> str:
        """Create a group; returns its UUID. Invisible groups list no members (as Gerrit)."""
        with self.lock:
            created = datetime(2012, 1, 1)
            ids = [self.account(m).id for m in members]
            group = Group(
                uuid=sha1_hex(f"group:{name}"),
                group_id=len(self.groups) + 1,
                name=name,
                members=ids,
                includes=list(includes),
                visible=visible,
                created_on=created,
                audit=[AuditEvent("ADD_USER", i, None, created) for i in ids],
            )
            self.groups[name] = group
            self._touch_all()
            return group.uuid

    def add_group_member(self, group: str, member: str | int, *,
                         when: datetime | None = None, by: str | int | None = None) -> None:
        """Add a member (a promotion, for a core group); the audit log records it `when`."""
        with self.lock:
            account = self.account(member).id
            g = self.groups[group]
            if account not in g.members:
                g.members.append(account)
                g.audit.append(AuditEvent("ADD_USER", account,
                                          self.account(by).id if by is not None else None,
                                          when or utcnow()))
            self._touch_all()

    def remove_group_member(self, group: str, member: str | int, *,
                            when: datetime | None = None, by: str | int | None = None) -> None:
        with self.lock:
            account = self.account(member).id
            g = self.groups[group]
            if account in g.members:
                g.members.remove(account)
                g.audit.append(AuditEvent("REMOVE_USER", account,
                                          self.account(by).id if by is not None else None,
                                          when or utcnow()))
            self._touch_all()

    def account(self, who: str | int) -> Account:
        """Resolve a username, numeric id, email or full name to an Account."""
        if isinstance(who, int) or (isinstance(who, str) and who.isdigit()):
            found = self.accounts.get(int(who))
        else:
            found = self.by_username.get(who)
            if found is None:
                found = next((a for a in self.accounts.values() if who in (a.email, a.name)), None)
        if found is None:
            raise SandboxError(f"no such account: {who!r}")
        return found

    def account_id(self, username: str) -> int:
        return self.account(username).id

    def group_member_ids(self, name: str, *, recursive: bool = True) -> list[int]:
        group = self.find_group(name)
        if group is None:
            return []
        seen: list[int] = list(group.members)
        if recursive:
            for sub in group.includes:
                for member in self.group_member_ids(sub, recursive=True):
                    if member not in seen:
                        seen.append(member)
        return seen

    def find_group(self, ident: str) -> Group | None:
        if ident in self.groups:
            return self.groups[ident]
        for group in self.groups.values():
            if ident in (group.uuid, str(group.group_id)):
                return group
        return None

    def is_core(self, account_id: int) -> bool:
        """May vote Code-Review +/-2 and Workflow +1: member of any `*-core` group."""
        return account_id in self._privileged()[0]

    def is_service_user(self, account_id: int) -> bool:
        """Member (recursive) of "Service Users": Gerrit tags such accounts SERVICE_USER."""
        return account_id in self._privileged()[1]

    def _privileged(self) -> tuple[frozenset[int], frozenset[int]]:
        """(core ids, service-user ids), recomputed only after account/group edits."""
        if self._ranks is None:
            cores = {
                a
                for name in self.groups
                if name.endswith("-core")
                for a in self.group_member_ids(name)
            }
            service = set(self.group_member_ids("Service Users"))
            self._ranks = (frozenset(cores), frozenset(service))
        return self._ranks

    def voting_range(
        self, account_id: int, label: str, owner: int | None = None
    ) -> tuple[int, int]:
        """OpenDev-like ACLs: CI votes Verified, cores +/-2 and approve, owners may Workflow -1.

        (0, 0) means the account may not vote on the label at all.
        """
        if label == "Verified":
            return (-2, 2) if account_id in self._privileged()[1] else (0, 0)
        if self.is_core(account_id):
            return LABELS[label]
        if label == "Code-Review":
            return (-1, 1)
        return (-1, 0) if account_id == owner else (0, 0)

    def _touch_all(self) -> None:
        """Account/group edits change permitted ranges (and rendered names: see Changes)."""
        self._ranks = None
        self.version += 1
