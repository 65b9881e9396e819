"""CLI: `reviewbot queue USER` (a core reviewer's queue) and `reviewbot export-dashboard`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reviewbot.commands.context import (
    add_as_of,
    add_json,
    as_of_from,
    config_from,
    engine_from,
    print_json,
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "queue", help="a reviewer's queue: for a core reviewer what to review today, for "
        "anyone else the first-crack queue (gated changes waiting for a non-core +1)")
    p.add_argument("user", metavar="USER", help="Gerrit username, email or account id")
    p.add_argument("--limit", type=int, default=None, help="show only the first N changes")
    add_as_of(p)
    add_json(p)
    p.set_defaults(func=queue_command)

    p = subparsers.add_parser(
        "export-dashboard",
        help="print a gerrit-dash-creator .dash file for the cycle and the Gerrit URL",
        description="Prints the .dash file on stdout (`> ocata.dash`) and the Gerrit "
                    "custom-dashboard URL on stderr; with --out FILE writes the file and "
                    "prints the URL on stdout.",
    )
    p.add_argument("--out", help="file to write (default: the .dash text goes to stdout)")
    p.set_defaults(func=export_dashboard_command)


def queue_command(args: argparse.Namespace) -> int:
    from reviewbot.metrics.queue import FirstCrackItem
    from reviewbot.store import session_scope
    from reviewbot.store.queue_reads import find_reviewer
    from reviewbot.views.queue_view import queue_for

    config = config_from(args)
    as_of = as_of_from(args) if args.as_of else None
    if args.limit is not None and args.limit < 0:
        print("--limit: must be 0 or more", file=sys.stderr)
        return 2
    with session_scope(engine_from(config)) as session:
        reviewer = find_reviewer(session, args.user)
        if reviewer is None:
            print(f"unknown user {args.user!r}: no Gerrit account with that username, email "
                  "or id has been synced (run `reviewbot sync`)", file=sys.stderr)
            return 1
        answer = queue_for(session, config, reviewer, as_of, limit=args.limit)
    if args.json:
        from reviewbot.views.answers.queue import queue_answer  # the shape /api/v1/queue answers

        print_json(queue_answer(answer, config))
        return 0
    if answer.note:
        print(f"note: {answer.note}", file=sys.stderr)
    name = answer.roster.username
    what = "First-crack queue" if answer.kind == "first-crack" else "Queue"
    print(f"{what} of {reviewer.label} as of {answer.as_of:%Y-%m-%d %H:%M} UTC: {answer.total} "
          f"change{'' if answer.total == 1 else 's'}")
    for position, row in enumerate(answer.rows, 1):
        item, summary = row.item, row.summary
        if isinstance(item, FirstCrackItem):  # answer.kind == "first-crack"
            head = f"waiting {item.wait_days:>3} d"
        else:
            head = f"score {item.score:>4}  " + (f"[{item.priority}] " if item.priority else "")
        print(f"{position:>4}. {item.number:>8}  {head}  {summary.subject}")
        print(f"        {summary.project} ({summary.branch}), by {name(summary.owner_id)}")
        for reason in item.reasons:
            print(f"        - {reason}")
    return 0


def export_dashboard_command(args: argparse.Namespace) -> int:
    from reviewbot.views.dashboard_export import dash_text, dashboard_url

    config = config_from(args)
    if not args.out:
        # Never into the web app's dashboards/ source folder: stdout, redirected by the user.
        sys.stdout.write(dash_text(config))
        print(f"Gerrit dashboard URL: {dashboard_url(config)}", file=sys.stderr)
        return 0
    out = Path(args.out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(dash_text(config), encoding="utf-8")
    except OSError as exc:
        print(f"{out}: cannot write ({exc.strerror})", file=sys.stderr)
        return 2
    print(f"wrote {out}", file=sys.stderr)
    print(dashboard_url(config))
    return 0
