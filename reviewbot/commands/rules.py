"""CLI: evaluate, why CHANGE, priorities-from-rst FILE."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewbot.commands.context import add_as_of, add_json, as_of_from, config_from, engine_from
from reviewbot.commands.context import print_json as emit_json

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from reviewbot.config import Config
    from reviewbot.evaluate.verdicts import EvaluationResult
    from reviewbot.rules.verdict import ChangeVerdict


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "evaluate", help="tag every stored change with its priorities and gate state, with reasons"
    )
    add_json(p)
    add_as_of(p)
    p.add_argument("--full", action="store_true",
                   help="evaluate every change, not only those that moved since the last run")
    p.set_defaults(func=evaluate_command)

    p = subparsers.add_parser("why", help="explain one change's priorities and gate state")
    p.add_argument("change", type=int, metavar="CHANGE", help="change number")
    p.add_argument("--reviewer", metavar="USER",
                   help="also answer: is it in this core reviewer's queue, and if not, why")
    add_json(p)
    add_as_of(p)
    p.set_defaults(func=why_command)

    p = subparsers.add_parser(
        "priorities-from-rst",
        help="draft [[priorities]] TOML from a glance-specs priorities .rst file",
    )
    p.add_argument("file", metavar="FILE", help="e.g. priorities/ocata-priorities.rst")
    p.set_defaults(func=priorities_from_rst_command)


def _line(v: ChangeVerdict) -> str:
    tags = f" [{', '.join(v.priority_ids)}]" if v.priorities else ""
    return f"{v.number:>8}  {v.gate.state:<8}{tags}  {v.gate.reason}"


def evaluate_command(args: argparse.Namespace) -> int:
    from reviewbot.evaluate.verdicts import evaluate_as_of, run_evaluation, stored_verdicts

    config = config_from(args)
    engine = engine_from(config)
    at = as_of_from(args)
    # With --as-of the answer is for that date and the stored present is left alone;
    # without, the changes that moved are evaluated and every stored verdict is shown.
    if args.as_of:
        result = shown = evaluate_as_of(engine, config, at)
    else:
        result = run_evaluation(engine, config, at, full=args.full)
        shown = stored_verdicts(engine, config)
    if args.json:
        emit_json({  # reviewbot.views.answers.EvaluationOut
            "as_of": at.isoformat(),
            "stored": not args.as_of,
            "evaluated": result.evaluated,
            "changes": [v.as_json() for v in shown.open],
            # WIP and closed changes: not gated, kept apart so "changes" holds gate states only.
            "not_gated": [v.as_json() for v in shown.other],
            "priorities_matching_no_change": _unmatched(config, shown),
        })
        return 0
    for v in shown.open:
        print(_line(v))
    print(result.summary())
    for pid in _unmatched(config, shown):
        print(f"priority {pid} matches no change: check its matchers")
    return 0


def _unmatched(config: Config, shown: EvaluationResult) -> list[str]:
    """Configured priorities no verdict shown names (the stored ones without --as-of)."""
    named = {pid for v in shown.all for pid in v.priority_ids}
    return [p.id for p in config.priorities if p.id not in named]


def _queue_answer(engine: Engine, config: Config, number: int, who: str,
                  as_of: datetime | None) -> dict[str, Any] | None:
    """The queues' why-not for one reviewer (core queue, or first-crack queue for a non-core)."""
    from reviewbot.store import session_scope
    from reviewbot.store.queue_reads import find_reviewer
    from reviewbot.views.queue_view import why_not_for

    with session_scope(engine) as session:
        reviewer = find_reviewer(session, who)
        if reviewer is None:
            raise LookupError(f"unknown user {who!r}: no synced Gerrit account has that "
                              "username, email or id")
        answer = why_not_for(session, config, number, reviewer, as_of)
    return answer.as_json() if answer is not None else None


def why_command(args: argparse.Namespace) -> int:
    from reviewbot.evaluate.verdicts import evaluate_one

    config = config_from(args)
    engine = engine_from(config)
    now = as_of_from(args)
    found = evaluate_one(engine, config, args.change, now)
    if found is None:
        print(f"change {args.change} is not in the store; run `reviewbot sync` first",
              file=sys.stderr)
        return 1
    change, verdict, roster = found
    queue = None
    if args.reviewer:
        try:
            queue = _queue_answer(engine, config, args.change, args.reviewer,
                                  now if args.as_of else None)
        except LookupError as exc:
            print(str(exc), file=sys.stderr)
            return 1
    from reviewbot.timeline.state import GERRIT_STATUS, state_at

    state = state_at(change, now, roster.username)
    if args.json:
        data = verdict.as_json()
        data.update(project=change.project, branch=change.branch, subject=change.subject,
                    owner=roster.username(change.owner_id), as_of=now.isoformat(),
                    status=GERRIT_STATUS[state.status], wip=change.wip,
                    current_patch_set=state.patch_set)
        data["why_not"] = queue
        emit_json(data)  # reviewbot.views.answers.WhyOut
        return 0
    print(f"Change {change.number} ({change.project}, {change.branch}) by "
          f"{roster.username(change.owner_id)}: {change.subject}")
    if args.as_of:
        print(f"As of {now:%Y-%m-%d %H:%M} UTC: {state.status or 'not created yet'}, "
              f"patch set {state.patch_set}.")
    if verdict.priorities:
        print("Cycle priorities:")
        for p in verdict.priorities:
            print(f"  - {p.title} (rank {p.rank}), because:")
            for reason in p.reasons:
                print(f"      {reason}")
    else:
        print("Cycle priorities: none of the configured priorities matches.")
    if verdict.exempt_reasons:
        print("Exempt from the gate, because: " + "; ".join(verdict.exempt_reasons))
    print(f"Gate: {verdict.gate.state}. {verdict.gate.reason}")
    if verdict.review is not None:
        print(f"Review state: {verdict.review.label} ({verdict.review.reason}).")
    for note in verdict.notes:
        print(f"Note: {note}")
    if queue is not None:
        which = "First-crack queue" if queue["kind"] == "first-crack" else "Core queue"
        print(f"{which} ({args.reviewer}): {queue['message']}")
        for reason in queue["reasons"]:
            print(f"  - {reason}")
    return 0


def priorities_from_rst_command(args: argparse.Namespace) -> int:
    from reviewbot.config.priorities_rst import RstError, draft_toml

    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        print(f"{path}: cannot read ({exc.strerror})", file=sys.stderr)
        return 2
    try:
        sys.stdout.write(draft_toml(text, source=path.name))
    except RstError as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 2
    return 0
