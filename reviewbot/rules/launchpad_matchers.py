"""Rules: Launchpad facts about the bugs and blueprints a change cites (cached, never fetched here).

`ChangeSnapshot.launchpad` maps ("bug", "123") / ("blueprint", "name") to the
facts the Launchpad enrichment step cached: a bug has "importance", "status"
and "tags"; a blueprint has "priority", "definition_status",
"implementation_status", "milestone" and "series".
"""

from __future__ import annotations

from reviewbot.rules.facts import ChangeFacts
from reviewbot.rules.verdict import Check, MatcherRule


def _bug_facts(facts: ChangeFacts):
    cache = facts.change.launchpad
    for number in facts.bugs:
        data = cache.get(("bug", str(number)))
        if data is not None:
            yield number, data


def compile_bug_tags(values: list[str]) -> Check | None:
    if not values:
        return None
    wanted = {v.lower(): v for v in values}

    def check(facts: ChangeFacts) -> list[str]:
        reasons = []
        for number, data in _bug_facts(facts):
            for tag in data.get("tags") or ():
                if str(tag).lower() in wanted:
                    reasons.append(f"bug {number} has Launchpad tag {tag}")
        return reasons

    return check


def compile_bug_importance(values: list[str]) -> Check | None:
    if not values:
        return None
    wanted = frozenset(v.lower() for v in values)

    def check(facts: ChangeFacts) -> list[str]:
        return [
            f"bug {number} has Launchpad importance {data['importance']}"
            for number, data in _bug_facts(facts)
            if str(data.get("importance") or "").lower() in wanted
        ]

    return check


def compile_blueprint_series(values: list[str]) -> Check | None:
    if not values:
        return None
    wanted = frozenset(v.lower() for v in values)

    def check(facts: ChangeFacts) -> list[str]:
        reasons = []
        for name in facts.blueprints:
            data = facts.change.launchpad.get(("blueprint", name))
            if data and str(data.get("series") or "").lower() in wanted:
                reasons.append(f"blueprint {name} targets Launchpad series {data['series']}")
        return reasons

    return check


def missing_facts(facts: ChangeFacts, kinds: frozenset[str]) -> list[str]:
    """Cited bugs/blueprints with no cached Launchpad facts (so LP matchers could not judge)."""
    cache = facts.change.launchpad
    missing = []
    if "bug" in kinds:
        missing += [f"bug {n}" for n in facts.bugs if ("bug", str(n)) not in cache]
    if "blueprint" in kinds:
        missing += [f"blueprint {b}" for b in facts.blueprints if ("blueprint", b) not in cache]
    return missing


RULES = (
    MatcherRule("lp_bug_tags", compile_bug_tags, needs="launchpad:bug",
                doc="a cited bug carries one of the Launchpad tags"),
    MatcherRule("lp_bug_importance", compile_bug_importance, needs="launchpad:bug",
                doc="a cited bug has one of the Launchpad importances"),
    MatcherRule("lp_blueprint_series", compile_blueprint_series, needs="launchpad:blueprint",
                doc="a cited blueprint targets one of the Launchpad series"),
)
