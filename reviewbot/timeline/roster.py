"""Timeline (people): who was core and who is a bot, built from the store's rows and the config."""

from __future__ import annotations

from sqlmodel import Session

from reviewbot.config import Config
from reviewbot.store.snapshots import roster_rows
from reviewbot.timeline.people import Roster, spells_from_config
from reviewbot.timeline.promotions import audit_spells, events_from_json
from reviewbot.timeline.snapshot import RosterRows


def load_roster(session: Session, config: Config) -> Roster:
    """Core and bot membership from the synced groups, config bot accounts and core history."""
    policy_groups = [p.core_group for p in config.branch_policy if p.core_group]
    return roster_from_rows(roster_rows(session, config.gerrit.core_group,
                                        config.gerrit.bot_group, policy_groups), config)


def roster_from_rows(rows: RosterRows, config: Config) -> Roster:
    ids_by_username = {u: i for i, u in rows.usernames.items()}
    core_now = rows.core_members
    # The sync writes "false" when the group read back empty; it then keeps the
    # previously stored members, which are a hint, not knowledge.
    core_known = rows.core_known if rows.core_known is not None else bool(core_now)
    bots = set(rows.bot_members)
    bots |= {ids_by_username[u] for u in config.gerrit.bot_accounts if u in ids_by_username}
    history = spells_from_config(
        ((e.username, e.joined, e.left) for e in config.core_history), ids_by_username
    )
    # The core group's audit log (where the sync could read it) gives membership over
    # time to people without a [[core_history]] entry; the config's entries decide for
    # those who have one.
    if rows.audit_json:
        logged = audit_spells(events_from_json(rows.audit_json),
                              core_now if core_known else None)
        history = {**{a: s for a, s in logged.items() if a not in history}, **history}
    # The branch policies' core groups (stable-maint): members now, known or not.
    groups_known = {g: rows.groups_known.get(g, bool(members))
                    for g, members in rows.groups.items()}
    return Roster(
        core_now=core_now,
        core_known=core_known,
        bots=frozenset(bots),
        history=history,
        usernames=rows.usernames,
        names=rows.names,
        groups=rows.groups,
        groups_known=groups_known,
    )
