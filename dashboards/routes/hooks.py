"""Web: the Gerrit webhook endpoint; an event is a hint to refresh one change."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse

from dashboards.deps import StateDep
from reviewbot.sync.webhooks import (
    IgnoredEvent,
    MalformedEvent,
    parse_event,
    presented_secret,
    refresh_from_hint,
    secret_matches,
)

router = APIRouter()


@router.post(
    "/api/v1/hooks/gerrit",
    status_code=202,
    summary="Gerrit event (webhooks plugin or stream-events JSON): refresh that change",
    responses={400: {"description": "not a readable Gerrit event"},
               401: {"description": "missing or wrong shared secret"},
               503: {"description": "REVIEWBOT_WEBHOOK_SECRET is not set"}},
)
async def gerrit_hook(request: Request, background: BackgroundTasks,
                      state: StateDep) -> JSONResponse:
    """Authenticate with the shared secret (`Authorization: Bearer S`, `X-Reviewbot-Secret: S`
    or `?secret=S`), then re-fetch the named change from Gerrit and re-evaluate it.
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
        return JSONResponse({"status": "ignored", "type": parsed.type, "reason": parsed.reason},
                            status_code=202)
    # After the response: Gerrit's webhooks plugin gives up after 5 s, and a slow
    # Gerrit read must not make it retry (and so refresh again).
    background.add_task(refresh_from_hint, state.config, state.secrets, state.engine, parsed)
    return JSONResponse({"status": "accepted", "type": parsed.type, "change": parsed.number},
                        status_code=202)
