"""Worker: run the cycle on an APScheduler schedule, one at a time, and stop cleanly on SIGTERM.

One worker serves every team of the config: each cycle is one sync, then each team's
steps (cycle.py).

Several workers may run (on PostgreSQL, on several hosts). The one holding the
leadership (leadership.py: the leader lock plus a lease with a deadline) runs
cycles; a heartbeat renews its lease every third of `[worker] lease_seconds`,
and every Gerrit write first checks that the lease is still its own. The
others try to take over at every heartbeat: at once when the leader's lock is
free (it died, or its database session was dropped), after the lease runs out
when the leader is frozen. Every cycle also holds the cycle lock, which keeps
a `reviewbot cycle` run from a terminal from overlapping it.

The leader also drains the sync hints (reviewbot.service.hints) every HINT_SECONDS:
webhooks and `POST /api/v1/sync` only record them, since the web process never
talks to Gerrit. Draining and the scheduled cycle never overlap.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import Engine

from reviewbot.config import Config, Secrets
from reviewbot.service.coordination import LEADER, CycleBusy, cycle_guard, make_lock
from reviewbot.service.cycle import CycleSummary, gerrit_client, run_cycle
from reviewbot.service.hints import HINT_SECONDS, Drained, drain, refresh_hinted_change
from reviewbot.service.leadership import Leadership
from reviewbot.store import session_scope
from reviewbot.store.hints import pending_count

if TYPE_CHECKING:
    from reviewbot.gerrit.client import GerritClient

log = logging.getLogger(__name__)


class Worker:
    """The scheduled loop. `stop()` (or SIGTERM/SIGINT) ends it after the running cycle."""

    def __init__(self, config: Config, secrets: Secrets, engine: Engine, *,
                 poll_seconds: float | None = None, hint_seconds: float = HINT_SECONDS):
        self.config = config
        self.secrets = secrets
        self.engine = engine
        self.poll_seconds = float(poll_seconds or config.worker.poll_seconds)
        self.hint_seconds = float(hint_seconds)
        self.stopping = threading.Event()
        self.leadership = Leadership(engine, make_lock(config, LEADER),
                                     config.worker.lease_seconds)
        self.cycles: list[CycleSummary] = []
        self.drains: list[Drained] = []
        # The scheduled cycle and a hint drain run in APScheduler's threads; one at a time.
        self._busy = threading.Lock()
        self._client: GerritClient | None = None
        self._was_leader = False
        self._scheduler = BackgroundScheduler(timezone=UTC)

    def tick(self) -> CycleSummary | None:
        """One scheduled run: lead if we can, then run a cycle under the cycle lock."""
        if self.stopping.is_set():
            return None
        if not self._lead():
            return None
        if self.leadership.replaced_live_holder:
            # The previous leader lost its lock session but may have had a write in
            # flight; its client gives up within the timeout, so sync after that.
            self.leadership.replaced_live_holder = False
            grace = float(self.config.gerrit.timeout)
            log.info("worker: took over from a live leader; first cycle in %.0f s", grace)
            if self.stopping.wait(grace):
                return None
        try:
            with self._busy, self._cycle_lock():
                return self._cycle()
        except CycleBusy:
            log.info("worker: a cycle started elsewhere (`reviewbot cycle`) is running; "
                     "skipping")
            return None
        except Exception:  # never let one bad tick end the schedule
            log.exception("worker: cycle crashed")
            return None

    def _cycle(self) -> CycleSummary:
        """One cycle; the caller holds `_busy` and the cycle lock."""
        summary = run_cycle(self.config, self.secrets, self.engine, client=self._gerrit(),
                            should_stop=self._should_stop, fence=self.leadership.still_leading)
        log.info(summary.log_line())
        self.cycles.append(summary)
        return summary

    def drain_hints(self) -> Drained | None:
        """Act on the sync hints waiting (reviewbot.service.hints), if this worker leads. None: not
        now (not the leader, nothing waiting, or a cycle runs: the hints wait for it)."""
        if self.stopping.is_set() or self.leadership.lease is None:
            return None
        try:
            with session_scope(self.engine) as session:
                if not pending_count(session):
                    return None  # the common case: one cheap read, no lease renewal
        except Exception as exc:
            log.warning("worker: cannot read the sync hints (%s)", exc)
            return None
        if not self.leadership.still_leading():
            self._was_leader = False
            return None
        if not self._busy.acquire(blocking=False):
            return None  # this worker's cycle runs; drained right after it
        try:
            with self._cycle_lock():
                outcome = drain(
                    self.engine,
                    refresh=lambda n: refresh_hinted_change(self.config, self.engine,
                                                            self._gerrit(), n),
                    full_cycle=self._cycle)
        except CycleBusy:
            return None  # a `reviewbot cycle` elsewhere: after it
        except Exception:
            log.exception("worker: draining the sync hints crashed")
            return None
        finally:
            self._busy.release()
        if outcome.hints:
            log.info("worker hints=%d full_cycle=%d refreshed=%d failed=%d", outcome.hints,
                     int(outcome.full_cycle), len(outcome.refreshed), len(outcome.failed))
            self.drains.append(outcome)
        return outcome

    def _lead(self, announce_standby: bool = True) -> bool:
        try:
            leading = self.leadership.acquire()
        except Exception as exc:  # database down: try again next tick
            log.warning("worker: cannot reach the lock (%s); retrying next tick", exc)
            return False
        if not leading:
            if self._was_leader:
                log.warning("worker: lost the leader lock; standing by")
            self._was_leader = False
            if announce_standby:
                log.info("worker standby=1 (another worker holds the leader lock)")
            return False
        if not self._was_leader:
            log.info("worker leader=1: this worker runs the cycles (lease token %s)",
                     self.leadership.token)
            self._was_leader = True
        return True

    def _should_stop(self) -> bool:
        """Between steps: a stop was asked for, or another worker leads now."""
        if self.stopping.is_set():
            return True
        if not self.leadership.still_leading():
            self._was_leader = False
            return True
        return False

    @contextmanager
    def _cycle_lock(self) -> Iterator[None]:
        try:
            with cycle_guard(self.config):
                yield
        except CycleBusy:
            lease = self.leadership.lease
            if lease is None or lease.locked:
                raise
            # We replaced a frozen leader that still holds its locks, the cycle lock
            # among them; its writes are fenced, so waiting for it would only stall.
            log.warning("worker: the cycle lock is held by the leader this worker replaced; "
                        "running the cycle without it")
            yield

    def _heartbeat(self) -> None:
        """Every third of the lease: the leader renews it; a standby tries to take over."""
        if self.stopping.is_set():
            return
        if self.leadership.lease is not None:
            if not self.leadership.still_leading():
                self._was_leader = False
            return
        if self._lead(announce_standby=False):
            # Taken over between ticks: run a cycle now rather than a poll interval later.
            self._scheduler.modify_job("cycle", next_run_time=datetime.now(UTC))

    def _gerrit(self) -> GerritClient | None:
        # One client for the worker's life: it reads the server version once and
        # keeps its HTTP connections. Built lazily so a Gerrit outage at start-up
        # is just a failed sync step, retried next tick.
        if self._client is None:
            try:
                self._client = gerrit_client(self.config, self.secrets)
            except Exception as exc:
                log.warning("worker: cannot build the Gerrit client: %s", exc)
        return self._client

    def start(self, *, first_run_delay: float = 0.0) -> None:
        if first_run_delay > 0:
            # Lead (or stand by) from the start, not from the first cycle: the leader
            # drains sync hints meanwhile.
            self._lead()
        self._scheduler.add_job(
            self.tick, "interval", seconds=self.poll_seconds, id="cycle",
            max_instances=1, coalesce=True, misfire_grace_time=None,
            next_run_time=datetime.now(UTC) + timedelta(seconds=first_run_delay),
        )
        self._scheduler.add_job(
            self.drain_hints, "interval", seconds=self.hint_seconds, id="hints",
            max_instances=1, coalesce=True, misfire_grace_time=None,
        )
        self._scheduler.add_job(
            self._heartbeat, "interval", seconds=self.leadership.lease_seconds / 3,
            id="heartbeat", max_instances=1, coalesce=True, misfire_grace_time=None,
        )
        # APScheduler logs two INFO lines per run; our one cycle line says more.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        self._scheduler.start()
        log.info("worker started: poll every %.0f s, database %s, teams %s", self.poll_seconds,
                 self.config.database.url.split("@")[-1],
                 ", ".join(self.config.team_names))

    def stop(self) -> None:
        """Ask to stop: no new cycle starts and the running one ends after its current step."""
        self.stopping.set()

    def wait_and_shutdown(self) -> None:
        self.stopping.wait()
        # wait=True: the running cycle (and its open transaction) finishes first.
        self._scheduler.shutdown(wait=True)
        self.leadership.release()
        log.info("worker stopped")

    def run_forever(self, *, install_signals: bool = True) -> int:
        if install_signals:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, self._on_signal)
        self.start()
        self.wait_and_shutdown()
        return 0

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("worker: %s received; finishing the current cycle",
                 signal.Signals(signum).name)
        self.stop()
