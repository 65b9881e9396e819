"""Rule: the change number is listed explicitly."""

from __future__ import annotations

from reviewbot.rules.facts import ChangeFacts
from reviewbot.rules.verdict import Check, MatcherRule


def compile_check(values: list[int]) -> Check | None:
    if not values:
        return None
    wanted = frozenset(int(v) for v in values)

    def check(facts: ChangeFacts) -> list[str]:
        number = facts.change.number
        return [f"change {number} is listed"] if number in wanted else []

    return check


RULE = MatcherRule("changes", compile_check, needs=None, doc="the change number is listed")
