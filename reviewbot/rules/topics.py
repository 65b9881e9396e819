"""Rule: a change's topic equals a listed value (case-sensitive; `value*` is a prefix)."""

from __future__ import annotations

from reviewbot.rules.facts import ChangeFacts
from reviewbot.rules.verdict import Check, MatcherRule


def compile_check(values: list[str]) -> Check | None:
    if not values:
        return None
    exact = frozenset(v for v in values if not v.endswith("*"))
    prefixes = tuple(v for v in values if v.endswith("*"))

    def check(facts: ChangeFacts) -> list[str]:
        topic = facts.change.topic
        if not topic:
            return []
        reasons = [f"topic {topic}"] if topic in exact else []
        reasons += [f"topic {topic} (matches {p})" for p in prefixes if topic.startswith(p[:-1])]
        return reasons

    return check


RULE = MatcherRule("topics", compile_check, needs=None,
                   doc="topic equals a value, case-sensitive; a value ending in * is a prefix")
