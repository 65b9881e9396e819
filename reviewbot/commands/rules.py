"""CLI: evaluate, why CHANGE, priorities-from-rst FILE."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from reviewbot.commands.context import add_as_of, add_json, as_of_from, config_from, engine_from
from reviewbot.commands.context import print_json as emit_json

if TYPE_CHECKING:

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
        emit_json({  # reviewbot.views.answers.change.EvaluationOut
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


# The plain text says Gerrit's statuses in words, as before they were Gerrit's.
_STATUS_WORDS = {"NEW": "open", "MERGED": "merged", "ABANDONED": "abandoned",
                 "NOT YET CREATED": "not created yet"}


def why_command(args: argparse.Namespace) -> int:
    """`reviewbot why CHANGE`: /api/v1/changes/N's answer (`views.change_view`), in words or
    with --json in its shape; the stored verdict without --as-of, as the web shows it."""
    from reviewbot.store import session_scope
    from reviewbot.views.change_view import ChangeNotStored, UnknownReviewer, change_answer

    config = config_from(args)
    at = as_of_from(args) if args.as_of else None
    try:
        with session_scope(engine_from(config)) as session:
            answer = change_answer(session, config, args.change, reviewer=args.reviewer,
                                   as_of=at)
    except (ChangeNotStored, UnknownReviewer) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    if args.json:
        emit_json(answer.json_data())  # reviewbot.views.answers.change.ChangeOut
        return 0
    print(f"Change {answer.number} ({answer.project}, {answer.branch}) by "
          f"{answer.owner}: {answer.subject}")
    if at is not None:
        print(f"As of {at:%Y-%m-%d %H:%M} UTC: {_STATUS_WORDS[answer.status]}, "
              f"patch set {answer.current_patch_set}.")
    if answer.priorities:
        print("Cycle priorities:")
        for p in answer.priorities:
            print(f"  - {p.title} (rank {p.rank}), because:")
            for reason in p.reasons:
                print(f"      {reason}")
    else:
        print("Cycle priorities: none of the configured priorities matches.")
    if answer.exempt_reasons:
        print("Exempt from the gate, because: " + "; ".join(answer.exempt_reasons))
    print(f"Gate: {answer.gate_state}. {answer.gate_reason}")
    if answer.review_state is not None:
        print(f"Review state: {answer.review_state_label} ({answer.review_reason}).")
    for note in answer.notes:
        print(f"Note: {note}")
    why = answer.why_not
    if why is not None:
        which = "First-crack queue" if why.kind == "first-crack" else "Core queue"
        print(f"{which} ({args.reviewer}): {why.message}")
        for reason in why.reasons:
            print(f"  - {reason}")
    return 0


def priorities_from_rst_command(args: argparse.Namespace) -> int:
    from reviewbot.config.priorities_rst import draft_toml
    from reviewbot.config.rst_tables import RstError

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
