"""Web: the change list by gate state, one change's page (matches, gate, votes, why-not)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from dashboards.deps import (
    ChangeNumberPath,
    ConfigDep,
    PageQuery,
    SessionDep,
    StateDep,
    parse_as_of_param,
    templates,
)
from dashboards.routes.queue import queue_cache
from reviewbot.config import Config
from reviewbot.numbers import CHANGE_NUMBER_MAX, ascii_int
from reviewbot.store.change_reads import UNEVALUATED, account_ids, list_changes
from reviewbot.timeline.roster import load_roster
from reviewbot.views.answers.change import ChangeListOut, ChangeOut
from reviewbot.views.change_view import ChangeNotStored, UnknownReviewer, change_answer

router = APIRouter()

STATES = ("priority", "exempt", "open", "gated", "wip", "closed", "untracked", UNEVALUATED)
PAGE_SIZE = 50


def _state_param(state: str | None, name: str = "state") -> str | None:
    """`name` is the query parameter as the caller spelled it (the page calls it `gate`)."""
    if state in (None, "", "all"):
        return None
    if state not in STATES:
        raise HTTPException(status_code=422, detail=f"{name}: {state!r} is not one of "
                            f"all, {', '.join(STATES)}")
    return state


def _list_data(session, state: str | None, page: int, app, roster,
               config: Config) -> dict[str, Any]:
    # Not people: the bots, and the bot's own account even when no bot group lists it.
    own = account_ids(session, [app.secrets.gerrit_username] if app.secrets.gerrit_username
                      else [])
    total, rows = list_changes(session, state=state, offset=(page - 1) * PAGE_SIZE,
                               limit=PAGE_SIZE, not_people=frozenset(roster.bots | own),
                               projects=(config.gerrit.projects
                                         if config.deployment.several_teams else None))
    return {"state": state or "all", "total": total, "page": page, "rows": rows}


@router.get("/api/v1/changes", tags=["changes"], response_model=ChangeListOut)
def api_changes(
    session: SessionDep, app: StateDep, config: ConfigDep, state: str | None = None,
    page: PageQuery = 1,
) -> dict[str, Any]:
    """Open changes, latest human activity first (uploads, votes and messages by people,
    never the bots'), optionally only one gate state; among several teams, the team's."""
    roster = load_roster(session, config)
    data = _list_data(session, _state_param(state), page, app, roster, config)
    data["items"] = [
        {"number": r.number, "project": r.project, "branch": r.branch, "subject": r.subject,
         "owner_id": r.owner_id, "gate_state": r.gate_state, "priorities": r.priorities,
         "updated": r.updated.isoformat(),
         "last_human_activity": r.last_human.isoformat()}
        for r in data.pop("rows")
    ]
    return data


@router.get("/changes", response_class=HTMLResponse, include_in_schema=False)
def changes_page(request: Request, session: SessionDep, config: ConfigDep, state: StateDep,
                 gate: str | None = None, page: PageQuery = 1) -> Response:
    roster = load_roster(session, config)
    data = _list_data(session, _state_param(gate, "gate"), page, state, roster, config)
    return templates.TemplateResponse(request, "changes.html", {
        "config": config, "data": data, "states": STATES, "roster": roster,
        "pages": max(1, -(-data["total"] // PAGE_SIZE)),
    })


def change_data(session, config, cache, number: int, reviewer: str | None,
                as_of: str | None) -> ChangeOut:
    """The change as `reviewbot.views.change_view` answers it (the stored present, or as of
    T); HTTPException 404/422 for unknown input."""
    at = parse_as_of_param(as_of) if as_of else None
    try:
        return change_answer(session, config, number, reviewer=reviewer, as_of=at, cache=cache)
    except (ChangeNotStored, UnknownReviewer) as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None


@router.get("/api/v1/changes/{number}", tags=["changes"], response_model=ChangeOut)
def api_change(
    number: ChangeNumberPath, session: SessionDep, config: ConfigDep, state: StateDep,
    request: Request,
    reviewer: Annotated[str | None, Query(description="answer 'why not in this core "
                                                      "reviewer's queue'")] = None,
    as_of: str | None = None,
) -> ChangeOut:
    """One change: priority matches with reasons, gate state with reason, review state, vote
    timeline per patch set, and (with `reviewer`) whether it is in that reviewer's queue and
    if not, why. Without `as_of`: the stored verdict (what the worker keeps up to date);
    with it, the change judged as it stood then. `reviewbot why CHANGE --json` answers the
    same."""
    return change_data(session, config, queue_cache(state, request), number, reviewer, as_of)


@router.get("/changes/{number}", response_class=HTMLResponse, include_in_schema=False)
def change_page(number: str, request: Request, session: SessionDep, config: ConfigDep,
                state: StateDep, reviewer: str | None = None,
                as_of: str | None = None) -> Response:
    # A str, not an int: a typo gets this page's own message (`²` passes isdigit()).
    parsed = ascii_int(number, CHANGE_NUMBER_MAX)
    if not parsed:
        raise HTTPException(status_code=422, detail=f"number: {number!r} is not a change number "
                            f"(1 to {CHANGE_NUMBER_MAX})")
    reviewer = (reviewer or "").strip() or request.cookies.get("reviewbot_reviewer") or None
    data = change_data(session, config, queue_cache(state, request), parsed, reviewer, as_of)
    return templates.TemplateResponse(request, "change.html",
                                      {"config": config, "c": data.json_data()})
