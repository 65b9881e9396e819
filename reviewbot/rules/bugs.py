"""Rule: a change cites a listed bug (Closes/Partial/Related-Bug footer or topic bug/N)."""

from __future__ import annotations

from reviewbot.rules.facts import ChangeFacts
from reviewbot.rules.verdict import Check, MatcherRule


def compile_check(values: list[int]) -> Check | None:
    if not values:
        return None
    wanted = frozenset(int(v) for v in values)

    def check(facts: ChangeFacts) -> list[str]:
        return [f"bug {n} ({where})" for n, where in facts.bugs.items() if n in wanted]

    return check


RULE = MatcherRule("bugs", compile_check, needs="commit message",
                   doc="`Closes-Bug|Partial-Bug|Related-Bug: [#]N` footer or topic bug/N")
