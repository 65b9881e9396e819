"""Worker: run the cycle on an APScheduler schedule, one at a time, and stop cleanly on SIGTERM.

Several workers may run (on PostgreSQL, on several hosts). The one holding the
leader lock runs cycles; the others try to take the lock at every tick, so
when the leader dies one of them takes over within one poll interval. Every
cycle also holds the cycle lock, which keeps an admin-triggered cycle from a
web process from overlapping it.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import Engine

from reviewbot.config import Config, Secrets
from reviewbot.coordination import LEADER, CycleBusy, cycle_guard, make_lock
from reviewbot.cycle import CycleSummary, gerrit_client, run_cycle

log = logging.getLogger(__name__)


class Worker:
    """The scheduled loop. `stop()` (or SIGTERM/SIGINT) ends it after the running cycle."""

    def __init__(self, config: Config, secrets: Secrets, engine: Engine, *,
                 poll_seconds: float | None = None):
        self.config = config
        self.secrets = secrets
        self.engine = engine
        self.poll_seconds = float(poll_seconds or config.worker.poll_seconds)
        self.stopping = threading.Event()
        self.leader = make_lock(config, LEADER)
        self.cycles: list[CycleSummary] = []
        self._client: Any = None
        self._was_leader = False
        self._scheduler = BackgroundScheduler(timezone=UTC)

    def tick(self) -> CycleSummary | None:
        """One scheduled run: lead if we can, then run a cycle under the cycle lock."""
        if self.stopping.is_set():
            return None
        try:
            leading = self.leader.try_acquire()
        except Exception as exc:  # noqa: BLE001 - database down: try again next tick
            log.warning("worker: cannot reach the lock (%s); retrying next tick", exc)
            return None
        if not leading:
            if self._was_leader:
                log.warning("worker: lost the leader lock; standing by")
            self._was_leader = False
            log.info("worker standby=1 (another worker holds the leader lock)")
            return None
        if not self._was_leader:
            log.info("worker leader=1: this worker runs the cycles")
            self._was_leader = True
        try:
            with cycle_guard(self.config):
                summary = run_cycle(self.config, self.secrets, self.engine,
                                    client=self._gerrit(), should_stop=self.stopping.is_set)
        except CycleBusy:
            log.info("worker: a cycle started elsewhere (admin trigger) is running; skipping")
            return None
        except Exception:  # noqa: BLE001 - never let one bad tick end the schedule
            log.exception("worker: cycle crashed")
            return None
        log.info(summary.log_line())
        self.cycles.append(summary)
        return summary

    def _gerrit(self) -> Any:
        # One client for the worker's life: it reads the server version once and
        # keeps its HTTP connections. Built lazily so a Gerrit outage at start-up
        # is just a failed sync step, retried next tick.
        if self._client is None:
            try:
                self._client = gerrit_client(self.config, self.secrets)
            except Exception as exc:  # noqa: BLE001
                log.warning("worker: cannot build the Gerrit client: %s", exc)
        return self._client

    def start(self, *, first_run_delay: float = 0.0) -> None:
        self._scheduler.add_job(
            self.tick, "interval", seconds=self.poll_seconds, id="cycle",
            max_instances=1, coalesce=True, misfire_grace_time=None,
            next_run_time=datetime.now(UTC) + timedelta(seconds=first_run_delay),
        )
        # APScheduler logs two INFO lines per run; our one cycle line says more.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        self._scheduler.start()
        log.info("worker started: poll every %.0f s, database %s", self.poll_seconds,
                 self.config.database.url.split("@")[-1])

    def stop(self) -> None:
        """Ask to stop: no new cycle starts and the running one ends after its current step."""
        self.stopping.set()

    def wait_and_shutdown(self) -> None:
        self.stopping.wait()
        # wait=True: the running cycle (and its open transaction) finishes first.
        self._scheduler.shutdown(wait=True)
        self.leader.release()
        log.info("worker stopped")

    def run_forever(self, *, install_signals: bool = True) -> int:
        if install_signals:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, self._on_signal)
        self.start()
        self.wait_and_shutdown()
        return 0

    def _on_signal(self, signum: int, _frame: Any) -> None:
        log.info("worker: %s received; finishing the current cycle",
                 signal.Signals(signum).name)
        self.stop()
