"""Rule: the commit message matches the configured regular expression (re.search)."""

from __future__ import annotations

import re

from reviewbot.rules.facts import ChangeFacts
from reviewbot.rules.verdict import Check, MatcherRule

_SHOWN = 60  # characters of matched text quoted in the reason


def compile_check(value: str | None) -> Check | None:
    if not value:
        return None
    pattern = re.compile(value)

    def check(facts: ChangeFacts) -> list[str]:
        message = facts.change.commit_message
        if not message:
            return []
        found = pattern.search(message)
        if found is None:
            return []
        text = " ".join(found.group(0).split())[:_SHOWN]
        return [f"commit message matches /{value}/ ({text!r})"]

    return check


RULE = MatcherRule("message", compile_check, needs="commit message",
                   doc="Python re.search of the regex in the full commit message")
