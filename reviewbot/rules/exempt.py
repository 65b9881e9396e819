"""Rule: a change is exempt from the non-core +1 gate (config `gate.exempt` matchers)."""

from __future__ import annotations

from reviewbot.rules.facts import ChangeFacts
from reviewbot.rules.matchset import CompiledMatchers

NAME = "exempt"


def judge(facts: ChangeFacts, exempt: CompiledMatchers) -> list[str]:
    """Reasons the change is exempt (empty: not exempt). Any one matcher suffices."""
    reasons, _ = exempt.match(facts)
    return reasons
