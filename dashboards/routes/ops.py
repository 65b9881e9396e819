"""Web: operations endpoints: /healthz, /metrics (Prometheus text) and the admin sync hint."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import SecretStr
from sqlmodel import Session

from dashboards.deps import StateDep
from reviewbot.clock import utcnow
from reviewbot.config import Config
from reviewbot.store.hints import ADMIN_SOURCE, Queued, queue_hint
from reviewbot.store.ops import database_reachable, last_sync_success
from reviewbot.sync.webhooks import secret_matches
from reviewbot.views.answers.operations import ErrorOut, HealthOut, HintQueuedOut

router = APIRouter()

METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

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


@router.get("/healthz", summary="Database reachable and the last successful sync recent enough",
            response_model=HealthOut,
            responses={503: {"model": HealthOut,
                             "description": "database unreachable or the sync is stale"}})
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
    return JSONResponse(HealthOut.model_validate(body).json_data(), status_code=status)


@router.get("/metrics", summary="Prometheus metrics (text exposition format 0.0.4)",
            response_class=PlainTextResponse)
def metrics(request: Request) -> Response:
    """Read from the store at scrape time (dashboards.metrics), so any web process serves it."""
    from prometheus_client import generate_latest

    registry = request.app.state.metrics_registry
    # generate_latest writes format 0.0.4, whatever CONTENT_TYPE_LATEST says in newer
    # prometheus_client releases.
    return Response(generate_latest(registry), media_type=METRICS_CONTENT_TYPE)


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


@router.post("/api/v1/sync", status_code=202, response_model=HintQueuedOut,
             summary="Admin: ask the worker for a cycle now (Authorization: Bearer "
                     "REVIEWBOT_ADMIN_TOKEN)",
             responses={401: {"model": ErrorOut, "description": "no bearer token"},
                        403: {"model": ErrorOut, "description": "wrong admin token"},
                        503: {"model": ErrorOut,
                              "description": "REVIEWBOT_ADMIN_TOKEN is not set"}})
def trigger_sync(request: Request, state: StateDep) -> Response | HintQueuedOut:
    """Records a hint for a whole cycle; the leading worker runs it within a second (or
    right after the cycle it is running). The web process itself never talks to Gerrit."""
    denied = _admin_denied(request, state.secrets.admin_token)
    if denied is not None:
        return denied
    return hint_answer(queue_hint(state.engine, None, ADMIN_SOURCE), "sync")


def hint_answer(queued: Queued, kind: str) -> HintQueuedOut:
    """The 202 body: what was queued, and how many hints wait now."""
    hint = queued.hint
    return HintQueuedOut(status="queued", type=kind, change=hint.change_number,
                         full_cycle=hint.change_number is None, hint=hint.id,
                         received=hint.received.isoformat() + "Z", pending=queued.pending)
