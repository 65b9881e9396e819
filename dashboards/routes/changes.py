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
from dashboards.routes.queue import gerrit_change_url, queue_cache, vote_json
from reviewbot.clock import utcnow
from reviewbot.config import Config
from reviewbot.evaluate.verdicts import evaluate_change, judge_at, stored_classes
from reviewbot.numbers import CHANGE_NUMBER_MAX, ascii_int
from reviewbot.rules.ruleset import ruleset_for
from reviewbot.store.change_reads import (
    UNEVALUATED,
    account_ids,
    change_verdict,
    list_changes,
)
from reviewbot.store.queue_reads import find_reviewer
from reviewbot.store.snapshots import load_changes
from reviewbot.timeline.roster import load_roster
from reviewbot.timeline.state import GERRIT_STATUS, state_at
from reviewbot.views.answers import ChangeListOut, ChangeOut, age_text
from reviewbot.views.queue_view import ci_state, why_not_for

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
                as_of: str | None) -> dict[str, Any]:
    """Everything the change page shows, as of T when given (else the stored present), in
    the ChangeOut shape; HTTPException 404/422 for unknown input."""
    at = parse_as_of_param(as_of) if as_of else None
    now = at or utcnow()
    found = load_changes(session, numbers=[number], include_missing=True)
    if not found:
        raise HTTPException(status_code=404, detail=f"change {number} is not in the store "
                            "(not synced, or outside the configured projects)")
    change = found[0]
    roster = load_roster(session, config)
    state = state_at(change, now, roster.username)
    if at is None:
        verdict = change_verdict(session, number)
        gate_state = verdict["gate_state"] if verdict else None
        gate_reason = (verdict["gate_reason"] if verdict
                       else "Not evaluated yet: run `reviewbot evaluate`.")
        matches = verdict["matches"] if verdict else []
        evaluated_at = verdict["evaluated_at"].isoformat() if verdict else None
    else:
        judged = stored_classes(session, [number]).get(number)
        answer = (judge_at(change, judged, ruleset_for(config), roster, at) if judged
                  else evaluate_change(change, config, roster, at))
        gate_state, gate_reason = answer.gate.state, answer.gate.reason
        matches = [{"priority": p.priority_id, "title": p.title, "rank": p.rank,
                    "reasons": list(p.reasons)} for p in answer.priorities]
        evaluated_at = at.isoformat()
    by_ps: dict[int, list[dict[str, Any]]] = {}
    for e in change.vote_events:
        if e.date > now:
            continue
        by_ps.setdefault(e.patch_set, []).append({
            "by": roster.username(e.account_id), "account_id": e.account_id, "label": e.label,
            "value": e.value, "removed": e.removed, "date": e.date.isoformat(),
            "core": roster.is_core(e.account_id, e.date), "bot": roster.is_bot(e.account_id),
        })
    patch_sets = [{
        "number": ps.number, "created": ps.created.isoformat(),
        "uploader": roster.username(ps.uploader_id), "votes": by_ps.get(ps.number, []),
    } for ps in sorted(change.patch_sets, key=lambda p: p.number, reverse=True)
        if ps.created <= now]
    data: dict[str, Any] = {
        "number": change.number, "project": change.project, "branch": change.branch,
        "subject": change.subject, "owner": roster.username(change.owner_id),
        "as_of": at.isoformat() if at else None,
        "status": GERRIT_STATUS[state.status],
        "wip": change.wip, "topic": change.topic,
        "hashtags": list(change.hashtags), "current_patch_set": state.patch_set,
        "age": age_text(state.uploaded, now),
        "ci": ci_state(state.votes),
        "review_state": state.review.state if state.review else None,
        "review_state_label": state.review.label if state.review else None,
        "review_reason": state.review.reason if state.review else None,
        "current_votes": [vote_json(v, roster, now) for v in state.votes],
        "gerrit_url": gerrit_change_url(config, change.project, change.number),
        "gate_state": gate_state,
        "gate_reason": gate_reason,
        "priorities": [
            {"id": m.get("priority"), "title": m.get("title") or m.get("priority"),
             "rank": m.get("rank"), "reasons": list(m.get("reasons") or [])}
            for m in matches
        ],
        "evaluated_at": evaluated_at,
        "patch_sets": patch_sets, "why_not": None, "core_known": roster.core_known,
    }
    if reviewer:
        who = find_reviewer(session, reviewer)
        if who is None:
            raise HTTPException(status_code=404, detail=f"unknown user {reviewer!r}: no Gerrit "
                                "account with that username, email or id has been synced")
        why = why_not_for(session, config, number, who, at, cache=cache)
        data["why_not"] = why.as_json() if why else None
    return data


@router.get("/api/v1/changes/{number}", tags=["changes"], response_model=ChangeOut)
def api_change(
    number: ChangeNumberPath, session: SessionDep, config: ConfigDep, state: StateDep,
    request: Request,
    reviewer: Annotated[str | None, Query(description="answer 'why not in this core "
                                                      "reviewer's queue'")] = None,
    as_of: str | None = None,
) -> dict[str, Any]:
    """One change: priority matches with reasons, gate state with reason, vote timeline per
    patch set, and (with `reviewer`) whether it is in that reviewer's queue and if not, why."""
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
    return templates.TemplateResponse(request, "change.html", {"config": config, "c": data})
