"""CLI: `reviewbot where CHANGE` (the owner view) and `reviewbot digest` (daily/weekly digests)."""

from __future__ import annotations

import argparse
import sys

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
        "where", help="where is my change: its position in every core reviewer's queue, its "
        "review and gate state, and what would move it up")
    p.add_argument("change", metavar="CHANGE", type=int, help="change number")
    add_as_of(p)
    add_json(p)
    p.set_defaults(func=where_command)

    p = subparsers.add_parser(
        "digest", help="send today's digests: each subscribed core's queue, and on the "
        "weekly day the PTL summary (by e-mail and/or Matrix, one a day per person)",
        description="Composes each [[digest.subscribers]] entry's digest of the day and sends "
                    "it (needs digest.enabled). --dry-run composes and logs it as planned "
                    "without sending; --as-of previews a past day and stores nothing.")
    p.add_argument("--dry-run", action="store_true", help="compose and log, send nothing")
    add_as_of(p)
    add_json(p)
    p.set_defaults(func=digest_command)


def where_command(args: argparse.Namespace) -> int:
    from reviewbot.store import session_scope
    from reviewbot.views.where import where_is

    config = config_from(args)
    as_of = as_of_from(args) if args.as_of else None
    with session_scope(engine_from(config)) as session:
        answer = where_is(session, config, args.change, as_of)
    if answer is None:
        print(f"change {args.change} is not in the store (run `reviewbot sync`, or check the "
              "number)", file=sys.stderr)
        return 1
    if args.json:
        # /api/v1/changes/N/where's shape (reviewbot.views.answers.change.WhereOut)
        print_json(answer.as_json(config.gerrit_web_base))
        return 0
    print(f"{answer.number}: {answer.subject}")
    print(f"  {answer.project} ({answer.branch}), by {answer.owner}")
    print(answer.headline())
    review = f"{answer.review_state.replace('_', ' ')} ({answer.review_reason})" \
        if answer.review_state else answer.status
    print(f"  review state: {review}")
    print(f"  gate: {answer.gate_state or 'not evaluated'} - {answer.gate_reason}")
    if answer.score is not None:
        print(f"  score {answer.score}: {'; '.join(answer.score_reasons)}")
    if answer.first_crack_position:
        print(f"  first-crack queue: position {answer.first_crack_position} of "
              f"{answer.first_crack_total}")
    for place in answer.places:
        where = (f"position {place.position} of {place.total}" if place.position
                 else f"not in the queue: {place.message}")
        print(f"  {place.reviewer:<20} {where}")
    if answer.moves:
        print("What would move it up:")
        for move in answer.moves:
            print(f"  - {move}")
    return 0


def digest_command(args: argparse.Namespace) -> int:
    from reviewbot.actions.digest_send import run_digests
    from reviewbot.config import Secrets

    config = config_from(args)
    preview = bool(args.as_of)
    dry_run = args.dry_run or preview
    if not config.digest.enabled and not dry_run:
        print("digest.enabled is false: nothing sent (use --dry-run to see what would be)",
              file=sys.stderr)
        return 1
    if not config.digest.subscribers:
        print("no [[digest.subscribers]] in the config: nobody has opted in", file=sys.stderr)
    at = as_of_from(args) if preview else None
    run = run_digests(engine_from(config), config, Secrets.from_env(), at, dry_run=dry_run,
                      log_results=not preview)
    if args.json:
        print_json(run.as_json())
    else:
        for digest in run.digests:
            print(f"== {digest.username}: {digest.subject or digest.problem}")
            for result in digest.results:
                err = f" ({result['error']})" if result.get("error") else ""
                print(f"   {result['channel']} {result['destination']}: {result['result']}"
                      f"{err}")
            if dry_run and digest.text:
                print("", digest.text, sep="\n")
        print(run.summary(), file=sys.stderr)
    return 1 if run.failed else 0
