"""Cycle: one sync -> Launchpad -> evaluate -> apply -> judge -> trends -> digest pass.

One sync serves every team of the deployment (one query per poll); the steps after it
run once per team, each with the config narrowed to that team (`Config.for_team`).

A failing step (Launchpad down, Gerrit answering 500, one change the rules
cannot read) is logged and counted, and the steps after it still run on what
the store holds. The outcome is a CycleSummary, also recorded in the store so
`/healthz` and `/metrics` in any web process can report it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.engine import Engine

from reviewbot.clock import utcnow
from reviewbot.config import Config, Secrets

if TYPE_CHECKING:
    from reviewbot.actions.digest_send import DigestRun
    from reviewbot.actions.writeback_send import ApplySummary
    from reviewbot.evaluate.review_judgements import JudgingResult
    from reviewbot.gerrit.client import GerritClient
    from reviewbot.store.changes import WriteCounts
    from reviewbot.sync.launchpad import EnrichSummary
    from reviewbot.sync.rest import SyncSummary

log = logging.getLogger(__name__)

STEPS = ("sync", "launchpad", "evaluate", "apply", "judge", "trends", "digest")

R = TypeVar("R")
# A step's recorded detail keeps its plain values only (see _plain).
Scalar = int | float | str | bool | None


@dataclass
class StepOutcome:
    ok: bool = True
    seconds: float = 0.0
    skipped: str | None = None
    error: str | None = None
    detail: dict[str, Scalar] = field(default_factory=dict)


@dataclass
class CycleSummary:
    started: str = ""
    duration: float = 0.0
    requests: int = 0
    requests_by_status: dict[str, int] = field(default_factory=dict)
    changes: int = 0  # changes the sync wrote
    evaluated: int = 0
    writes: int = 0  # writes applied to Gerrit
    planned: int = 0  # writes planned (dry run or not)
    errors: int = 0
    failed_steps: list[str] = field(default_factory=list)
    launchpad: dict[str, int] = field(default_factory=dict)
    steps: dict[str, StepOutcome] = field(default_factory=dict)
    stopped_early: bool = False

    def to_dict(self) -> dict[str, Any]:  # dataclasses.asdict's own type
        return asdict(self)

    def log_line(self) -> str:
        """One key=value line per cycle, for log search and alerting."""
        return (
            f"cycle duration={self.duration:.3f} requests={self.requests} "
            f"changes={self.changes} evaluated={self.evaluated} writes={self.writes} "
            f"planned={self.planned} errors={self.errors} "
            f"failed_steps={','.join(self.failed_steps) or '-'}"
            f"{' stopped_early=1' if self.stopped_early else ''}"
        )


# --- the other pipeline steps, behind one narrow seam each -------------------------


def gerrit_client(config: Config, secrets: Secrets) -> GerritClient:
    from reviewbot.gerrit.client import GerritClient

    return GerritClient.from_config(config, secrets)


def refresh_one(client: GerritClient, engine: Engine, config: Config, number: int
                ) -> WriteCounts:
    from reviewbot.sync.rest import refresh_change

    return refresh_change(client, engine, config, number)


def evaluate_changes(engine: Engine, config: Config, numbers: Iterable[int] | None = None,
                     *, now: datetime | None = None) -> int:
    """Re-evaluate `numbers` (all changes when None); returns how many verdicts were written.

    Each change is judged by the rules of the team that lists its project: with several
    teams, each team evaluates its own changes (the numbers go to their project's team)."""
    from reviewbot.evaluate.verdicts import evaluate_store

    wanted = None if numbers is None else list(numbers)
    total = 0
    for team, team_numbers in _teams_of(engine, config, wanted):
        result = evaluate_store(engine, team, numbers=team_numbers, now=now)
        total += _count(result, "evaluated", "changes", "verdicts")
    return total


def _teams_of(engine: Engine, config: Config, numbers: list[int] | None
              ) -> list[tuple[Config, list[int] | None]]:
    """(team config, its numbers) for each team to run a step for: every team when
    `numbers` is None, else the teams owning those changes' projects (a number the store
    does not hold goes to the config's own team, whose evaluate drops its verdict)."""
    if config.team_name is not None or not config.several_teams:
        return [(config.for_team(config.team_name), numbers)]
    if numbers is None:
        return [(team, None) for team in config.team_configs()]
    from sqlalchemy import select
    from sqlmodel import col

    from reviewbot.store import session_scope
    from reviewbot.store.tables import Change

    with session_scope(engine) as session:
        projects: dict[int, str] = dict(session.execute(
            select(col(Change.number), col(Change.project))
            .where(col(Change.number).in_(numbers))).tuples().all())
    by_team: dict[str, list[int]] = {}
    for number in numbers:
        team = config.for_project(projects.get(number, "")).team_name or ""
        by_team.setdefault(team, []).append(number)
    return [(config.for_team(name), part) for name, part in by_team.items()]


class TeamResults:
    """One step's results over the teams of a deployment: the numbers summed (what the
    cycle summary counts), each team's own under `TEAM.name` for the recorded detail."""

    def __init__(self, results: Mapping[str, object]) -> None:
        reasons = []
        for team, result in results.items():
            for key, value in _plain(result).items():
                setattr(self, f"{team}.{key}", value)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    setattr(self, key, getattr(self, key, 0) + value)
            problem = _soft_failure(result)
            if problem:
                reasons.append(f"team {team}: {problem}")
        if reasons:
            self.reason = "; ".join(reasons)


def _each_team(config: Config, work: Callable[[Config], R]) -> R | TeamResults:
    """Run a per-team step for each team of the deployment (its result as is for one)."""
    if config.team_name is not None:
        return work(config)
    teams = config.team_configs()
    if len(teams) == 1:
        return work(teams[0])
    # team_configs() is the deployment's teams narrowed in turn, in team_names' order.
    return TeamResults({name: work(team)
                        for name, team in zip(config.team_names, teams, strict=True)})


def _count(result: object, *names: str) -> int:
    """Read a count off another step's summary object, whatever it is called there (a
    step's own summary, or TeamResults' sums, whose names are only known at run time)."""
    if isinstance(result, int):
        return result
    for name in names:
        value = result.get(name) if isinstance(result, dict) else getattr(result, name, None)
        if isinstance(value, int):
            return value
        if isinstance(value, (list, tuple, set)):
            return len(value)
    return 0


def _requests_made(client: GerritClient | None) -> int:
    return client.requests_made if client is not None else 0


class StatusCounter:
    """Counts Gerrit responses by HTTP status over a cycle, from the client's own tally.

    The client counts every attempt, retries included (urllib3 retries inside one
    call), and `no-response` for a timeout or a dropped connection.
    """

    def __init__(self, client: GerritClient | None) -> None:
        self.client = client
        self.requests_before = _requests_made(client)
        self.before = dict(client.responses_by_status) if client is not None else {}

    def close(self) -> tuple[int, dict[str, int]]:
        made = _requests_made(self.client) - self.requests_before
        after = self.client.responses_by_status if self.client is not None else {}
        counts = {k: v - self.before.get(k, 0) for k, v in after.items()
                  if v - self.before.get(k, 0) > 0}
        return made, counts


def _soft_failure(result: object) -> str | None:
    """Steps that never raise (Launchpad) report trouble in their summary instead."""
    errors = getattr(result, "errors", None)
    if isinstance(errors, int) and errors > 0:
        reason = getattr(result, "reason", None) or f"{errors} errors"
        return str(reason)
    failed = getattr(result, "failed", None)  # write-back: writes Gerrit refused or lost
    if isinstance(failed, int) and failed > 0:
        return f"{failed} writes failed"
    return None


# --- the cycle ----------------------------------------------------------------------


def run_cycle(config: Config, secrets: Secrets, engine: Engine, *,
              client: GerritClient | None = None,
              now: datetime | None = None, should_stop: Callable[[], bool] | None = None,
              fence: Callable[[], bool] | None = None) -> CycleSummary:
    """One pass. Never raises for a failing step; `should_stop` is checked between steps,
    `fence` right before every Gerrit write (the worker's leadership)."""
    from reviewbot.store import session_scope
    from reviewbot.store.ops import record_cycle

    started_wall = utcnow()
    started = time.monotonic()
    summary = CycleSummary(started=started_wall.isoformat(timespec="seconds"))
    if client is None:
        try:
            client = gerrit_client(config, secrets)
        except Exception as exc:  # reported, then the store-only steps still run
            log.exception("cycle: cannot build the Gerrit client")
            summary.steps["sync"] = StepOutcome(ok=False, error=f"Gerrit client: {exc}")
    counter = StatusCounter(client)

    def step(name: str, work: Callable[[], R]) -> R | None:
        if name in summary.steps:  # already failed before it could run
            return None
        if should_stop and should_stop():
            summary.stopped_early = True
            summary.steps[name] = StepOutcome(skipped="stop requested")
            return None
        t0 = time.monotonic()
        try:
            result = work()
        except Exception as exc:  # isolation is the point of a step
            log.exception("cycle step %s failed", name)
            summary.steps[name] = StepOutcome(ok=False, seconds=time.monotonic() - t0,
                                              error=f"{type(exc).__name__}: {exc}")
            return None
        problem = _soft_failure(result)
        if problem:
            log.warning("cycle step %s reported trouble: %s", name, problem)
        summary.steps[name] = StepOutcome(ok=problem is None, seconds=time.monotonic() - t0,
                                          error=problem, detail=_plain(result))
        return result

    # The whole deployment's scope, even from a team's config: the cursor is shared.
    synced = step("sync", lambda: _sync(client, engine, config.deployment))
    if synced is not None:
        summary.changes = _count(synced, "changes", "changes_written", "changes_synced")
    if config.launchpad.enabled:
        enriched = step("launchpad", lambda: _each_team(config, lambda t: _enrich(engine, t)))
        if enriched is not None:
            summary.launchpad = {
                "hits": _count(enriched, "cache_hits", "hits"),
                "misses": _count(enriched, "looked_up", "fetched", "cache_misses", "misses"),
            }
    else:
        summary.steps["launchpad"] = StepOutcome(skipped="launchpad.enabled = false")
    evaluated = step("evaluate", lambda: evaluate_changes(engine, config, now=now))
    if evaluated is not None:
        summary.evaluated = evaluated
    if config.writeback.enabled:
        applied = step("apply", lambda: _each_team(
            config, lambda t: _apply(engine, t, client, fence)))
        if applied is not None:
            summary.writes = _count(applied, "applied", "writes_applied")
            summary.planned = _count(applied, "planned", "writes_planned")
    else:
        summary.steps["apply"] = StepOutcome(skipped="writeback.enabled = false")
    # After evaluate (a change's judgements depend on its priority/exempt verdict) and
    # after apply, so Gerrit's hashtags never wait for a judging from scratch.
    step("judge", lambda: _each_team(config, lambda t: _judge(engine, t)))
    # The present's trends for the pages and /metrics, replayed once an hour.
    step("trends", lambda: _each_team(config, lambda t: _trends(engine, t, now)))
    # Last: digests read the queues this cycle just brought up to date.
    if config.digest.enabled:
        step("digest", lambda: _each_team(config, lambda t: _digest(engine, t, secrets, now)))
    else:
        summary.steps["digest"] = StepOutcome(skipped="digest.enabled = false")

    summary.failed_steps = [n for n in STEPS if n in summary.steps and not summary.steps[n].ok]
    summary.errors = len(summary.failed_steps)
    summary.requests, summary.requests_by_status = counter.close()
    summary.duration = time.monotonic() - started
    sync_ok = "sync" in summary.steps and summary.steps["sync"].ok \
        and not summary.steps["sync"].skipped
    try:
        with session_scope(engine) as session:
            record_cycle(session, summary.to_dict(), sync_ok=sync_ok, finished=utcnow())
    except Exception:  # the cycle's work is done; losing its record is not fatal
        log.exception("cycle: could not record the cycle summary")
        summary.errors += 1
    return summary


def _plain(result: object) -> dict[str, Scalar]:
    """A JSON-friendly view of a step's result, for the recorded summary."""
    if result is None:
        return {}
    if isinstance(result, int):
        return {"count": result}
    data: Mapping[str, object]
    if isinstance(result, dict):
        data = result
    elif is_dataclass(result) and not isinstance(result, type):
        data = asdict(result)
    elif isinstance(result, BaseModel):
        data = result.model_dump()
    else:
        data = vars(result) if hasattr(result, "__dict__") else {"value": str(result)}
    return {k: v for k, v in data.items()
            if isinstance(v, (int, float, str, bool)) or v is None}


def _sync(client: GerritClient | None, engine: Engine, config: Config) -> SyncSummary:
    if client is None:
        raise RuntimeError("no Gerrit client")
    from reviewbot.sync.rest import sync_once

    return sync_once(client, engine, config)


def _enrich(engine: Engine, config: Config) -> EnrichSummary:
    from reviewbot.sync.launchpad import enrich

    return enrich(engine, config)


def _judge(engine: Engine, config: Config) -> JudgingResult:
    from reviewbot.evaluate.review_judgements import judge_store

    return judge_store(engine, config)


def _apply(engine: Engine, config: Config, client: GerritClient | None,
           fence: Callable[[], bool] | None = None) -> ApplySummary:
    if client is None:
        raise RuntimeError("no Gerrit client")
    from reviewbot.actions.writeback import apply

    return apply(engine, config, client, fence=fence)


def _digest(engine: Engine, config: Config, secrets: Secrets, now: datetime | None
            ) -> DigestRun:
    from reviewbot.actions.digest_send import run_digests

    return run_digests(engine, config, secrets, now)


def _trends(engine: Engine, config: Config, now: datetime | None) -> dict[str, Any]:
    from reviewbot.views.trends import store_trends

    return store_trends(engine, config, now or utcnow())
