"""CLI plumbing shared by commands: load config, open the store, parse --as-of."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from reviewbot.clock import parse_as_of, utcnow
from reviewbot.config import Config, load_config
from reviewbot.store import open_store


def config_from(args: argparse.Namespace) -> Config:
    return load_config(getattr(args, "config", None))


def engine_from(config: Config) -> Engine:
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
    json.dump(data, sys.stdout, indent=2, default=str, sort_keys=False)
    sys.stdout.write("\n")
