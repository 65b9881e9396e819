"""CLI: `reviewbot sync` (poll Gerrit into the store) and `reviewbot import` (SSH JSON dumps)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from reviewbot.clock import parse_as_of
from reviewbot.commands.context import add_json, config_from, engine_from, print_json


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("sync", help="poll Gerrit once and store what changed")
    p.add_argument("--since", help="read changes updated since this date (2016-10-06 or "
                   "2016-10-06T12:00:00Z) instead of the stored cursor")
    p.add_argument("--full", action="store_true",
                   help="ignore the cursor: re-read the whole cycle and reconcile open changes")
    add_json(p)
    p.set_defaults(func=sync_command)

    p = subparsers.add_parser(
        "import", help="load `gerrit query --format=JSON --all-approvals --comments` dumps"
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    add_json(p)
    p.set_defaults(func=import_command)


class ProgressBar:
    """A one-line stderr progress display, only when stderr is a terminal."""

    def __init__(self, label: str, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.label = label
        self.enabled = self.stream.isatty()
        self.started = time.monotonic()
        self.shown = False

    def changes(self, seen: int, pages: int) -> None:
        if self.enabled:
            rate = seen / max(time.monotonic() - self.started, 1e-6)
            self._show(f"{self.label}: {seen} changes, {pages} pages ({rate:.0f}/s)")

    def fraction(self, done: int, total: int) -> None:
        if self.enabled and total:
            share = min(1.0, done / total)
            filled = int(share * 30)
            self._show(f"{self.label}: [{'#' * filled}{'.' * (30 - filled)}] {share:4.0%}")

    def _show(self, text: str) -> None:
        self.stream.write("\r" + text[:100].ljust(60))
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def sync_command(args: argparse.Namespace) -> int:
    from reviewbot.config import Secrets
    from reviewbot.gerrit.client import GerritClient
    from reviewbot.gerrit.errors import GerritError
    from reviewbot.sync.rest import sync_once

    config = config_from(args)
    since = None
    if args.since:
        try:
            since = parse_as_of(args.since)
        except ValueError as exc:
            print(f"--since: {exc}", file=sys.stderr)
            return 2
    engine = engine_from(config)
    client = GerritClient.from_config(config, Secrets.from_env())
    bar = ProgressBar("sync")
    try:
        summary = sync_once(client, engine, config, since=since, full=args.full,
                            progress=bar.changes)
    except GerritError:
        return 1  # sync_once logged the one line that says what went wrong
    finally:
        bar.close()
    if args.json:
        print_json(summary.as_json())  # changes, messages, votes, requests, seconds, ...
    else:
        print(
            f"synced {summary.seen} changes from {config.gerrit.url} since {summary.since}: "
            f"{summary.changes} changes, {summary.messages} messages, {summary.votes} votes "
            f"written; {summary.requests} requests in {summary.seconds:.1f}s"
        )
        if summary.reconciled:
            print(f"reconciled open changes: {summary.marked_missing} marked missing, "
                  f"{summary.unmarked} back")
        for group in summary.groups_unknown:
            print(f"warning: group {group!r} read back empty; membership unknown")
    return 0


def import_command(args: argparse.Namespace) -> int:
    from reviewbot.sync.importer import ImportFailed, import_files

    config = config_from(args)
    engine = engine_from(config)
    bar = ProgressBar("import")
    try:
        summary = import_files(engine, args.files, progress=bar.fraction)
    except ImportFailed as exc:
        bar.close()
        print(f"import failed: {exc}", file=sys.stderr)
        return 1
    bar.close()
    if args.json:
        print_json(summary.as_dict())
    else:
        data = summary.as_dict()
        print(
            f"imported {data['changes_read']} changes from {data['files']} files: "
            f"{data['changes']} changes, {data['messages']} messages, {data['votes']} votes "
            f"written ({data['skipped']} skipped: already synced over REST) "
            f"in {data['seconds']:.1f}s"
        )
    return 0
