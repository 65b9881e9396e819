"""Rule: the change is owned by a listed Gerrit username (used by the gate's exemptions)."""

from __future__ import annotations

from reviewbot.rules.facts import ChangeFacts
from reviewbot.rules.verdict import Check, MatcherRule


def compile_check(values: list[str]) -> Check | None:
    if not values:
        return None
    wanted = frozenset(values)

    def check(facts: ChangeFacts) -> list[str]:
        # Usernames come from the synced accounts; an owner we have no username
        # for cannot be recognised, so it does not match.
        owner = facts.owner_username
        return [f"owner {owner}"] if owner is not None and owner in wanted else []

    return check


RULE = MatcherRule("owners", compile_check, needs=None,
                   doc="the change owner's Gerrit username is listed")
