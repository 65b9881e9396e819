"""CLI: cycle-start NAME — roll over to the next release cycle; cycles — list the stored ones."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from reviewbot.commands.context import (
    add_json,
    config_from,
    engine_from,
    print_json,
    run_under_cycle_lock,
)

if TYPE_CHECKING:
    from reviewbot.actions.writeback_plan import ChangePlan
    from reviewbot.actions.writeback_send import ApplySummary
    from reviewbot.config import Config
    from reviewbot.evaluate.verdicts import EvaluationResult

DESCRIPTION = """\
Begins cycle NAME in two steps, so nothing changes in Gerrit before the config does.

1. While the config still names the outgoing cycle: `cycle-start NAME --from FILE.rst`
   archives the outgoing cycle in the store (its report keeps working) and prints NAME's
   [cycle] (dates drafted from the file's release schedule table) and [[priorities]]
   (from its priorities table) as TOML to review and put in the config.
2. Once the config names NAME: `cycle-start NAME` ends the past cycles, evaluates every
   change against NAME's priorities, and plans taking the bot's own past-cycle priority
   hashtags off the changes still under review. A dry run (the plan is printed and
   logged) unless --apply; --apply writes only with writeback.enabled = true and
   writeback.dry_run = false. Run again: only what is still left is planned.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "cycle-start", help="begin the next release cycle (archive the old one, draft the "
        "new [cycle] from a schedule, remove the bot's old priority hashtags)",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", metavar="NAME", help="the new cycle's name, e.g. pike")
    p.add_argument("--from", dest="source", metavar="FILE.rst",
                   help="a glance-specs *-priorities.rst or a release schedule .rst to draft "
                   "the new [cycle] and [[priorities]] from")
    p.add_argument("--year", type=int, help="the year of the schedule's first row, when its "
                   "dates carry none (default: read from the file, else the first year after "
                   "the outgoing cycle's start)")
    p.add_argument("--apply", action="store_true",
                   help="write to Gerrit (default: dry run, the plan is printed and logged)")
    add_json(p)
    p.set_defaults(func=cycle_start_command)

    p = subparsers.add_parser("cycles", help="list the present cycle and the archived ones")
    add_json(p)
    p.set_defaults(func=cycles_command)


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


def cycle_start_command(args: argparse.Namespace) -> int:
    config = config_from(args)
    if config.cycle.name != args.name:
        return _draft(args, config)
    if args.source:
        return _fail(f"the config already names cycle {args.name!r}: run `reviewbot cycle-start "
                     f"{args.name}` without --from to finish the rollover")
    return _roll_over(args, config)


def _draft(args: argparse.Namespace, config: Config) -> int:
    from reviewbot.clock import utcnow
    from reviewbot.config.cycle_draft import cycle_toml, draft_cycle
    from reviewbot.config.priorities_rst import draft_toml
    from reviewbot.config.rst_tables import RstError
    from reviewbot.store import session_scope
    from reviewbot.views.cycles import archive_present

    if not args.source:
        return _fail(f"the config names cycle {config.cycle.name!r}, not {args.name!r}: draft "
                     f"{args.name}'s [cycle] and [[priorities]] with --from FILE.rst (or put "
                     "them in the config yourself), then run this again")
    if args.apply:
        return _fail(f"nothing is written to Gerrit while the config names "
                     f"{config.cycle.name!r}: put {args.name}'s draft in the config first")
    path = Path(args.source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return _fail(f"{path}: cannot read ({exc.strerror})")
    except UnicodeDecodeError as exc:
        return _fail(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})")
    try:
        draft = draft_cycle(text, args.name, year=args.year, not_before=config.cycle.start,
                            projects=config.gerrit.projects)
    except RstError as exc:
        return _fail(f"{path}: {exc}")
    try:
        priorities = draft_toml(text, source=path.name)
    except RstError as exc:
        priorities = f"# {path.name}: {exc}; [[priorities]] not drafted\n"
    engine = engine_from(config)
    try:
        with session_scope(engine) as session:
            archive_present(session, config, utcnow())
    finally:
        engine.dispose()
    if args.json:
        print_json({"archived": config.cycle.name, "cycle": args.name,
                    "draft": {"start": draft.start, "end": draft.end,
                              "feature_freeze": draft.feature_freeze, "rc": draft.rc,
                              "release": draft.release, "milestones": draft.milestones,
                              "comments": draft.comments, "schedule_rows": draft.rows},
                    "toml": cycle_toml(draft, source=path.name) + "\n" + priorities})
    else:
        sys.stdout.write(cycle_toml(draft, source=path.name) + "\n"
                         + priorities.rstrip("\n") + "\n")
        print(f"archived cycle {config.cycle.name!r} in the store (its report stays readable: "
              f"`reviewbot report --cycle {config.cycle.name}`). Put the draft above in the "
              f"config in place of [cycle] and [[priorities]], then run `reviewbot cycle-start "
              f"{args.name}` to plan removing the bot's {config.cycle.name} priority hashtags.",
              file=sys.stderr)
    return 0


def _roll_over(args: argparse.Namespace, config: Config) -> int:
    from reviewbot.actions.rollover import old_priority_hashtags, plan_rollover
    from reviewbot.actions.writeback_send import write_plans
    from reviewbot.clock import utcnow
    from reviewbot.config import Secrets
    from reviewbot.evaluate.verdicts import evaluate_store
    from reviewbot.gerrit.client import GerritClient
    from reviewbot.store import session_scope
    from reviewbot.store.cycles import all_cycles, end_cycles, open_change_hashtags
    from reviewbot.views.cycles import archive_present

    now = utcnow()
    wb = config.writeback
    engine = engine_from(config)

    def work() -> _RollOver:
        with session_scope(engine) as session:
            archive_present(session, config, now)
            ended = end_cycles(session, config.cycle.name, now)
            past = [row for row in all_cycles(session) if row.name != config.cycle.name]
            old = old_priority_hashtags(config, past)
            past_names = [row.name for row in past]
            open_changes = open_change_hashtags(session, config.gerrit.projects,
                                                config.gerrit.branches)
        evaluated = evaluate_store(engine, config, now=now)
        plans = [plan for number, project, _branch, ps, tags in open_changes
                 if (plan := plan_rollover(number, project, ps, tags, old, config.cycle.name))]
        dry_run = not (args.apply and wb.enabled and not wb.dry_run)
        client = GerritClient.from_config(config, Secrets.from_env())
        summary = write_plans(engine, config, client, plans, dry_run=dry_run, now=now)
        return _RollOver(ended, past_names, evaluated, plans, summary)

    try:
        return run_under_cycle_lock(config, work, lambda done: _show(args, config, done))
    finally:
        engine.dispose()


class _RollOver(NamedTuple):
    """What the rollover did under the cycle lock, shown after it is released."""

    ended: list[str]  # cycles marked ended now
    past: list[str]  # names of the stored past cycles
    evaluated: EvaluationResult
    plans: list[ChangePlan]
    summary: ApplySummary


def _show(args: argparse.Namespace, config: Config, done: _RollOver) -> int:
    ended, past, evaluated, plans, summary = done
    wb = config.writeback
    why_dry = None
    if summary.dry_run:
        why_dry = summary.note or ("dry run (pass --apply to write)" if not args.apply else
                                   "dry run: writeback.enabled = false" if not wb.enabled else
                                   "dry run: writeback.dry_run = true")
    if args.json:
        print_json({"cycle": config.cycle.name, "ended": ended,
                    "past": past, "evaluated": evaluated.evaluated,
                    "dry_run": summary.dry_run, "note": why_dry, "planned": summary.planned,
                    "applied": summary.applied, "failed": summary.failed + summary.forbidden,
                    "plans": [{"change": p.number, "project": p.project,
                               "remove": list(p.remove), "reason": p.hashtag_reason}
                              for p in plans],
                    "actions": summary.actions})
        return 0 if not (summary.failed or summary.forbidden) else 1
    print(f"cycle {config.cycle.name} is the present cycle"
          + (f"; ended: {', '.join(ended)}" if ended else ""))
    if not past:
        print("no past cycle is stored, so no old priority hashtag is known: archive the "
              "outgoing cycle with `reviewbot cycle-start NAME --from FILE.rst` before the "
              "config moves on")
    print(evaluated.summary())
    for plan in plans:
        print(f"  change {plan.number} ({plan.project}): -{' -'.join(plan.remove)}")
        print(f"      {plan.hashtag_reason}")
    if summary.dry_run:
        print(f"{len(plans)} changes carry old-cycle priority hashtags; {why_dry}: nothing "
              "written")
    else:
        print(f"{summary.applied} of {len(plans)} hashtag writes applied"
              + (f", {summary.failed} failed" if summary.failed else "")
              + (f", {summary.forbidden} forbidden" if summary.forbidden else ""))
    return 0 if not (summary.failed or summary.forbidden) else 1


def cycles_command(args: argparse.Namespace) -> int:
    from reviewbot.store import session_scope
    from reviewbot.store.cycles import all_cycles

    config = config_from(args)
    engine = engine_from(config)
    try:
        with session_scope(engine) as session:
            rows = [(r.name, r.start, r.end, r.ended, len(r.priorities))
                    for r in all_cycles(session)]
    finally:
        engine.dispose()
    present = config.cycle
    listed = [{"name": present.name, "start": present.start, "end": present.end,
               "present": True, "ended": None, "priorities": len(config.priorities)}]
    listed += [{"name": n, "start": s, "end": e, "present": False, "ended": ended,
                "priorities": k} for n, s, e, ended, k in rows if n != present.name]
    if args.json:
        print_json(listed)
        return 0
    for c in listed:
        what = "present (config)" if c["present"] else (
            f"archived, ended {c['ended']:%Y-%m-%d}" if c["ended"] else "archived")
        print(f"{c['name']:<16} {c['start']} to {c['end']}  {c['priorities']} priorities  {what}")
    return 0
