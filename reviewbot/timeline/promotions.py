"""People: promotions to core, from `[[core_history]]` and from the core group's audit log.

Pure functions. The sync stores the core group's audit log (Gerrit REST
`GET /groups/{id}/log.audit`, readable by group owners and administrators
only) as membership events; they give "core at t" for people without a
`[[core_history]]` entry, and, with the config's entries, the promotions
that `reviewbot backtest` measures the leaderboard against.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from reviewbot.clock import parse_gerrit_timestamp
from reviewbot.timeline.people import CoreSpell, Roster

if TYPE_CHECKING:
    from reviewbot.gerrit.records import AccountRef

ADD, REMOVE = "ADD_USER", "REMOVE_USER"


@dataclass(frozen=True)
class MembershipEvent:
    """A user added to or removed from the group (group inclusions are not people)."""

    account_id: int
    added: bool
    date: datetime


@dataclass(frozen=True)
class Promotion:
    account_id: int
    username: str
    joined: datetime
    source: str  # "core_history" | "audit log"


def parse_audit_log(raw: Sequence[object], where: str
                    ) -> tuple[list[MembershipEvent], list[AccountRef]]:
    """GroupAuditEventInfo entries -> user membership events (oldest first) and the
    accounts they name. ADD_GROUP/REMOVE_GROUP entries are skipped."""
    # Only the sync parses an audit log: every roster imports this module, and the wire
    # shapes (pydantic) cost their import to the commands that never read Gerrit.
    from reviewbot.gerrit.wire import WireError, read_field, rest_account

    events: list[MembershipEvent] = []
    accounts: list[AccountRef] = []
    for i, entry in enumerate(raw):
        here = f"{where}[{i}]"
        if not isinstance(entry, dict):
            raise WireError(f"{here}: expected a GroupAuditEventInfo object")
        kind = read_field(entry, "type", str, here)
        if kind not in (ADD, REMOVE):
            continue
        member = rest_account(read_field(entry, "member", dict, here), f"{here}.member")
        if member is None or member.id is None:
            raise WireError(f"{here}.member: no _account_id")
        text = read_field(entry, "date", str, here)
        try:
            date = parse_gerrit_timestamp(text)
        except ValueError:
            raise WireError(f"{here}: field 'date' is not a Gerrit timestamp: "
                            f"{text[:40]!r}") from None
        events.append(MembershipEvent(member.id, kind == ADD, date))
        accounts.append(member)
    events.sort(key=lambda e: e.date)
    return events, accounts


def events_to_json(events: Iterable[MembershipEvent]) -> str:
    return json.dumps([[e.account_id, e.added, e.date.isoformat()] for e in events])


def events_from_json(text: str | None) -> list[MembershipEvent]:
    if not text:
        return []
    return [MembershipEvent(a, bool(added), datetime.fromisoformat(d))
            for a, added, d in json.loads(text)]


def audit_spells(events: Iterable[MembershipEvent],
                 members_now: frozenset[int] | None) -> dict[int, tuple[CoreSpell, ...]]:
    """Spells of membership per account from its add/remove events, oldest first. An
    account whose log disagrees with the group as read now (the log says member and the
    group does not, or the other way round) gets no spells: the group decides for it, as
    for anyone without history. `members_now` None (membership unknown): no check."""
    per_account: dict[int, list[MembershipEvent]] = defaultdict(list)
    for e in events:
        per_account[e.account_id].append(e)
    out: dict[int, tuple[CoreSpell, ...]] = {}
    for account, evs in per_account.items():
        spells: list[CoreSpell] = []
        opened: datetime | None = None
        for e in sorted(evs, key=lambda e: e.date):
            if e.added and opened is None:
                opened = e.date
            elif not e.added and opened is not None:
                spells.append(CoreSpell(opened, e.date))
                opened = None
        if opened is not None:
            spells.append(CoreSpell(opened, None))
        if not spells:
            continue
        member_by_log = spells[-1].left is None
        if members_now is not None and member_by_log != (account in members_now):
            continue
        out[account] = tuple(spells)
    return out


def promotions_of(roster: Roster, config_accounts: Iterable[int]) -> list[Promotion]:
    """Every promotion the roster knows, oldest first: each spell's start, for accounts
    with a `[[core_history]]` entry (`config_accounts`) from the config, for the others
    from the audit log (the roster's history holds both)."""
    from_config = set(config_accounts)
    out = [Promotion(account, roster.username(account), spell.joined,
                     "core_history" if account in from_config else "audit log")
           for account, spells in roster.history.items() for spell in spells]
    return sorted(out, key=lambda p: (p.joined, p.username))
