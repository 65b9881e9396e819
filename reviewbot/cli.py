"""CLI: `reviewbot SUBCOMMAND`, built from the explicit list of command modules."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# One module per group of subcommands; each exposes `register(subparsers)` and
# sets `func(args) -> int` on the parsers it adds. Explicit, so the list reads
# as the tool's table of contents. Building the parser imports only these modules
# (argparse and the standard library): each imports what its command needs (pydantic,
# SQLAlchemy, requests, uvicorn...) when it runs, so `--help` and typos answer at once
# (tests/test_cli_startup.py holds this).
COMMAND_MODULES = [
    "reviewbot.commands.setup",  # check-config
    "reviewbot.commands.syncing",  # sync, import
    "reviewbot.commands.rules",  # evaluate, why, priorities-from-rst
    "reviewbot.commands.actions",  # apply, actions
    "reviewbot.commands.queue",  # queue, export-dashboard
    "reviewbot.commands.owner",  # where, digest
    "reviewbot.commands.standing",  # standing, reviewers
    "reviewbot.commands.report",  # report
    "reviewbot.commands.cycles",  # cycle-start, cycles
    "reviewbot.commands.service",  # cycle, worker, demo
    "reviewbot.commands.web",  # web
    "reviewbot.commands.sandbox",  # sandbox
]


def build_parser() -> argparse.ArgumentParser:
    from reviewbot.commands.context import add_team

    parser = argparse.ArgumentParser(
        prog="reviewbot",
        description="Run Gerrit review the way the PTL declared it for a release cycle.",
    )
    parser.add_argument("--config", help="TOML config (default: $REVIEWBOT_CONFIG or "
                        "config/reviewbot.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    add_team(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    for command in subparsers.choices.values():  # `reviewbot queue alice --team x` too
        add_team(command, everywhere=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Schema upgrades run on every start; their chatter is noise unless debugging.
    logging.getLogger("alembic").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from reviewbot.config import ConfigError
    from reviewbot.sync.allocation import allow_collector_pause

    # The bulk steps may pause the garbage collector (process-wide), except in the
    # processes that serve web requests on threads.
    allow_collector_pause(args.command not in ("web", "demo"))
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config error: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
