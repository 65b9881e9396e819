"""People: who is core (now and at any past time) and who is a bot."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from reviewbot.clock import day_start


@dataclass(frozen=True, slots=True)
class CoreSpell:
    joined: datetime
    left: datetime | None


@dataclass
class Roster:
    """Core and bot membership, as read from Gerrit groups plus `[[core_history]]`.

    `core_known` is False when the core group read back empty: Gerrit returns
    an empty member list for groups the caller may not see, so an empty group
    means "unknown", never "nobody is core".
    """

    core_now: frozenset[int] = frozenset()
    core_known: bool = True
    bots: frozenset[int] = frozenset()
    history: dict[int, tuple[CoreSpell, ...]] = field(default_factory=dict)
    usernames: dict[int, str] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    # Members now of the branch policies' core groups (`[[branch_policy]] core_group`), and
    # whether each read back known (a hidden group is "unknown", as for the core group).
    groups: dict[str, frozenset[int]] = field(default_factory=dict)
    groups_known: dict[str, bool] = field(default_factory=dict)
    _by_group: dict[str, Roster] = field(default_factory=dict, repr=False, compare=False)

    def for_group(self, group: str | None) -> Roster:
        """The roster of a branch whose core reviewers are `group`'s members (None: this
        one). Membership is the group's now at any date: `[[core_history]]` and the audit
        log describe the project core group only. Bots and names are the same."""
        if not group:
            return self
        derived = self._by_group.get(group)
        if derived is None:
            derived = Roster(core_now=self.groups.get(group, frozenset()),
                             core_known=self.groups_known.get(group, False), bots=self.bots,
                             usernames=self.usernames, names=self.names, groups=self.groups,
                             groups_known=self.groups_known)
            self._by_group[group] = derived
        return derived

    def is_bot(self, account_id: int | None) -> bool:
        return account_id is not None and account_id in self.bots

    def is_core(self, account_id: int | None, at: datetime | None = None) -> bool:
        """Core at `at` (None = now). History entries decide for users who have them."""
        if account_id is None:
            return False
        spells = self.history.get(account_id)
        if spells:
            if at is None:
                return any(s.left is None for s in spells)
            return any(s.joined <= at and (s.left is None or at < s.left) for s in spells)
        return account_id in self.core_now

    def ever_core(self) -> frozenset[int]:
        return frozenset(self.core_now) | frozenset(self.history)

    def core_at(self, at: datetime) -> frozenset[int]:
        """Every account core at `at`."""
        return frozenset(a for a in self.ever_core() if self.is_core(a, at))

    def core_test(self) -> Callable[[int, datetime], bool]:
        """`is_core(account, at)` flattened for loops over many votes: a set test for the
        accounts without history entries, their spells for the others."""
        members = self.core_now
        spells = {a: tuple((s.joined, s.left) for s in ss)
                  for a, ss in self.history.items() if ss}

        def core_at(account: int, at: datetime) -> bool:
            spans = spells.get(account)
            if spans is None:
                return account in members
            for joined, left in spans:
                if joined <= at and (left is None or at < left):
                    return True
            return False

        return core_at

    def core_status(self, account_id: int, at: datetime) -> bool | None:
        """Core at `at`: True/False, or None when the core group is hidden and no history
        entry decides (membership unknown, never "not core")."""
        if self.is_core(account_id, at):
            return True
        if not self.core_known and account_id not in self.history:
            return None
        return False

    def username(self, account_id: int | None) -> str:
        if account_id is None:
            return "(unknown)"
        return self.usernames.get(account_id) or self.names.get(account_id) or f"#{account_id}"

    def account_by_username(self, username: str) -> int | None:
        for account_id, name in self.usernames.items():
            if name == username:
                return account_id
        return None


def spells_from_config(
    entries: Iterable[tuple[str, date, date | None]], account_ids: dict[str, int]
) -> dict[int, tuple[CoreSpell, ...]]:
    """`(username, joined, left)` rows -> spells keyed by account id (unknown users skipped)."""
    spells: dict[int, list[CoreSpell]] = {}
    for username, joined, left in entries:
        account_id = account_ids.get(username)
        if account_id is None:
            continue
        spells.setdefault(account_id, []).append(
            CoreSpell(day_start(joined), day_start(left) if left else None)
        )
    return {k: tuple(v) for k, v in spells.items()}
