"""CLI: report — the PTL's cycle report as of a date (text, Markdown, CSV or JSON)."""

from __future__ import annotations

import argparse
import sys

from reviewbot.commands.context import add_as_of, as_of_from, config_from, engine_from, print_json

FORMATS = ("text", "md", "csv", "json")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "report",
        help="PTL report: priority progress, core review effort, gate compliance",
        description="Per priority: open/merged/abandoned, open changes by state, waits, "
        "merges per week, stale changes. Cycle-wide: core reviews on priorities, gate "
        "compliance per core, gate latencies. Everything as of --as-of (default now).",
    )
    add_as_of(p)
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="text (default), md (mailing-list Markdown), csv (one row per "
                   "change), json")
    p.add_argument("--cycle", metavar="NAME",
                   help="a past cycle archived by `cycle-start` (default: the config's "
                   "present cycle); shown as of its end unless --as-of")
    p.add_argument("--json", action="store_const", const="json", dest="format",
                   help="same as --format json")
    p.set_defaults(func=run_report)


def run_report(args: argparse.Namespace) -> int:
    from reviewbot.clock import utcnow
    from reviewbot.store import session_scope
    from reviewbot.views.cycles import UnknownCycle, report_cycle
    from reviewbot.views.report_render import render_csv, render_markdown, render_text, report_json
    from reviewbot.views.reporting import report_as_of

    config = config_from(args)
    asked = as_of_from(args) if args.as_of else None
    engine = engine_from(config)
    try:
        with session_scope(engine) as session:
            try:
                chosen = report_cycle(session, config, args.cycle)
            except UnknownCycle as exc:
                print(f"--cycle: {exc}", file=sys.stderr)
                return 2
            config = chosen.config
            report = report_as_of(session, config, chosen.as_of(asked, utcnow()),
                                  past_cycle=chosen.past)
    finally:
        engine.dispose()
    if args.format == "json":
        print_json(report_json(report))  # /api/v1/report's shape (answers.ReportOut)
    elif args.format == "md":
        sys.stdout.write(render_markdown(report, config.gerrit_web_base))
    elif args.format == "csv":
        sys.stdout.write(render_csv(report))
    else:
        sys.stdout.write(render_text(report))
    return 0
