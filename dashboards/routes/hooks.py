"""Web: the Gerrit webhook endpoint; an event is a hint to refresh one change (the worker
does it: the web process never talks to Gerrit)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from dashboards.deps import StateDep
from dashboards.routes.ops import hint_answer
from reviewbot.store.hints import queue_hint
from reviewbot.sync.webhooks import (
    IgnoredEvent,
    MalformedEvent,
    parse_event,
    presented_secret,
    secret_matches,
)
from reviewbot.views.answers.operations import ErrorOut, HintQueuedOut, HookIgnoredOut

router = APIRouter()


@router.post(
    "/api/v1/hooks/gerrit",
    status_code=202,
    summary="Gerrit event (webhooks plugin or stream-events JSON): refresh that change",
    response_model=HintQueuedOut | HookIgnoredOut,
    responses={400: {"model": ErrorOut, "description": "not a readable Gerrit event"},
               401: {"model": ErrorOut, "description": "missing or wrong shared secret"},
               503: {"model": ErrorOut,
                     "description": "REVIEWBOT_WEBHOOK_SECRET is not set"}},
)
async def gerrit_hook(request: Request,
                      state: StateDep) -> Response | HintQueuedOut | HookIgnoredOut:
    """Authenticate with the shared secret (`Authorization: Bearer S`, `X-Reviewbot-Secret: S`
    or `?secret=S`), then record a hint for the named change: the leading worker re-fetches
    it from Gerrit and re-evaluates it within a second, once however many events name it.
    The payload's own data is never stored."""
    configured = state.secrets.webhook_secret
    if not configured:
        return JSONResponse({"error": "webhooks are off: REVIEWBOT_WEBHOOK_SECRET is not set"},
                            status_code=503)
    if not secret_matches(configured, presented_secret(request.headers, request.query_params)):
        return JSONResponse({"error": "missing or wrong webhook secret"}, status_code=401,
                            headers={"WWW-Authenticate": 'Bearer realm="reviewbot-hooks"'})
    try:
        parsed = parse_event(await request.body(), state.config)
    except MalformedEvent as exc:
        return JSONResponse({"error": f"malformed event: {exc}"}, status_code=400)
    if isinstance(parsed, IgnoredEvent):
        return HookIgnoredOut(status="ignored", type=parsed.type, reason=parsed.reason)
    # The store write off the event loop, like every other database access of the app.
    queued = await run_in_threadpool(queue_hint, state.engine, parsed.number,
                                     f"webhook {parsed.type}")
    return hint_answer(queued, parsed.type)
