"""Web: operations endpoints: /healthz, /metrics (Prometheus text) and the admin sync trigger."""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import SecretStr
from sqlmodel import Session

from dashboards.deps import StateDep
from reviewbot.clock import utcnow
from reviewbot.config import Config
from reviewbot.coordination import CYCLE, make_lock
from reviewbot.store.ops import database_reachable, last_sync_success, metrics_facts
from reviewbot.webhooks import secret_matches

log = logging.getLogger(__name__)
router = APIRouter()

STALE_INTERVALS = 3  # healthy while the last successful sync is younger than 3 poll intervals


def health(config: Config, reachable: bool, last_success: datetime | None,
           now: datetime) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) for /healthz: 503 when the database is down or the sync is stale."""
    limit = STALE_INTERVALS * config.worker.poll_seconds
    body: dict[str, Any] = {
        "database": "ok" if reachable else "unreachable",
        "last_sync_success": last_success.isoformat() + "Z" if last_success else None,
        "last_sync_age_seconds": None,
        "stale_after_seconds": limit,
    }
    if not reachable:
        body["status"] = "database unreachable"
        return 503, body
    if last_success is None:
        body["status"] = "no successful sync yet"
        return 503, body
    age = max(0.0, (now - last_success).total_seconds())
    body["last_sync_age_seconds"] = round(age, 1)
    if age > limit:
        body["status"] = f"sync is stale: last success {age:.0f} s ago (limit {limit} s)"
        return 503, body
    body["status"] = "ok"
    return 200, body


@router.get("/healthz", summary="Database reachable and the last successful sync recent enough")
def healthz(state: StateDep) -> JSONResponse:
    reachable = database_reachable(state.engine)
    last = None
    if reachable:
        try:
            with Session(state.engine) as session:
                last = last_sync_success(session)
        except Exception:  # e.g. the schema is missing: not healthy
            reachable = False
    status, body = health(state.config, reachable, last, utcnow())
    return JSONResponse(body, status_code=status)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Exposition:
    """Prometheus text format 0.0.4 writer: HELP and TYPE once per family, then samples."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str,
               samples: list[tuple[dict[str, str], float]]) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            label_text = ",".join(f'{k}="{_escape(str(v))}"' for k, v in sorted(labels.items()))
            self.lines.append(f"{name}{{{label_text}}} {_number(value)}" if label_text
                              else f"{name} {_number(value)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _number(value: float) -> str:
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


GATE_STATES = ("priority", "exempt", "open", "gated", "closed")
WRITE_RESULTS = ("planned", "applied", "failed", "forbidden")


def render_metrics(facts: dict[str, Any]) -> str:
    """The /metrics body from the store's facts (a pure function)."""
    out = Exposition()
    last = facts.get("last_cycle") or {}
    counters = facts.get("counters") or {}
    steps = last.get("steps") or {}
    sync_step = steps.get("sync") or {}
    out.family("reviewbot_cycle_duration_seconds", "gauge",
               "Wall time of the last cycle.", [({}, float(last.get("duration") or 0))])
    out.family("reviewbot_sync_duration_seconds", "gauge",
               "Wall time of the last cycle's sync step.",
               [({}, float(sync_step.get("seconds") or 0))])
    success = facts.get("last_sync_success")
    out.family("reviewbot_last_sync_success_timestamp_seconds", "gauge",
               "Unix time of the last successful sync (0: never).",
               [({}, _epoch(success) if success else 0)])
    cycles = counters.get("cycles") or {}
    out.family("reviewbot_cycles_total", "counter", "Cycles run, by outcome.",
               [({"outcome": k}, cycles.get(k, 0)) for k in ("ok", "error")])
    step_errors = counters.get("step_errors") or {}
    out.family("reviewbot_cycle_step_errors_total", "counter", "Failed cycle steps, by step.",
               [({"step": k}, step_errors.get(k, 0))
                for k in ("sync", "launchpad", "evaluate", "apply")])
    by_status = counters.get("gerrit_requests") or {}
    out.family("reviewbot_gerrit_requests_total", "counter",
               "HTTP requests the cycles made to Gerrit, by response status.",
               [({"status": k}, v) for k, v in sorted(by_status.items())])
    errors = {k: v for k, v in by_status.items() if not (k.isdigit() and int(k) < 400)}
    out.family("reviewbot_gerrit_errors_total", "counter",
               "Gerrit requests that failed (HTTP status >= 400 or no response), by status.",
               [({"status": k}, v) for k, v in sorted(errors.items())])
    gates = facts.get("gate_states") or {}
    out.family("reviewbot_changes", "gauge", "Evaluated changes, by gate state.",
               [({"gate_state": k}, gates.get(k, 0))
                for k in sorted(set(GATE_STATES) | set(gates))])
    writes = facts.get("writes") or {}
    out.family("reviewbot_writes_total", "counter",
               "Write-back actions logged, by result (planned includes dry runs).",
               [({"result": k}, writes.get(k, 0))
                for k in sorted(set(WRITE_RESULTS) | set(writes))])
    lp = counters.get("launchpad_cache") or {}
    out.family("reviewbot_launchpad_cache_hits_total", "counter",
               "Launchpad lookups answered from the cache.", [({}, lp.get("hits", 0))])
    out.family("reviewbot_launchpad_cache_misses_total", "counter",
               "Launchpad lookups that went to Launchpad.", [({}, lp.get("misses", 0))])
    out.family("reviewbot_launchpad_records", "gauge", "Launchpad records cached.",
               [({}, facts.get("launchpad_records", 0))])
    _trend_families(out, facts.get("trends") or [])
    return out.text()


def _trend_families(out: Exposition, weeks: list[dict[str, Any]]) -> None:
    """The cycle's trend series (reviewbot.trends), one sample per cycle week; a week
    without a latency (nobody got the vote yet) has no sample rather than a zero."""
    for name, key, help_text in (
        ("reviewbot_trend_queue_size", "queue_size",
         "Core queue size (open changes waiting on reviewers) at each cycle week's end."),
        ("reviewbot_trend_changes_created", "created", "Changes created in each cycle week."),
        ("reviewbot_trend_gate_latency_days", "gate_latency_days",
         "Median days from upload to the first non-core +1, by week created."),
        ("reviewbot_trend_core_latency_days", "core_latency_days",
         "Median days from upload to the first core review, by week created."),
    ):
        out.family(name, "gauge", help_text,
                   [({"week_start": w["week_start"]}, w[key]) for w in weeks
                    if w.get(key) is not None])


def _epoch(value: datetime) -> float:
    return (value - datetime(1970, 1, 1)).total_seconds()


@router.get("/metrics", summary="Prometheus metrics (text exposition format)",
            response_class=PlainTextResponse)
def metrics(state: StateDep) -> PlainTextResponse:
    from reviewbot.trends import stored_trends

    with Session(state.engine) as session:
        facts = metrics_facts(session)
        # The worker's hourly copy: a scrape never replays the cycle.
        held = stored_trends(session)
        facts["trends"] = [w.as_json() for w in held[1]] if held else []
    return PlainTextResponse(render_metrics(facts),
                             media_type="text/plain; version=0.0.4; charset=utf-8")


def _admin_denied(request: Request, token: SecretStr | None) -> JSONResponse | None:
    if not token:
        return JSONResponse({"error": "admin API is off: REVIEWBOT_ADMIN_TOKEN is not set"},
                            status_code=503)
    auth = request.headers.get("authorization") or ""
    if auth[:7].lower() != "bearer ":
        return JSONResponse({"error": "send Authorization: Bearer <admin token>"},
                            status_code=401, headers={"WWW-Authenticate": "Bearer"})
    if not secret_matches(token, auth[7:].strip()):
        return JSONResponse({"error": "wrong admin token"}, status_code=403)
    return None


@router.post("/api/v1/sync", status_code=202,
             summary="Admin: run one cycle now (Authorization: Bearer REVIEWBOT_ADMIN_TOKEN)")
def trigger_sync(request: Request, state: StateDep) -> JSONResponse:
    denied = _admin_denied(request, state.secrets.admin_token)
    if denied is not None:
        return denied
    lock = make_lock(state.config, CYCLE)
    if not lock.try_acquire():
        return JSONResponse({"status": "busy", "detail": "a cycle is already running"},
                            status_code=409)
    thread = threading.Thread(target=_cycle_in_background, args=(state, lock),
                              name="reviewbot-admin-cycle", daemon=True)
    thread.start()
    return JSONResponse({"status": "started"}, status_code=202)


def _cycle_in_background(state: Any, lock: Any) -> None:
    from reviewbot.cycle import run_cycle

    try:
        summary = run_cycle(state.config, state.secrets, state.engine)
        log.info("admin-triggered %s", summary.log_line())
    except Exception:
        log.exception("admin-triggered cycle crashed")
    finally:
        lock.release()
