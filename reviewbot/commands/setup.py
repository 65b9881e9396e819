"""CLI: check-config."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from reviewbot.commands.context import config_from

if TYPE_CHECKING:
    from reviewbot.config import Config


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("check-config", help="validate the config file and exit")
    p.set_defaults(func=check_config)


def check_config(args: argparse.Namespace) -> int:
    config = config_from(args)
    print(
        f"config OK: cycle {config.cycle.name} ({config.cycle.start}..{config.cycle.end}), "
        + (f"{len(config.teams)} teams, " if config.several_teams else
           f"{len(config.priorities)} priorities, ")
        + f"projects {', '.join(config.gerrit.projects)}, "
        f"write-back {'on' if config.writeback.enabled else 'off'}"
        f"{' (dry run)' if config.writeback.enabled and config.writeback.dry_run else ''}"
    )
    if config.several_teams:
        for team in config.team_configs():
            print(f"  team {team.team_name}: {len(team.priorities)} priorities, projects "
                  f"{', '.join(team.gerrit.projects)}, branches "
                  f"{', '.join(team.gerrit.branches)}, core group "
                  f"{team.gerrit.core_group or '(none)'}, Launchpad "
                  f"{', '.join(config.team(team.team_name).launchpad_projects or []) or '(none)'}")
    for team in config.team_configs():
        prefix = f"team {team.team_name}: " if config.several_teams else ""
        for warning in matcherless_priorities(team):
            print(f"warning: {prefix}{warning}", file=sys.stderr)
    return 0  # a warning, not an error: the PTL may list a priority before its work exists


def matcherless_priorities(config: Config) -> list[str]:
    """Priorities with no matcher at all (owners lead a priority and match nothing)."""
    from reviewbot.rules.ruleset import compile_ruleset

    return [f"priorities[{i}] ({c.priority.id}) has no matcher: it matches no change; add "
            "blueprints, bugs, topics, hashtags, files, message, changes or Launchpad matchers"
            for i, c in enumerate(compile_ruleset(config).priorities) if c.matchers.empty]
