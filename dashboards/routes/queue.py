"""Web: the core reviewer's daily queue, as a page (`/queue`) and JSON (`/api/v1/queue`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from dashboards.deps import (
    ConfigDep,
    PageQuery,
    SessionDep,
    StateDep,
    error_page,
    parse_as_of_param,
    per_team,
    templates,
)
from reviewbot.clock import utcnow
from reviewbot.config import Config
from reviewbot.rules.freeze import notice_at as freeze_notice_at
from reviewbot.store.queue_reads import find_reviewer
from reviewbot.timeline.people import Roster
from reviewbot.views.answers.queue import QueueOut, queue_answer
from reviewbot.views.queue_present import QueueCache
from reviewbot.views.queue_view import queue_for, queue_sizes

router = APIRouter()

COOKIE = "reviewbot_reviewer"
PAGE_SIZE = 50
AsOfQuery = Annotated[str | None, Query(description="2017-02-22 (00:00 UTC) or "
                                                    "2017-02-22T12:00:00Z; default now")]


# -- shared by the change and actions pages ------------------------------------------------

def queue_cache(state: StateDep, request: Request) -> QueueCache:
    """One QueueCache per app and team (store + the team's config), made on first use."""
    return per_team(request, "queue_cache", lambda config: QueueCache(state.engine, config))


# -- queue -----------------------------------------------------------------------------------

def queue_data(session, config: Config, cache: QueueCache, who: str, as_of: datetime | None,
               offset: int, limit: int) -> dict[str, Any] | None:
    """The queue answer for `who` (the CLI's --json shape), or None when no such account
    exists."""
    reviewer = find_reviewer(session, who)
    if reviewer is None:
        return None
    answer = queue_for(session, config, reviewer, as_of, offset=offset, limit=limit,
                       cache=cache)
    return queue_answer(answer, config)


@router.get("/api/v1/queue", tags=["queue"], response_model=QueueOut)
def api_queue(
    session: SessionDep, config: ConfigDep, state: StateDep, request: Request,
    reviewer: Annotated[str, Query(min_length=1, description="username, email or account id")],
    as_of: AsOfQuery = None,
    offset: Annotated[int, Query(ge=0, le=10**6)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = PAGE_SIZE,
) -> dict[str, Any]:
    """A reviewer's queue: for a core reviewer at T what to review, in order, each row with
    its reasons (`kind: "core"`); for anyone else the first-crack queue, the gated changes
    waiting for a non-core +1, longest wait first (`kind: "first-crack"`).

    Unknown user: 404.
    """
    at = parse_as_of_param(as_of) if as_of else None
    data = queue_data(session, config, queue_cache(state, request), reviewer, at, offset, limit)
    if data is None:
        raise HTTPException(status_code=404, detail=f"unknown user {reviewer!r}: no Gerrit "
                            "account with that username, email or id has been synced")
    return data


def _core_list(session, config: Config, cache: QueueCache, as_of: datetime | None
               ) -> tuple[list[dict], Roster]:
    """Core reviewers with the size of their queue, for the picker."""
    sizes, roster = queue_sizes(session, config, as_of, cache)
    return [{"username": roster.username(a), "total": n} for a, n in sizes], roster


def _sections(items: list[dict]) -> list[dict]:
    """Core queue rows in sections: one per cycle priority (in queue order), then the rest."""
    sections: list[dict] = []
    for position, item in enumerate(items, 1):
        title = item.get("priority_title") or "Other changes"
        if not sections or sections[-1]["title"] != title:
            sections.append({"title": title, "rows": []})
        sections[-1]["rows"].append((position, item))
    return sections


@router.get("/queue", response_class=HTMLResponse, include_in_schema=False)
def queue_page(
    request: Request, session: SessionDep, config: ConfigDep, state: StateDep,
    reviewer: str | None = None, as_of: str | None = None,
    page: PageQuery = 1,
) -> Response:
    at = parse_as_of_param(as_of) if as_of else None
    now = at or utcnow()
    cache = queue_cache(state, request)
    # `?reviewer=` with nothing after it means "show me the list of cores again".
    clear = reviewer is not None and not reviewer.strip()
    who = "" if clear else (reviewer or "").strip() or request.cookies.get(COOKIE, "")
    context: dict[str, Any] = {"config": config, "as_of_param": as_of or "", "now": now,
                               "who": who, "data": None, "page": page, "page_size": PAGE_SIZE,
                               "freeze_notice": freeze_notice_at(config, now)}
    if not who:
        context["cores"], roster = _core_list(session, config, cache, at)
        context["core_known"] = roster.core_known
        response: Response = templates.TemplateResponse(request, "queue.html", context)
        if clear:
            response.delete_cookie(COOKIE)
        return response
    data = queue_data(session, config, cache, who, at, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    if data is None:
        # Not raised to the shared handler: this answer must also delete the stale cookie.
        response = error_page(request, config, 404, "Unknown user",
                              f"There is no Gerrit account {who!r} in the store. Check the "
                              "spelling, or run `reviewbot sync` first.")
        if not reviewer:  # a stale cookie: forget it so the picker shows next time
            response.delete_cookie(COOKIE)
        return response
    context["data"] = data
    context["sections"] = _sections(data["items"])
    context["pages"] = max(1, -(-data["total"] // PAGE_SIZE))
    response = templates.TemplateResponse(request, "queue.html", context)
    response.set_cookie(COOKIE, data["reviewer"], max_age=365 * 86400, httponly=True,
                        samesite="lax")
    return response

