"""Rules: one module per rule, registered in an explicit list that refuses duplicate names.

Adding a matcher: write one module exposing `RULE` (a `MatcherRule` named
after its key in `config.Matchers`), add it to `_MATCHERS` below, add a table
test under tests/rules/.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reviewbot.rules import (
    blueprints,
    bugs,
    changes,
    exempt,
    files,
    freeze,
    gate,
    hashtags,
    launchpad_matchers,
    message,
    owners,
    topics,
)
from reviewbot.rules.verdict import MatcherRule


class DuplicateRuleError(ValueError):
    pass


# The registry mixes matcher kinds configured with different value types (lists of names,
# of numbers, a regex): each rule's `compile` gets its own field of `config.Matchers`.
AnyMatcherRule = MatcherRule[Any]


def register(rules: Iterable[AnyMatcherRule]) -> dict[str, AnyMatcherRule]:
    """Name -> rule, in order; a name used twice is a programming error, raised at import."""
    registry: dict[str, AnyMatcherRule] = {}
    for rule in rules:
        if rule.name in registry:
            raise DuplicateRuleError(f"rule name {rule.name!r} is registered twice")
        registry[rule.name] = rule
    return registry


_MATCHERS = (
    blueprints.RULE,
    bugs.RULE,
    topics.RULE,
    hashtags.RULE,
    files.RULE,
    message.RULE,
    changes.RULE,
    owners.RULE,
    *launchpad_matchers.RULES,
)

# Every priority/exemption matcher kind, keyed by its name in `config.Matchers`.
MATCHER_RULES: dict[str, AnyMatcherRule] = register(_MATCHERS)

# The decisions built on the matchers, by name (also unique, and distinct from matchers).
DECISION_RULES = {exempt.NAME: exempt, freeze.NAME: freeze, gate.NAME: gate}
if set(DECISION_RULES) & set(MATCHER_RULES):
    raise DuplicateRuleError("a decision rule shares its name with a matcher")

__all__ = ["DECISION_RULES", "MATCHER_RULES", "DuplicateRuleError", "register"]
