"""CLI plumbing shared by commands: load config, open the store, parse --as-of, take the
cycle lock."""

from __future__ import annotations

import argparse
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


def config_from(args: argparse.Namespace) -> Config:
    from reviewbot.config import load_config

    return load_config(getattr(args, "config", None))


def engine_from(config: Config) -> Engine:
    from reviewbot.store import open_store

    return open_store(config.database.url)


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
               | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS)
    sys.stdout.write(orjson.dumps(data, default=str, option=options).decode())
    sys.stdout.write("\n")


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
