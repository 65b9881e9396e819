"""Rule: a change implements a listed blueprint (commit footer or topic bp/NAME)."""

from __future__ import annotations

from reviewbot.rules.facts import ChangeFacts
from reviewbot.rules.verdict import Check, MatcherRule


def compile_check(values: list[str]) -> Check | None:
    if not values:
        return None
    # Blueprint names are case-insensitive throughout (DESIGN).
    wanted = {v.lower(): v for v in values}

    def check(facts: ChangeFacts) -> list[str]:
        return [
            f"blueprint {wanted[name]} ({where})"
            for name, where in facts.blueprints.items()
            if name in wanted
        ]

    return check


RULE = MatcherRule("blueprints", compile_check, needs="commit message",
                   doc="`[Partially-]Implements: blueprint|bp NAME` footer or topic bp/NAME")
