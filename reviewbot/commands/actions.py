"""CLI: apply (write verdicts back to Gerrit as hashtags) and actions (show the write log)."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from reviewbot.commands.context import add_json, config_from, engine_from, print_json


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "apply",
        help="write the stored verdicts to Gerrit as bot-owned hashtags (dry run by default)",
        description="Uses the verdicts of the last `reviewbot evaluate`; run `reviewbot sync` "
        "and `reviewbot evaluate` first, or use `reviewbot cycle`. Honours writeback.enabled "
        "and writeback.dry_run. Only open changes that moved since the last apply are read "
        "and planned, unless --all.",
    )
    p.add_argument("--all", action="store_true", dest="everything",
                   help="plan every open change again, moved or not")
    add_json(p)
    p.set_defaults(func=apply_command)

    p = subparsers.add_parser("actions", help="show the log of planned and applied Gerrit writes")
    p.add_argument("--change", type=int, help="only this change")
    p.add_argument("--limit", type=int, default=50, help="newest N entries (default 50)")
    add_json(p)
    p.set_defaults(func=actions_command)


def apply_command(args: argparse.Namespace) -> int:
    from reviewbot.actions.writeback import apply
    from reviewbot.actions.writeback_send import FORBIDDEN_RETRY
    from reviewbot.config import Secrets
    from reviewbot.gerrit.client import GerritClient
    from reviewbot.store import session_scope
    from reviewbot.store.actions import all_forbidden

    config = config_from(args)
    engine = engine_from(config)
    client = GerritClient.from_config(config, Secrets.from_env())
    summary = apply(engine, config, client, everything=args.everything)
    with session_scope(engine) as session:
        refusals = all_forbidden(session)
    if args.json:
        data = asdict(summary)
        data["forbidden_memory"] = [
            {"kind": f.kind, "project": f.project, "since": f.since.isoformat(),
             "change": f.change, "error": f.error,
             "retry_after": (f.since + FORBIDDEN_RETRY).isoformat()}
            for f in refusals
        ]
        print_json(data)
        return 0
    if not summary.enabled:
        print("write-back is off (writeback.enabled = false); nothing planned or written")
        return 0
    mode = "dry run: nothing written" if summary.dry_run else "writing to Gerrit"
    print(f"write-back ({mode}); {summary.changed} of {summary.considered} open changes moved "
          "since the last apply")
    if summary.note:
        print(f"note: {summary.note}")
    for a in summary.actions:
        what = _what(a)
        error = f" ({a['error']})" if a.get("error") else ""
        print(f"{a['change']:>8}  {a['result']:<9} {what}{error}")
    print(f"{summary.planned} writes planned, {summary.applied} applied, {summary.failed} failed, "
          f"{summary.forbidden} forbidden, {summary.skipped_forbidden} skipped after an earlier "
          f"403; {summary.requests} requests")
    print(summary.line())
    for f in refusals:
        print(f"Gerrit refused {f.kind} writes in {f.project} on change {f.change} at "
              f"{f.since:%Y-%m-%d %H:%M} UTC ({f.error}); not retried before "
              f"{f.since + FORBIDDEN_RETRY:%Y-%m-%d %H:%M} UTC unless [writeback] changes")
    return 1 if summary.failed else 0


def _what(a: dict[str, Any]) -> str:
    if a["action"] == "gated-message":
        return "post gated message"
    parts = [f"+{t}" for t in a.get("add", [])] + [f"-{t}" for t in a.get("remove", [])]
    return "hashtags " + " ".join(parts)


def actions_command(args: argparse.Namespace) -> int:
    from reviewbot.store import session_scope
    from reviewbot.store.actions import recent_actions

    config = config_from(args)
    projects = config.gerrit.projects if config.deployment.several_teams else None
    with session_scope(engine_from(config)) as session:
        if args.json:
            from reviewbot.store.change_reads import list_actions
            from reviewbot.views.answers.operations import action_log

            total, rows = list_actions(
                session, limit=args.limit, change=args.change,
                projects=projects)
            # /api/v1/actions' shape (page 1)
            print_json(action_log(total, rows, page=1, page_size=args.limit,
                                  change=args.change))
            return 0
        rows = recent_actions(session, limit=args.limit, change=args.change,
                              projects=projects)
    if not rows:
        print("no write-back actions logged")
    for r in rows:
        print(f"{r.created:%Y-%m-%d %H:%M}  {r.change_number:>8} PS{r.patch_set or '?':<3} "
              f"{r.result:<9} {r.action}: {r.reason}" + (f" [{r.error}]" if r.error else ""))
    return 0
