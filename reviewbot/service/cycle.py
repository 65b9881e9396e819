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
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.engine import Engine

from reviewbot.clock import utcnow
from reviewbot.config import Config, Secrets
from reviewbot.service.step_results import Scalar, each_team, recorded

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


def evaluate_teams(engine: Engine, config: Config, numbers: Iterable[int] | None = None,
                     *, now: datetime | None = None) -> int:
    """Re-evaluate `numbers` (all changes when None); returns how many verdicts were written.

    Each change is judged by the rules of the team that lists its project: with several
    teams, each team evaluates its own changes (the numbers go to their project's team)."""
    from reviewbot.evaluate.verdicts import evaluate_store

    wanted = None if numbers is None else list(numbers)
    total = 0
    for team, team_numbers in _teams_of(engine, config, wanted):
        result = evaluate_store(engine, team, numbers=team_numbers, now=now)
        total += result.evaluated
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


# --- the cycle ----------------------------------------------------------------------


def run_cycle(config: Config, secrets: Secrets, engine: Engine, *,
              client: GerritClient | None = None,
              now: datetime | None = None, should_stop: Callable[[], bool] | None = None,
              fence: Callable[[], bool] | None = None) -> CycleSummary:
    """One pass. Never raises for a failing step; `should_stop` is checked between steps,
    `fence` right before every Gerrit write (the worker's leadership)."""
    started = time.monotonic()
    summary = CycleSummary(started=utcnow().isoformat(timespec="seconds"))
    if client is None:
        client = _cycle_client(config, secrets, summary)
    counter = StatusCounter(client)
    cycle = _Cycle(config, secrets, engine, client, summary, now, should_stop, fence)
    cycle.sync()
    cycle.launchpad()
    cycle.evaluate()
    cycle.apply()
    # After evaluate (a change's judgements depend on its priority/exempt verdict) and
    # after apply, so Gerrit's hashtags never wait for a judging from scratch.
    cycle.judge()
    # The present's trends for the pages and /metrics, replayed once an hour.
    cycle.trends()
    # Last: digests read the queues this cycle just brought up to date.
    cycle.digest()

    summary.failed_steps = [n for n in STEPS if n in summary.steps and not summary.steps[n].ok]
    summary.errors = len(summary.failed_steps)
    summary.requests, summary.requests_by_status = counter.close()
    summary.duration = time.monotonic() - started
    _record(engine, summary)
    return summary


def _cycle_client(config: Config, secrets: Secrets, summary: CycleSummary
                  ) -> GerritClient | None:
    """The Gerrit client, or None with the sync step failed (the store-only steps still run)."""
    try:
        return gerrit_client(config, secrets)
    except Exception as exc:  # reported, then the store-only steps still run
        log.exception("cycle: cannot build the Gerrit client")
        summary.steps["sync"] = StepOutcome(ok=False, error=f"Gerrit client: {exc}")
        return None


@dataclass
class _Cycle:
    """One pass's steps, each recording its StepOutcome (and its counts) into `summary`."""

    config: Config
    secrets: Secrets
    engine: Engine
    client: GerritClient | None
    summary: CycleSummary
    now: datetime | None
    should_stop: Callable[[], bool] | None
    fence: Callable[[], bool] | None

    def step(self, name: str, work: Callable[[], R]) -> R | None:
        """Run one step isolated from the others: its result, or None when it failed,
        was stopped, or had failed before it could run."""
        summary = self.summary
        if name in summary.steps:  # already failed before it could run
            return None
        if self.should_stop and self.should_stop():
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
        detail, problem = recorded(result)
        if problem:
            log.warning("cycle step %s reported trouble: %s", name, problem)
        summary.steps[name] = StepOutcome(ok=problem is None, seconds=time.monotonic() - t0,
                                          error=problem, detail=detail)
        return result

    def sync(self) -> None:
        # The whole deployment's scope, even from a team's config: the cursor is shared.
        synced = self.step("sync", lambda: _sync(self.client, self.engine,
                                                 self.config.deployment))
        if synced is not None:
            self.summary.changes = synced.changes

    def launchpad(self) -> None:
        if not self.config.launchpad.enabled:
            self.summary.steps["launchpad"] = StepOutcome(skipped="launchpad.enabled = false")
            return
        enriched = self.step("launchpad", lambda: each_team(
            self.config, lambda team: _enrich(self.engine, team)))
        if enriched is not None:
            self.summary.launchpad = {
                "hits": enriched.total(lambda result: result.cache_hits),
                "misses": enriched.total(lambda result: result.looked_up),
            }

    def evaluate(self) -> None:
        evaluated = self.step("evaluate", lambda: evaluate_teams(
            self.engine, self.config, now=self.now))
        if evaluated is not None:
            self.summary.evaluated = evaluated

    def apply(self) -> None:
        if not self.config.writeback.enabled:
            self.summary.steps["apply"] = StepOutcome(skipped="writeback.enabled = false")
            return
        applied = self.step("apply", lambda: each_team(
            self.config, lambda team: _apply(self.engine, team, self.client, self.fence)))
        if applied is not None:
            self.summary.writes = applied.total(lambda result: result.applied)
            self.summary.planned = applied.total(lambda result: result.planned)

    def judge(self) -> None:
        self.step("judge", lambda: each_team(
            self.config, lambda team: _judge(self.engine, team)))

    def trends(self) -> None:
        self.step("trends", lambda: each_team(
            self.config, lambda team: _trends(self.engine, team, self.now)))

    def digest(self) -> None:
        if not self.config.digest.enabled:
            self.summary.steps["digest"] = StepOutcome(skipped="digest.enabled = false")
            return
        self.step("digest", lambda: each_team(
            self.config, lambda team: _digest(self.engine, team, self.secrets, self.now)))


def _record(engine: Engine, summary: CycleSummary) -> None:
    """Store the summary for /healthz and /metrics; a failure to is one more error."""
    from reviewbot.store import session_scope
    from reviewbot.store.ops import record_cycle

    sync_ok = "sync" in summary.steps and summary.steps["sync"].ok \
        and not summary.steps["sync"].skipped
    try:
        with session_scope(engine) as session:
            record_cycle(session, summary.to_dict(), sync_ok=sync_ok, finished=utcnow())
    except Exception:  # the cycle's work is done; losing its record is not fatal
        log.exception("cycle: could not record the cycle summary")
        summary.errors += 1


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
