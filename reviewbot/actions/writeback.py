"""Actions: write the verdicts back to Gerrit as bot-owned hashtags (and an optional gated message).

The step reads the stored verdicts and the change's hashtags as last synced,
computes the bot-owned hashtags each open change should carry
(`reviewbot.actions.writeback_plan`), and writes only the difference
(`reviewbot.actions.writeback_send`: the 403 memory and the read-back of lost answers).
Rules that keep it careful:

- Off unless `writeback.enabled`; with `writeback.dry_run` (the default) the
  plan is logged as "planned" and nothing is written.
- Incremental: only open changes that moved since the last apply are read and
  planned (`store.applied`: the change's `revision` and verdict facts as last
  settled; everything again when `plan_fingerprint` changes). A change whose
  writes failed or were refused is planned again next cycle; a dry run's plan
  counts as settled (it is logged) and its writes stay in `planned`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from reviewbot.actions.writeback_plan import ChangePlan, in_scope, plan_change
from reviewbot.actions.writeback_send import (
    GATED_MESSAGE,
    ApplySummary,
    record_dry_run,
    send_plans,
)
from reviewbot.clock import utcnow
from reviewbot.config import Config
from reviewbot.store import actions as log_store
from reviewbot.store import session_scope
from reviewbot.store.accounts import chunks
from reviewbot.store.applied import AppliedStamp, due_changes, settle
from reviewbot.store.snapshots import load_changes
from reviewbot.store.verdicts import load_verdicts

log = logging.getLogger(__name__)

# Bump when what a plan depends on changes in code: every open change is planned again.
PLAN_VERSION = 1


def plan_fingerprint(config: Config, dry_run: bool) -> str:
    """Everything a plan reads besides the change and its verdict: when it changes, every
    open change is planned again (a dry run turning real writes what it only planned)."""
    data = {"version": PLAN_VERSION, "dry_run": dry_run, "gerrit": config.gerrit.url,
            "projects": sorted(config.gerrit.projects),
            "branches": sorted(config.gerrit.branches),
            "priorities": sorted(p.id for p in config.priorities),
            "writeback": config.writeback.model_dump()}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def apply(engine: Engine, config: Config, client: Any, *, now: datetime | None = None,
          everything: bool = False, fence: Callable[[], bool] | None = None) -> ApplySummary:
    """Pipeline step "actions": plan the bot-owned hashtags of every open change that moved
    since the last apply (`everything`: of every open change) and write the diff.

    `fence()` is asked right before every write (the worker's leadership check): when
    it answers False the step stops writing at once.
    """
    wb = config.writeback
    if not wb.enabled:
        return ApplySummary(enabled=False, note="writeback.enabled = false")
    now = now or utcnow()
    summary = ApplySummary(dry_run=wb.dry_run)
    summary.plan_only_unless_authenticated(client)
    due, plans, latest = _plans(engine, config, summary, everything)
    summary.planned += sum(p.writes for p in plans)
    if summary.dry_run:
        record_dry_run(engine, plans, latest, now, summary)
        _settle(engine, due, plans, summary)
        log.info("%s", summary.line())
        return summary

    send_plans(engine, config, client, plans, now, summary, fence)
    _settle(engine, due, plans, summary)
    log.info("%s; %d requests", summary.line(), summary.requests)
    return summary


# Changes read per query when many moved (a first apply reads every open change).
CHANGES_PER_READ = 5000


def _plans(engine: Engine, config: Config, summary: ApplySummary, everything: bool
           ) -> tuple[list[AppliedStamp], list[ChangePlan], dict[tuple[int, str], Any]]:
    with session_scope(engine) as session:
        due = due_changes(session, config, plan_fingerprint(config, summary.dry_run),
                          everything=everything)
        summary.considered, summary.changed = due.open, len(due.moved)
        summary.planned = due.pending_writes
        numbers = [s.number for s in due.moved]
        changes = [
            c for part in chunks(numbers, CHANGES_PER_READ) for c in load_changes(
                session, numbers=part, projects=config.gerrit.projects,
                branches=config.gerrit.branches, status=["NEW"], history=False, messages=True,
            )
            if in_scope(c, config)
        ]
        numbers = [c.number for c in changes]
        verdicts = load_verdicts(session, numbers)
        latest = log_store.latest_actions(session, numbers)
        posted = log_store.posted_messages(session, GATED_MESSAGE, numbers)
    plans = []
    for change in changes:
        verdict = verdicts.get(change.number)
        if verdict is None:
            continue  # not evaluated yet: nothing to say
        plan = plan_change(change, verdict, config,
                           message_posted=(change.number, change.current_patch_set) in posted)
        if plan is not None:
            plans.append(plan)
    return due.moved, plans, latest


def _settle(engine: Engine, moved: list[AppliedStamp], plans: list[ChangePlan],
            summary: ApplySummary) -> None:
    """Remember the changes planned this cycle whose plan is settled: nothing to write,
    every write applied, or (dry run) logged as planned. A change with a failed, refused
    or unsent write is planned again next cycle."""
    applied: dict[int, int] = {}
    for a in summary.actions:
        if a["result"] in ("applied", "planned"):
            applied[a["change"]] = applied.get(a["change"], 0) + 1
    unsettled = {p.number for p in plans if applied.get(p.number, 0) < p.writes}
    pending = {p.number: p.writes for p in plans} if summary.dry_run else {}
    with session_scope(engine) as session:
        settle(session, moved, pending, unsettled)

