"""Service: sync hints — a webhook or the admin API asks, the store keeps it, the leader acts.

The web process never talks to Gerrit (DESIGN.md: "the web layer reads the store
and never calls Gerrit"). A Gerrit event or `POST /api/v1/sync` therefore only
records a hint (`sync_hint`: a change number, or none for a whole cycle) and
answers 202 (`store.hints.queue_hint`); the leading worker drains the hints every HINT_SECONDS
(reviewbot.service.worker), under the cycle lock:

- a hint for a whole cycle runs one cycle, which covers every change hint
  waiting with it;
- otherwise each hinted change is re-fetched and re-evaluated once, however
  many hints name it (a burst of events for one change is one refresh).

Hints are dropped by id once acted on, so a hint recorded while its change was
being refreshed stays and causes one more refresh (Gerrit may have moved after
the read). A refresh that fails is dropped too and logged: the next poll cycle
reads that change anyway, and retrying every second against a Gerrit that is
down would only add load. Stored, hints outlive a restart of either process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from reviewbot.config import Config
from reviewbot.store import session_scope
from reviewbot.store.hints import Hint, drop_hints, pending_hints

if TYPE_CHECKING:
    from reviewbot.gerrit.client import GerritClient

log = logging.getLogger(__name__)

HINT_SECONDS = 0.5  # how often the leader looks for hints: "within a second"


@dataclass
class Drained:
    """One drain: the hints it acted on and what it did for them."""

    hints: int = 0
    full_cycle: bool = False
    refreshed: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def plan(hints: list[Hint]) -> tuple[bool, list[int]]:
    """(run a whole cycle?, the changes to refresh once each, in order of first hint)."""
    if any(h.change_number is None for h in hints):
        return True, []
    return False, list(dict.fromkeys(h.change_number for h in hints
                                     if h.change_number is not None))


def drain(engine: Engine, *, refresh: Callable[[int], str | None],
          full_cycle: Callable[[], object]) -> Drained:
    """Act on every hint waiting now: `full_cycle()` once, or `refresh(n)` once per change
    (returning an error text or None); then drop the hints acted on."""
    with session_scope(engine) as session:
        hints = pending_hints(session)
    outcome = Drained(hints=len(hints))
    if not hints:
        return outcome
    whole, numbers = plan(hints)
    try:
        if whole:
            sources = sorted({h.source for h in hints if h.change_number is None})
            log.info("hints: a whole cycle asked for (%s)", ", ".join(sources))
            outcome.full_cycle = True
            full_cycle()
        for number in numbers:
            error = refresh(number)
            if error is None:
                outcome.refreshed.append(number)
            else:
                outcome.failed[number] = error
    finally:
        # Also after a crash: a hint that crashes its drain would otherwise crash every
        # drain after it; the poll cycle catches up on whatever it asked for.
        with session_scope(engine) as session:
            drop_hints(session, [h.id for h in hints])
    return outcome


def _team_of(config: Config, engine: Engine, number: int) -> Config:
    """The config of the team whose project the stored change is in (one team: itself)."""
    if not config.several_teams:
        return config
    from reviewbot.store import session_scope
    from reviewbot.store.tables import Change

    with session_scope(engine) as session:
        change = session.get(Change, number)
        project = change.project if change is not None else None
    return config.for_project(project) if project else config


def refresh_hinted_change(config: Config, engine: Engine, client: GerritClient | None,
                          number: int) -> str | None:
    """Re-fetch one change from Gerrit, re-evaluate it and judge its reviews (so standing
    reads stay on the stored judgements between cycles). The caller holds the cycle
    lock. Returns None, or what failed."""
    from reviewbot.evaluate.review_judgements import judge_store
    from reviewbot.service.cycle import evaluate_teams, refresh_one

    started = time.monotonic()
    if client is None:
        return "no Gerrit client (see the worker's log)"
    try:
        refresh_one(client, engine, config, number)
    except Exception as exc:
        log.warning("hint for change %s: refresh failed: %s", number, exc)
        return f"refresh failed: {exc}"
    try:
        evaluate_teams(engine, config, [number])
    except Exception as exc:
        log.warning("hint for change %s: evaluation failed: %s", number, exc)
        return f"evaluation failed: {exc}"
    try:
        # by the rules and roster of the team whose project the change is in
        judge_store(engine, _team_of(config, engine, number), [number])
    except Exception as exc:
        log.warning("hint for change %s: judging failed: %s", number, exc)
    log.info("hint change=%s refreshed=1 evaluated=1 seconds=%.3f", number,
             time.monotonic() - started)
    return None
