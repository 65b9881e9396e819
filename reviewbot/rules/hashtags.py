"""Rule: a change carries a listed hashtag (case-insensitive; the bot's own never count)."""

from __future__ import annotations

from reviewbot.rules.facts import ChangeFacts
from reviewbot.rules.verdict import Check, MatcherRule


def compile_check(values: list[str]) -> Check | None:
    if not values:
        return None
    wanted = [v.lower() for v in values]

    def check(facts: ChangeFacts) -> list[str]:
        # facts.hashtags already lacks the hashtags the bot writes itself, so the
        # bot's own tags can never feed back into what it tags.
        return [f"hashtag {facts.hashtags[w]}" for w in wanted if w in facts.hashtags]

    return check


RULE = MatcherRule("hashtags", compile_check, needs=None,
                   doc="the change carries the hashtag (case-insensitive, as in Gerrit)")
