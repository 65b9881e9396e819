"""CLI: `reviewbot SUBCOMMAND`, built from the explicit list of command modules."""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import sys

# One module per group of subcommands; each exposes `register(subparsers)` and
# sets `func(args) -> int` on the parsers it adds. Explicit, so the table reads
# as the tool's table of contents (in this order). Building the parser imports only these
# modules (argparse and the standard library): each imports what its command needs
# (pydantic, SQLAlchemy, requests, uvicorn...) when it runs, so `--help` and typos answer
# at once (tests/test_cli_startup.py holds this and that each module registers exactly
# the commands listed here).
COMMANDS = {
    "check-config": "reviewbot.commands.setup",
    "sync": "reviewbot.commands.syncing",
    "import": "reviewbot.commands.syncing",
    "evaluate": "reviewbot.commands.rules",
    "why": "reviewbot.commands.rules",
    "priorities-from-rst": "reviewbot.commands.rules",
    "apply": "reviewbot.commands.actions",
    "actions": "reviewbot.commands.actions",
    "queue": "reviewbot.commands.queue",
    "export-dashboard": "reviewbot.commands.queue",
    "where": "reviewbot.commands.owner",
    "digest": "reviewbot.commands.owner",
    "judge": "reviewbot.commands.standing",
    "standing": "reviewbot.commands.standing",
    "reviewers": "reviewbot.commands.standing",
    "backtest": "reviewbot.commands.standing",
    "report": "reviewbot.commands.report",
    "cycle-start": "reviewbot.commands.cycles",
    "cycles": "reviewbot.commands.cycles",
    "cycle": "reviewbot.commands.service",
    "worker": "reviewbot.commands.service",
    "demo": "reviewbot.commands.service",
    "web": "reviewbot.commands.web",
    "sandbox": "reviewbot.commands.sandbox",
}
COMMAND_MODULES = list(dict.fromkeys(COMMANDS.values()))

# The main parser's own options, before the command: the ones taking a value, and the flags.
_VALUE_OPTIONS = ("--config", "--team")
_FLAGS = ("-v", "--verbose")

# Commands that read the store, print one answer and exit: a person at a terminal waits for
# them (issue 15: `queue` < 0.6 s, `reviewers` < 0.5 s). Two process-wide costs of
# CPython are not worth paying there (bench/startup_bench.py, 20k-change stores):
# - the cyclic garbage collector: importing SQLAlchemy, SQLModel, pydantic and the models
#   makes ~10^5 long-lived objects and every collection walks them again, ~0.12-0.15 s
#   of a 0.9 s answer, to free next to nothing (the rows of an answer hold no cycles);
#   a run of these commands is short and bounded, so it runs with the collector off;
# - the interpreter's tear-down, freeing every module and object one by one at exit,
#   ~0.1 s more: run as the program, they flush their output, close the store's
#   connections and leave with os._exit (`context.exit_now`).
# Long and bulk commands (sync, import, cycle, worker, web, backtest...) keep the
# collector, pausing it only around their bulk steps (`sync.allocation`).
ANSWER_COMMANDS = frozenset({"queue", "reviewers", "standing", "why", "where", "actions",
                             "cycles", "report", "export-dashboard", "check-config"})
# The judge and import commands (one bulk step, then exit) are as bounded, and run the
# same way: their step pauses the collector anyway, the rest of them allocates little,
# and at 20k changes the judge's start-up collections cost ~0.05 s and either command's
# tear-down ~0.1 s.
BOUNDED_COMMANDS = ANSWER_COMMANDS | {"judge", "import"}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The CLI's parser; with `command`, only that command's module is imported and
    registered (enough to parse a command line naming it: ~13 ms less of every start)."""
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
    for name in [COMMANDS[command]] if command in COMMANDS else COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    for parsed in subparsers.choices.values():  # `reviewbot queue alice --team x` too
        add_team(parsed, everywhere=True)
    return parser


def command_named(argv: list[str]) -> str | None:
    """The known command `argv` names, when only the main parser's own options (exactly as
    spelled here) come before it; else None (help, a typo, an abbreviated option: the
    whole parser answers those)."""
    words = iter(argv)
    for word in words:
        if word in _VALUE_OPTIONS:
            next(words, None)
        elif word.startswith(tuple(f"{o}=" for o in _VALUE_OPTIONS)) or word in _FLAGS:
            continue
        else:
            return word if word in COMMANDS else None
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the command `argv` names (None: this process's arguments, as the program)."""
    words = sys.argv[1:] if argv is None else argv
    parser = build_parser(command_named(words))
    args = parser.parse_args(words)
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
    bounded = args.command in BOUNDED_COMMANDS
    collecting = gc.isenabled()
    if bounded:
        gc.disable()
    try:
        code = _run(args)
        if bounded and argv is None:  # the program itself, not a caller inside a process
            from reviewbot.commands.context import exit_now

            exit_now(code)
        return code
    finally:
        if collecting:
            gc.enable()


def _run(args: argparse.Namespace) -> int:
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
