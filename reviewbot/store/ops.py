"""Store: what operations read and write: cycle outcomes, cumulative counters, health facts."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from reviewbot.store.state import get_state, set_state
from reviewbot.store.tables import ActionLog, LaunchpadRecord, Verdict

LAST_SUCCESS = "cycle.last_sync_success"  # naive-UTC ISO time of the last successful sync step
LAST_CYCLE = "cycle.last"  # JSON of the last CycleSummary
COUNTERS = "cycle.counters"  # JSON of cumulative counters (Prometheus counters)
# Written by every successful sync_once, whoever ran it (the worker's cycle, an admin
# cycle, `reviewbot sync`): its start time, in Gerrit's timestamp format (sync.LAST_SYNC_KEY).
SYNC_DONE = "last_sync"


def database_reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure means "not reachable" to a health check
        return False


def _add(into: dict[str, Any], key: str, amount: float) -> None:
    into[key] = into.get(key, 0) + amount


def record_cycle(session: Session, summary: dict[str, Any], *, sync_ok: bool,
                 finished: datetime) -> None:
    """Store one cycle's outcome and fold its numbers into the cumulative counters."""
    set_state(session, LAST_CYCLE, json.dumps(summary, default=str))
    if sync_ok:
        set_state(session, LAST_SUCCESS, finished.isoformat())
    counters = _load_json(get_state(session, COUNTERS)) or {}
    cycles = counters.setdefault("cycles", {})
    _add(cycles, "ok" if not summary.get("errors") else "error", 1)
    by_status = counters.setdefault("gerrit_requests", {})
    for status, count in (summary.get("requests_by_status") or {}).items():
        _add(by_status, str(status), count)
    lp = counters.setdefault("launchpad_cache", {})
    for key in ("hits", "misses"):
        _add(lp, key, int((summary.get("launchpad") or {}).get(key, 0)))
    steps = counters.setdefault("step_errors", {})
    for step in summary.get("failed_steps") or []:
        _add(steps, step, 1)
    set_state(session, COUNTERS, json.dumps(counters))


def _load_json(value: str | None) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def last_sync_success(session: Session) -> datetime | None:
    """The newest successful sync: a cycle's sync step or a `reviewbot sync` run."""
    found = []
    for key in (LAST_SUCCESS, SYNC_DONE):
        value = get_state(session, key)
        try:
            found.append(datetime.fromisoformat(value.strip()) if value else None)
        except ValueError:
            found.append(None)
    return max((when for when in found if when is not None), default=None)


def set_last_sync_success(session: Session, when: datetime) -> None:
    set_state(session, LAST_SUCCESS, when.isoformat())


def last_cycle(session: Session) -> dict[str, Any] | None:
    return _load_json(get_state(session, LAST_CYCLE))


def metrics_facts(session: Session) -> dict[str, Any]:
    """Everything /metrics exposes, read from the store so any web process can serve it."""
    gate_states = dict(
        session.exec(select(Verdict.gate_state, func.count()).group_by(Verdict.gate_state)).all()
    )
    writes = dict(
        session.exec(select(ActionLog.result, func.count()).group_by(ActionLog.result)).all()
    )
    launchpad_records = session.exec(select(func.count()).select_from(LaunchpadRecord)).one()
    return {
        "gate_states": {str(k): int(v) for k, v in gate_states.items()},
        "writes": {str(k): int(v) for k, v in writes.items()},
        "launchpad_records": int(launchpad_records),
        "counters": _load_json(get_state(session, COUNTERS)) or {},
        "last_cycle": last_cycle(session),
        "last_sync_success": last_sync_success(session),
    }
