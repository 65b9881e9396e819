"""Rules: a whole config compiled once (priorities, exemptions, bot hashtags) for many changes."""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from reviewbot.config import BranchPolicy, Config, Priority, branch_policy_for
from reviewbot.rules import MATCHER_RULES
from reviewbot.rules.freeze import Freeze, compile_freeze
from reviewbot.rules.matchset import CompiledMatchers, compile_matchers

# A priority's `owners` are the people leading the work (from the priorities
# document), not a change-owner matcher: DESIGN's priority matchers do not
# include owners, and tagging every change a priority owner writes would be
# wrong. `owners` does match in `gate.exempt` (e.g. proposal-bot).
PRIORITY_SKIP = frozenset({"owners"})


@dataclass(frozen=True, slots=True)
class CompiledPriority:
    priority: Priority
    matchers: CompiledMatchers


@dataclass(frozen=True, slots=True)
class RuleSet:
    priorities: tuple[CompiledPriority, ...]
    exempt: CompiledMatchers
    bot_hashtags: frozenset[str]  # lowercase; never matching inputs
    projects: frozenset[str]
    branches: frozenset[str]
    min_plus1: int
    core_group: str
    freeze: Freeze | None = None  # None: no feature freeze configured or switched off
    branch_policies: tuple[BranchPolicy, ...] = ()  # `[[branch_policy]]`, in config order

    def tracks(self, project: str, branch: str) -> bool:
        return project in self.projects and branch in self.branches

    def policy_for(self, branch: str) -> BranchPolicy | None:
        """The branch's gate policy (None: the default, today's gate and core group)."""
        return branch_policy_for(list(self.branch_policies), branch) if self.branch_policies \
            else None


def bot_hashtags(config: Config) -> frozenset[str]:
    """Every hashtag the bot itself may write (DESIGN: never a matching input)."""
    wb = config.writeback
    tags = {wb.priority_hashtag, wb.gated_hashtag}
    tags |= {wb.priority_hashtag_prefix + p.id for p in config.priorities}
    return frozenset(t.lower() for t in tags)


def compile_ruleset(config: Config) -> RuleSet:
    if config.team_name is None:
        # A deployment of several teams has no rules of its own: each team has its own
        # priorities and core group, so judging by the whole config would be wrong.
        raise ValueError("the rules belong to one team: narrow the config with "
                         f"for_team(NAME) first (teams: {', '.join(config.team_names)})")
    return RuleSet(
        priorities=tuple(
            CompiledPriority(p, compile_matchers(p, MATCHER_RULES, skip=PRIORITY_SKIP))
            for p in config.priorities
        ),
        exempt=compile_matchers(config.gate.exempt, MATCHER_RULES),
        bot_hashtags=bot_hashtags(config),
        projects=frozenset(config.gerrit.projects),
        branches=frozenset(config.gerrit.branches),
        min_plus1=config.gate.min_noncore_plus1,
        core_group=config.gerrit.core_group,
        freeze=compile_freeze(config),
        branch_policies=tuple(config.branch_policy),
    )


# One compiled RuleSet per live Config object, so callers that pass a Config
# per change still compile regexes and globs only once.
_CACHE: dict[int, tuple[weakref.ref[Config], RuleSet]] = {}


def ruleset_for(config: Config) -> RuleSet:
    key = id(config)
    hit = _CACHE.get(key)
    if hit is not None and hit[0]() is config:
        return hit[1]
    rules = compile_ruleset(config)

    def forget(_ref: weakref.ref[Config]) -> None:  # the Config is gone: its id may be reused
        _CACHE.pop(key, None)

    _CACHE[key] = (weakref.ref(config, forget), rules)
    return rules
