"""CLI: check-config."""

from __future__ import annotations

import argparse

from reviewbot.commands.context import config_from


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("check-config", help="validate the config file and exit")
    p.set_defaults(func=check_config)


def check_config(args: argparse.Namespace) -> int:
    config = config_from(args)
    print(
        f"config OK: cycle {config.cycle.name} ({config.cycle.start}..{config.cycle.end}), "
        f"{len(config.priorities)} priorities, projects {', '.join(config.gerrit.projects)}, "
        f"write-back {'on' if config.writeback.enabled else 'off'}"
        f"{' (dry run)' if config.writeback.enabled and config.writeback.dry_run else ''}"
    )
    return 0
