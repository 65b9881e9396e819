"""CLI: `reviewbot judge`, `reviewbot standing USER`, `reviewbot reviewers` and `reviewbot
backtest` (standing on the way to core)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING

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
from reviewbot.metrics.readiness import DEFAULT_SORT, SORT_KEYS, ratio_text  # standard library only

if TYPE_CHECKING:
    from reviewbot.views.standing_view import ReviewerReport


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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

    p = subparsers.add_parser(
        "reviewers", help="leaderboard of non-core reviewers, most ready for core first",
        description="Non-core reviewers active in the window, in the readiness order: "
        "steady weeks of reviews the cores could judge, times a quality factor that moves "
        "only as far as the evidence allows (`reviewbot standing` and the web page "
        "/reviewers/how explain each figure).")
    _common(p)
    p.add_argument("--include-core", action="store_true", help="list core reviewers too")
    p.add_argument("--sort", default=DEFAULT_SORT, choices=list(SORT_KEYS), metavar="KEY",
                   help=f"column to sort by, best first (default {DEFAULT_SORT}); one of: "
                   + ", ".join(SORT_KEYS))
    p.set_defaults(func=run_reviewers)


    p = subparsers.add_parser(
        "backtest", help="where the leaderboard ranked each person some time before the "
        "team made them core",
        description="For each promotion to core ([[core_history]] joined dates, and the "
        "core group's audit log where the sync could read it) with its date J inside the "
        "store's history: the leaderboard's default order as of J minus --lead-days, over "
        "a --window-days window, and the promoted person's rank among the non-cores with a "
        "review in that window. Reads only the store.")
    p.add_argument("--from", dest="start", metavar="DATE",
                   help="only promotions on or after this date (2017-02-22)")
    p.add_argument("--to", dest="end", metavar="DATE",
                   help="only promotions on or before this date")
    p.add_argument("--lead-days", type=_positive_int, default=90,
                   help="rank each person this many days before the promotion (default 90)")
    p.add_argument("--window-days", type=_positive_int, default=180,
                   help="the leaderboard's window in days (default 180)")
    p.add_argument("--top", type=_positive_int, default=5,
                   help="count a promotion as found within this many ranks (default 5)")
    add_json(p)
    p.set_defaults(func=run_backtest)


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


def _count(value: float | int | None) -> int | None:
    """A count metric (stored with the ratios as float | int | None) as the int it is."""
    return None if value is None else int(value)


def run_judge(args: argparse.Namespace) -> int:
    from reviewbot.evaluate.review_judgements import JudgingResult, judge_store

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
    from reviewbot.store import session_scope
    from reviewbot.store.review_reads import find_account
    from reviewbot.views.standing_view import reviewer_report

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
            # /api/v1/reviewers/USER's shape
            from reviewbot.views.answers.standing import reviewer_detail

            print_json(reviewer_detail(session, config, report))
            return 0
    _print_report(report)
    return 0


def _print_report(report: ReviewerReport) -> None:
    from reviewbot.metrics.standing import DEFINITIONS
    from reviewbot.views.standing_view import RATIO_COUNTS

    s = report.standing
    role = "core" if s.core else "non-core"
    print(f"{report.username} ({role}) — window {s.window_start:%Y-%m-%d %H:%M} .. "
          f"{s.as_of:%Y-%m-%d %H:%M} UTC")
    for name, definition in DEFINITIONS.items():
        value = s.metrics.get(name)
        shown = _fmt(value)
        if name in RATIO_COUNTS:
            count, of = RATIO_COUNTS[name]
            shown = ratio_text(value, _count(s.metrics.get(count)), of)
        print(f"  {name:<22} {shown:>20}  {definition}")
    if report.criteria:
        print(f"criteria met: {report.met} of {len(report.criteria)}")
        for c in report.criteria:
            mark = "met" if c.met else "   "
            bar = "#" * round(c.progress * 20)
            figure = _fmt(c.value)
            if c.evidence is not None:
                figure = ratio_text(c.value, c.evidence, c.evidence_label)
            note = "" if c.enough else f"  {c.status}"
            print(f"  [{mark}] {c.label:<20} {figure:>20} / {_fmt(c.target):<6} "
                  f"|{bar:<20}|{note}")
    for warning in s.warnings:
        print(f"warning (context, not score): {warning}")
    feed = s.feed
    if feed:
        print("learning feed (a core's later verdict disagreed):")
        for r in feed[:20]:
            v = r.verdict
            if v is None:  # the feed holds reviews a verdict disagreed with
                raise ValueError(f"learning feed: change {r.change_number} has no verdict")
            print(f"  {r.date:%Y-%m-%d} change {r.change_number} ps {r.patch_set}: "
                  f"you {r.value:+d}, verdict {v.value:+d} at {v.date:%Y-%m-%d %H:%M}")


def run_reviewers(args: argparse.Namespace) -> int:
    from reviewbot.store import session_scope
    from reviewbot.views.standing_view import leaderboard

    config = config_from(args)
    as_of = as_of_from(args)
    engine = engine_from(config)
    with session_scope(engine) as session:
        rows = leaderboard(session, config, as_of=as_of, window_days=args.window_days,
                           include_core=args.include_core, replay=args.replay,
                           sort=args.sort)
    if args.json:
        from reviewbot.views.answers.standing import leaderboard_answer  # /api/v1/reviewers' shape

        print_json(leaderboard_answer(rows, config, as_of, args.window_days, args.sort))
        return 0
    total = len(config.standing.criteria.model_dump(exclude_none=True))
    print(f"sorted by {SORT_KEYS[args.sort][0].lower()}"
          + (" (steady weeks of judgeable reviews x quality factor 0.8-1.2)"
             if args.sort == DEFAULT_SORT else ", best first"))
    print(f"{'reviewer':<22} {'ready':>6} {'met':>5} {'reviews':>7} {'judged':>6} "
          f"{'weeks':>5} {'disagreement':>20} {'-1 catch rate':>20} {'thought':>7}")
    for r in rows:
        m = r.standing.metrics
        print(f"{r.username:<22} {m['readiness']:>6.1f} {r.met:>2}/{total:<2} "
              f"{m['reviews']:>7} {m['judged_reviews']:>6} {m['weeks_active']:>5} "
              f"{ratio_text(m['disagreement_ratio'], _count(m['judged_reviews']), 'judged'):>20} "
              f"{ratio_text(m['minus1_catch_rate'], _count(m['minus1_reviews']), '-1s'):>20} "
              f"{m['thoughtful_minus1']:>7}")
    return 0


def _date_arg(option: str, value: str | None) -> datetime | None:
    from reviewbot.clock import parse_as_of

    if not value:
        return None
    try:
        return parse_as_of(value)
    except ValueError as exc:
        raise SystemExit(f"{option}: {exc}") from None


def run_backtest(args: argparse.Namespace) -> int:
    from reviewbot.store import session_scope
    from reviewbot.views.backtest import run_backtest as backtest

    start, end = _date_arg("--from", args.start), _date_arg("--to", args.end)
    config = config_from(args)
    engine = engine_from(config)
    with session_scope(engine) as session:
        result = backtest(session, config, lead_days=args.lead_days,
                          window_days=args.window_days, top=args.top, start=start, end=end)
    if args.json:
        print_json(result.as_json())  # /api/v1/backtest's shape (answers.BacktestOut)
        return 0
    s = result.summary
    print(f"backtest: the leaderboard's default order {args.lead_days} days before each "
          f"promotion, over a {args.window_days}-day window")
    if not result.rows:
        where = ("the store holds no reviews" if result.history is None else
                 f"the store's history runs {result.history[0]:%Y-%m-%d} .. "
                 f"{result.history[1]:%Y-%m-%d}")
        print(f"no promotion to core falls inside the store's history ({where}); "
              "promotions come from [[core_history]] and the core group's audit log")
        return 0
    print(f"{'promoted':<20} {'joined':<10} {'as of':<10} {'rank':>6} {'pool':>5} "
          f"{'ready':>6} {'reviews':>7} {'weeks':>5}  source")
    for r in result.rows:
        f = r.figures
        rank = "-" if r.rank is None else str(r.rank)
        ready = "-" if f["readiness"] is None else f"{f['readiness']:.1f}"
        print(f"{r.username:<20} {r.joined:%Y-%m-%d} {r.as_of:%Y-%m-%d} {rank:>6} "
              f"{r.pool:>5} {ready:>6} {f['reviews'] if f['reviews'] is not None else '-':>7} "
              f"{f['weeks_active'] if f['weeks_active'] is not None else '-':>5}  {r.source}"
              + (f" ({r.note})" if r.note else ""))
    print(f"{s.hits} of {s.promotions} promotions ranked in the top {s.top} "
          f"({s.share:.0%}); mean reciprocal rank {s.mrr:.2f} (no rank counts 0)")
    return 0
