"""Web: the core reviewer's daily queue, as a page (`/queue`) and JSON (`/api/v1/queue`)."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from dashboards.deps import (
    ConfigDep,
    SessionDep,
    StateDep,
    error_page,
    parse_as_of_param,
    templates,
)
from reviewbot.clock import full_days
from reviewbot.config import Config
from reviewbot.people import Roster
from reviewbot.queue import QueueItem
from reviewbot.snapshot import Vote
from reviewbot.store.queue_reads import (
    ChangeSummary,
    QueueCache,
    find_reviewer,
    load_queue,
    ranked,
    reviewer_core_status,
)

router = APIRouter()

COOKIE = "reviewbot_reviewer"
PAGE_SIZE = 50
AsOfQuery = Annotated[str | None, Query(description="2017-02-22 (00:00 UTC) or "
                                                    "2017-02-22T12:00:00Z; default now")]
_cache_lock = threading.Lock()


# -- shared by the change and actions pages ------------------------------------------------

def gerrit_change_url(config: Config, project: str, number: int) -> str:
    return f"{config.gerrit_web_base}/c/{project}/+/{number}"


def age_text(uploaded: datetime | None, now: datetime) -> str:
    if uploaded is None:
        return "unknown"
    days = full_days(uploaded, now)
    if days:
        return f"{days} day{'s' if days != 1 else ''}"
    hours = int(max(0, (now - uploaded).total_seconds()) // 3600)
    return f"{hours} hour{'s' if hours != 1 else ''}"


def ci_state(votes: tuple[Vote, ...]) -> str:
    verified = [v.value for v in votes if v.label == "Verified" and v.value != 0]
    if any(v < 0 for v in verified):
        return "failing"
    if any(v > 0 for v in verified):
        return "passed"
    return "none"


def vote_json(vote: Vote, roster: Roster, now: datetime) -> dict[str, Any]:
    return {"label": vote.label, "value": vote.value, "account_id": vote.account_id,
            "by": roster.username(vote.account_id), "core": roster.is_core(vote.account_id, now),
            "bot": roster.is_bot(vote.account_id)}


def queue_cache(state: StateDep, request: Request) -> QueueCache:
    """One QueueCache per app (store + config), made on first use."""
    with _cache_lock:
        cache = getattr(request.app.state, "queue_cache", None)
        if cache is None:
            cache = QueueCache(state.engine, state.config)
            request.app.state.queue_cache = cache
        return cache


# -- queue -----------------------------------------------------------------------------------

def _row(config: Config, item: QueueItem, summary: ChangeSummary, roster: Roster,
         now: datetime, reviewer: str) -> dict[str, Any]:
    change = summary.change
    priority = config.priority(item.priority) if item.priority else None
    return {
        "number": item.number,
        "priority": item.priority,
        "priority_title": priority.title if priority else None,
        "rank": item.rank,
        "score": item.score,
        "reasons": list(item.reasons),
        "subject": summary.subject,
        "project": summary.project,
        "branch": summary.branch,
        "owner": roster.username(summary.owner_id),
        "gate_state": change.gate_state,
        "patch_set": summary.current_patch_set,
        "uploaded": summary.uploaded.isoformat() if summary.uploaded else None,
        "age": age_text(summary.uploaded, now),
        "ci": ci_state(change.votes),
        "votes": [vote_json(v, roster, now) for v in change.votes if v.value != 0],
        "gerrit_url": gerrit_change_url(config, summary.project, item.number),
        "url": f"/changes/{item.number}?reviewer={reviewer}",
    }


def queue_data(session, config: Config, cache: QueueCache, who: str, now: datetime,  # noqa: ANN001
               offset: int, limit: int) -> dict[str, Any] | None:
    """The queue answer for `who`, or None when no such account exists."""
    reviewer = find_reviewer(session, who)
    if reviewer is None:
        return None
    base = cache.base(session)
    roster = base.roster
    core = reviewer_core_status(roster, reviewer.id, now)
    data: dict[str, Any] = {
        "reviewer": reviewer.label, "account_id": reviewer.id, "core": core,
        "as_of": now.isoformat(), "core_known": roster.core_known, "note": None,
        "total": 0, "offset": offset, "limit": limit, "items": [],
    }
    if core is False:
        data["note"] = (f"{reviewer.label} is not a core reviewer: the queue lists what core "
                        "reviewers should review. Non-core reviews open the gate for the "
                        "changes on the Changes page filtered to 'gated'.")
        return data
    if core is None:
        data["note"] = ("Core membership is unknown: the core group read back empty from "
                        "Gerrit (it may be hidden from the bot's account), so this queue is "
                        f"shown as if {reviewer.label} were core, and no +2 counts as a core +2.")
    page = load_queue(session, config, reviewer.id, now, offset=offset, limit=limit, cache=cache)
    data["total"] = page.total
    data["items"] = [_row(config, item, summary, page.roster, now, reviewer.label)
                     for item, summary in page.items]
    return data


@router.get("/api/v1/queue", tags=["queue"])
def api_queue(
    session: SessionDep, config: ConfigDep, state: StateDep, request: Request,
    reviewer: Annotated[str, Query(min_length=1, description="username, email or account id")],
    as_of: AsOfQuery = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = PAGE_SIZE,
) -> dict[str, Any]:
    """Core reviewer C's queue: what to review today, in order, each row with its reasons.

    Unknown user: 404. A known non-core user: 200 with `core: false`, a `note`
    and no items.
    """
    now = parse_as_of_param(as_of)
    data = queue_data(session, config, queue_cache(state, request), reviewer, now, offset, limit)
    if data is None:
        raise HTTPException(status_code=404, detail=f"unknown user {reviewer!r}: no Gerrit "
                            "account with that username, email or id has been synced")
    return data


def _core_list(session, config: Config, cache: QueueCache, now: datetime) -> list[dict]:  # noqa: ANN001
    """Core reviewers with the size of their queue, for the picker."""
    base = cache.base(session)
    roster = base.roster
    out = []
    for account_id in sorted(roster.ever_core(), key=roster.username):
        if roster.is_core(account_id, now):
            total, _page = ranked(base, account_id, now, limit=0)
            out.append({"username": roster.username(account_id), "total": total})
    return out


@router.get("/queue", response_class=HTMLResponse, include_in_schema=False)
def queue_page(
    request: Request, session: SessionDep, config: ConfigDep, state: StateDep,
    reviewer: str | None = None, as_of: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    now = parse_as_of_param(as_of)
    cache = queue_cache(state, request)
    # `?reviewer=` with nothing after it means "show me the list of cores again".
    clear = reviewer is not None and not reviewer.strip()
    who = "" if clear else (reviewer or "").strip() or request.cookies.get(COOKIE, "")
    context: dict[str, Any] = {"config": config, "as_of_param": as_of or "", "now": now,
                               "who": who, "data": None, "page": page, "page_size": PAGE_SIZE}
    if not who:
        context["cores"] = _core_list(session, config, cache, now)
        context["core_known"] = cache.base(session).roster.core_known
        response = templates.TemplateResponse(request, "queue.html", context)
        if clear:
            response.delete_cookie(COOKIE)
        return response
    data = queue_data(session, config, cache, who, now, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    if data is None:
        # Not raised to the shared handler: this answer must also delete the stale cookie.
        response = error_page(request, config, 404, "Unknown user",
                              f"There is no Gerrit account {who!r} in the store. Check the "
                              "spelling, or run `reviewbot sync` first.")
        if not reviewer:  # a stale cookie: forget it so the picker shows next time
            response.delete_cookie(COOKIE)
        return response
    context["data"] = data
    context["pages"] = max(1, -(-data["total"] // PAGE_SIZE))
    response = templates.TemplateResponse(request, "queue.html", context)
    response.set_cookie(COOKIE, data["reviewer"], max_age=365 * 86400, httponly=True,
                        samesite="lax")
    return response

