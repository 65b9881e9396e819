"""CLI: `reviewbot judge`, `reviewbot standing USER` and `reviewbot reviewers` (standing on
the way to core)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

from reviewbot.commands.context import (
    CYCLE_BUSY_EXIT,
    add_as_of,
    add_json,
    as_of_from,
    config_from,
    engine_from,
    print_json,
    run_under_cycle_lock,
)
from reviewbot.standing import DEFINITIONS
from reviewbot.store import session_scope
from reviewbot.store.review_reads import find_account
from reviewbot.store.standing_reads import ReviewerReport, leaderboard, reviewer_report


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "judge", help="judge and store every review whose change changed since the last run "
        "(the worker does this each cycle; standing pages then read one row per review)",
        description="The judge step of the cycle, alone. Exits "
                    f"{CYCLE_BUSY_EXIT} if another process is running a cycle right now.")
    add_json(p)
    p.set_defaults(func=run_judge)

    p = subparsers.add_parser(
        "standing", help="a reviewer's review-quality metrics and progress toward core criteria"
    )
    p.add_argument("user", metavar="USER", help="Gerrit username (or #account-id)")
    _common(p)
    p.set_defaults(func=run_standing)

    p = subparsers.add_parser("reviewers", help="leaderboard of non-core reviewers")
    _common(p)
    p.add_argument("--include-core", action="store_true", help="list core reviewers too")
    p.set_defaults(func=run_reviewers)


def _common(p: argparse.ArgumentParser) -> None:
    add_as_of(p)
    p.add_argument("--window-days", type=_positive_int, default=None,
                   help="window length in days (default: standing.window_days)")
    p.add_argument("--replay", action="store_true",
                   help="judge from the vote history now, not from the stored judgements "
                   "(slower; the same figures, a way to check them)")
    add_json(p)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1 day")
    return value


def _fmt(value: float | int | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def run_judge(args: argparse.Namespace) -> int:
    from reviewbot.review_judgements import JudgingResult, judge_store

    config = config_from(args)
    engine = engine_from(config)

    def show(result: JudgingResult) -> int:
        if args.json:
            print_json(asdict(result))
            return 0
        scope = "every change (roster or rules changed)" if result.full else "changed changes"
        print(f"judged {result.changes} {scope}: {result.reviews} reviews stored "
              f"in {result.seconds:.2f}s")
        return 0

    # The worker judges inside its cycle: never two judges writing at once.
    return run_under_cycle_lock(config, lambda: judge_store(engine, config), show)


def run_standing(args: argparse.Namespace) -> int:
    config = config_from(args)
    as_of = as_of_from(args)
    engine = engine_from(config)
    with session_scope(engine) as session:
        account = find_account(session, args.user)
        if account is None:
            print(f"standing: no account named {args.user!r} in the store "
                  "(run `reviewbot sync` first, or check the spelling)", file=sys.stderr)
            return 1
        report = reviewer_report(session, config, account, as_of=as_of,
                                 window_days=args.window_days, replay=args.replay)
    if args.json:
        print_json(report.as_json())
        return 0
    _print_report(report)
    return 0


def _print_report(report: ReviewerReport) -> None:
    s = report.standing
    role = "core" if s.core else "non-core"
    print(f"{report.username} ({role}) — window {s.window_start:%Y-%m-%d %H:%M} .. "
          f"{s.as_of:%Y-%m-%d %H:%M} UTC")
    for name, definition in DEFINITIONS.items():
        print(f"  {name:<22} {_fmt(s.metrics.get(name)):>7}  {definition}")
    if report.criteria:
        print(f"criteria met: {report.met} of {len(report.criteria)}")
        for c in report.criteria:
            mark = "met" if c.met else "   "
            bar = "#" * round(c.progress * 20)
            print(f"  [{mark}] {c.label:<20} {_fmt(c.value):>7} / {_fmt(c.target):<6} "
                  f"|{bar:<20}|")
    for warning in s.warnings:
        print(f"warning (context, not score): {warning}")
    feed = s.feed
    if feed:
        print("learning feed (a core's later verdict disagreed):")
        for r in feed[:20]:
            v = r.verdict
            print(f"  {r.date:%Y-%m-%d} change {r.change_number} ps {r.patch_set}: "
                  f"you {r.value:+d}, verdict {v.value:+d} at {v.date:%Y-%m-%d %H:%M}")


def run_reviewers(args: argparse.Namespace) -> int:
    config = config_from(args)
    as_of = as_of_from(args)
    engine = engine_from(config)
    with session_scope(engine) as session:
        rows = leaderboard(session, config, as_of=as_of, window_days=args.window_days,
                           include_core=args.include_core, replay=args.replay)
    if args.json:
        print_json([r.as_json() for r in rows])
        return 0
    total = len(config.standing.criteria.model_dump(exclude_none=True))
    print(f"{'reviewer':<24} {'met':>5} {'judged':>6} {'reviews':>7} {'disagree':>8} "
          f"{'catch':>6} {'thought':>7} {'prio':>5}")
    for r in rows:
        m = r.standing.metrics
        print(f"{r.username:<24} {r.met:>2}/{total:<2} {m['judged_reviews']:>6} "
              f"{m['reviews']:>7} {_fmt(m['disagreement_ratio']):>8} "
              f"{_fmt(m['minus1_catch_rate']):>6} {m['thoughtful_minus1']:>7} "
              f"{_fmt(m['priority_share']):>5}")
    return 0
