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
from reviewbot.store import session_scope
from reviewbot.store.queue_reads import find_reviewer, load_queue, reviewer_core_status


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("queue", help="a core reviewer's queue: what to review today, "
                              "in order, with reasons")
    p.add_argument("user", metavar="USER", help="Gerrit username, email or account id")
    p.add_argument("--limit", type=int, default=None, help="show only the first N changes")
    add_as_of(p)
    add_json(p)
    p.set_defaults(func=queue_command)

    p = subparsers.add_parser(
        "export-dashboard",
        help="write a gerrit-dash-creator .dash file for the cycle and print the Gerrit URL",
    )
    p.add_argument("--out", help="file to write (default dashboards/<cycle>.dash)")
    p.set_defaults(func=export_dashboard_command)


def queue_command(args: argparse.Namespace) -> int:
    config = config_from(args)
    now = as_of_from(args)
    with session_scope(engine_from(config)) as session:
        reviewer = find_reviewer(session, args.user)
        if reviewer is None:
            print(f"unknown user {args.user!r}: no Gerrit account with that username, email "
                  "or id has been synced (run `reviewbot sync`)", file=sys.stderr)
            return 1
        page = load_queue(session, config, reviewer.id, now, limit=args.limit)
        core = reviewer_core_status(page.roster, reviewer.id, now)
        note = None
        if core is False:
            note = f"{reviewer.label} is not a core reviewer; core queues are for core reviewers."
        elif core is None:
            note = ("core membership is unknown (the core group read back empty from Gerrit); "
                    f"showing the queue as if {reviewer.label} were core")
        items = [] if core is False else page.items
        if args.json:
            print_json({
                "reviewer": reviewer.label, "core": core, "as_of": now.isoformat(),
                "note": note, "total": 0 if core is False else page.total,
                "items": [{
                    "number": it.number, "priority": it.priority, "score": it.score,
                    "reasons": list(it.reasons), "subject": s.subject, "project": s.project,
                    "owner": page.roster.username(s.owner_id),
                } for it, s in items],
            })
            return 0
    if note:
        print(f"note: {note}", file=sys.stderr)
    if core is False:
        return 0
    print(f"Queue of {reviewer.label} as of {now:%Y-%m-%d %H:%M} UTC: {page.total} change"
          f"{'' if page.total == 1 else 's'}")
    for position, (item, summary) in enumerate(items, 1):
        tag = f"[{item.priority}] " if item.priority else ""
        print(f"{position:>4}. {item.number:>8}  score {item.score:>4}  {tag}{summary.subject}")
        print(f"        {summary.project}, by {page.roster.username(summary.owner_id)}")
        for reason in item.reasons:
            print(f"        - {reason}")
    return 0


def export_dashboard_command(args: argparse.Namespace) -> int:
    from reviewbot.dashboard_export import dash_text, dashboard_url

    config = config_from(args)
    out = Path(args.out or f"dashboards/{config.cycle.name}.dash")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(dash_text(config), encoding="utf-8")
    except OSError as exc:
        print(f"{out}: cannot write ({exc.strerror})", file=sys.stderr)
        return 2
    print(f"wrote {out}", file=sys.stderr)
    print(dashboard_url(config))
    return 0
