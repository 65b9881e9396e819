"""Web: the owner view "Where is my change?" — /changes/{n}/where and /api/v1/changes/{n}/where."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from dashboards.deps import (
    ChangeNumberPath,
    ConfigDep,
    SessionDep,
    StateDep,
    parse_as_of_param,
    templates,
)
from dashboards.routes.queue import AsOfQuery, queue_cache
from reviewbot.numbers import CHANGE_NUMBER_MAX, ascii_int
from reviewbot.views.answers.change import WhereOut
from reviewbot.views.where import where_is

router = APIRouter()


def where_data(session, config, cache, number: int, as_of: str | None
               ) -> dict[str, Any]:
    at = parse_as_of_param(as_of) if as_of else None
    answer = where_is(session, config, number, at, cache=cache)
    if answer is None:
        raise HTTPException(status_code=404, detail=f"change {number} is not in the store "
                            "(run `reviewbot sync`, or check the number)")
    return answer.as_json(config.gerrit_web_base)


@router.get("/api/v1/changes/{number}/where", tags=["changes"], response_model=WhereOut)
def api_where(number: ChangeNumberPath, session: SessionDep, config: ConfigDep, state: StateDep,
              request: Request, as_of: AsOfQuery = None) -> dict[str, Any]:
    """Where is my change: its position in every core reviewer's queue at T (or the first
    condition that keeps it out), its review and gate state, and what would move it up."""
    return where_data(session, config, queue_cache(state, request), number, as_of)


@router.get("/changes/{number}/where", response_class=HTMLResponse, include_in_schema=False)
def where_page(number: str, request: Request, session: SessionDep, config: ConfigDep,
               state: StateDep, as_of: str | None = None) -> Response:
    parsed = ascii_int(number, CHANGE_NUMBER_MAX)  # a str: `²` passes isdigit()
    if not parsed:
        raise HTTPException(status_code=422, detail=f"number: {number!r} is not a change number "
                            f"(1 to {CHANGE_NUMBER_MAX})")
    data = where_data(session, config, queue_cache(state, request), parsed, as_of)
    data["as_of_param"] = as_of or ""  # the page's links keep the date asked for
    return templates.TemplateResponse(request, "where.html", {"config": config, "w": data})
