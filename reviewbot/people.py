"""People: who is core (now and at any past time) and who is a bot."""

from __future__ import annotations

from collections.abc import Iterable
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
