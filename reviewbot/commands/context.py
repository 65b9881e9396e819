"""CLI plumbing shared by commands: load config (narrowed to --team), open the store, parse
--as-of, take the cycle lock."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from reviewbot.clock import parse_as_of, utcnow

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from reviewbot.config import Config

# The config (pydantic) and the store (SQLAlchemy) are imported by the functions that
# need them: the CLI imports this module to build its help, which must stay instant.

T = TypeVar("T")

# Exit status of a command that writes what a cycle writes while another process runs one.
CYCLE_BUSY_EXIT = 3


# Commands that serve every team of the deployment at once (one sync, one store, one
# worker and web app): they read the whole config and take no --team.
DEPLOYMENT_COMMANDS = frozenset({"check-config", "sync", "import", "worker", "web", "demo",
                                 "sandbox"})
# Commands that write for a team (its verdicts, Gerrit hashtags, its people's digests):
# with several teams they need --team (`reviewbot cycle` runs every team), never a silent
# default.
TEAM_WRITE_COMMANDS = frozenset({"evaluate", "apply", "judge", "digest"})


# Commands about one change: without --team they answer for the change's own team.
CHANGE_COMMANDS = frozenset({"why", "where"})


def _change_team(config: Config, number: int | None) -> str | None:
    """The team whose project holds stored change `number`, or None."""
    if number is None:
        return None
    from sqlalchemy import select
    from sqlmodel import col

    from reviewbot.store import session_scope
    from reviewbot.store.tables import Change

    with session_scope(engine_from(config)) as session:
        project = session.execute(
            select(col(Change.project)).where(col(Change.number) == number)
        ).scalar_one_or_none()
    return config.for_project(project).team_name if project else None


def add_team(parser: argparse.ArgumentParser, *, everywhere: bool = False) -> None:
    """`--team NAME`: the main parser's, and every subcommand's (`everywhere`), so it may
    come before or after the subcommand."""
    parser.add_argument(
        "--team", default=argparse.SUPPRESS if everywhere else None, metavar="NAME",
        help="the team ([[team]] name in the config) to act for; default: the only team "
             "(with several: the first, said on stderr; evaluate, apply, judge and digest "
             "require it)")


def config_from(args: argparse.Namespace) -> Config:
    """The config a command acts on: the whole deployment for the commands serving every
    team, else narrowed to `--team` (default: the only team; with several, the first, and
    a note on stderr says so). An unknown team is a ConfigError naming the known ones."""
    from reviewbot.config import ConfigError, load_config

    config = load_config(getattr(args, "config", None))
    command = getattr(args, "command", None)
    team = getattr(args, "team", None)
    if command in DEPLOYMENT_COMMANDS:
        if team:
            raise ConfigError([f"--team: `reviewbot {command}` serves every team of the "
                               "config; it takes no --team"])
        return config
    if command == "cycle" and not team:
        return config  # one sync, then every team's steps
    if not team and config.several_teams and command in CHANGE_COMMANDS:
        owner = _change_team(config, getattr(args, "change", None))
        if owner is not None:
            return config.for_team(owner)
    if not team and config.several_teams:
        if command in TEAM_WRITE_COMMANDS:
            raise ConfigError([f"--team: the config has several teams "
                               f"({', '.join(config.team_names)}); say which one "
                               f"`reviewbot {command}` is for, or run `reviewbot cycle` "
                               "for every team"])
        chosen = config.for_team()
        print(f"note: the config has several teams ({', '.join(config.team_names)}); "
              f"showing team {chosen.team_name!r}, the first (choose with --team NAME)",
              file=sys.stderr)
        return chosen
    return config.for_team(team)


# The engines this process's command opened, closed by `exit_now`.
_opened: list[Engine] = []


def engine_from(config: Config) -> Engine:
    from reviewbot.store import open_store

    engine = open_store(config.database.url)
    _opened.append(engine)
    return engine


def exit_now(code: int) -> None:
    """End the process with `code` at once, skipping the interpreter's tear-down (freeing
    every module and object one by one: ~0.1 s after a store read, see
    `reviewbot.cli.ANSWER_COMMANDS`): the output is flushed and the store's connections
    closed first, which is all the tear-down would do that matters. If the output cannot
    be flushed (a closed pipe), the ordinary exit reports it instead."""
    for engine in _opened:
        engine.dispose()
    _opened.clear()
    logging.shutdown()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(code)


def as_of_from(args: argparse.Namespace) -> datetime:
    value = getattr(args, "as_of", None)
    if not value:
        return utcnow()
    try:
        return parse_as_of(value)
    except ValueError as exc:
        raise SystemExit(f"--as-of: {exc}") from None


def add_as_of(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", help="2017-02-22 (00:00 UTC) or 2017-02-22T12:00:00Z")


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def print_json(data: Any) -> None:
    """Indented JSON on stdout. orjson: the standard encoder runs in pure Python when
    indenting, which cost a 20,000-change `queue --json` a good part of its time.
    Datetimes and dataclasses go through `str` as they did with `json.dump(default=str)`."""
    import orjson

    options = (orjson.OPT_INDENT_2 | orjson.OPT_PASSTHROUGH_DATETIME
               | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS
               | orjson.OPT_APPEND_NEWLINE)
    text = orjson.dumps(data, default=str, option=options)
    out = sys.stdout
    buffer = getattr(out, "buffer", None)
    if buffer is not None and (out.encoding or "").lower().replace("-", "") == "utf8":
        # orjson's bytes are the UTF-8 the text layer would write: straight to the file
        # (decoding and encoding 5 MB back cost a 20,000-change queue ~8 ms).
        out.flush()
        buffer.write(text)
    else:
        out.write(text.decode())


def run_under_cycle_lock(config: Config, work: Callable[[], T], show: Callable[[T], int]) -> int:
    """Run `work` holding the cycle lock, then `show` its result (outside the lock) and
    return show's exit status; CYCLE_BUSY_EXIT, saying so, if another process holds it.

    Commands that write what a cycle writes (the cycle itself, the judge step) take the
    same lock as the worker, so two writers never overlap; they fail fast instead of
    waiting, as a cron job or an admin at a terminal would want.
    """
    from reviewbot.service.coordination import CycleBusy, cycle_guard

    try:
        with cycle_guard(config):
            result = work()
    except CycleBusy:
        print("another process is running a cycle right now; try again later",
              file=sys.stderr)
        return CYCLE_BUSY_EXIT
    return show(result)
