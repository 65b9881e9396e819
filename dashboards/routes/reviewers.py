"""Web: reviewer standing — the non-core leaderboard and one reviewer's page, HTML and JSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from dashboards.deps import ConfigDep, SessionDep, parse_as_of_param, templates
from reviewbot.config import Config
from reviewbot.standing import DEFINITIONS, Review
from reviewbot.store.review_reads import find_account, usernames_of
from reviewbot.store.standing_reads import ReviewerReport, leaderboard, reviewer_report

router = APIRouter()

WINDOW_CHOICES = (30, 90, 180, 365)
WindowQuery = Annotated[int | None, Query(ge=1, le=3650, description="window in days")]
AsOfQuery = Annotated[str | None, Query(description="2017-02-22 or 2017-02-22T12:00:00Z")]


def change_link(config: Config, project: str, number: int, ps: int | None = None,
                message_id: str | None = None) -> str:
    url = f"{config.gerrit_web_base}/c/{project}/+/{number}"
    if ps is not None:
        url += f"/{ps}"
    if message_id:
        url += f"#message-{message_id}"
    return url


def _review_json(config: Config, report: ReviewerReport, r: Review,
                 usernames: dict[int, str]) -> dict[str, Any]:
    v = r.verdict
    return {
        "change": r.change_number,
        "patch_set": r.patch_set,
        "project": r.project,
        "owner": usernames.get(r.owner_id, f"#{r.owner_id}"),
        "value": r.value,
        "date": r.date.isoformat(),
        "link": change_link(config, r.project, r.change_number, r.patch_set, r.message_id),
        "core_at_time": r.core_at_time,
        "priority": r.priority,
        "judged": r.judged,
        "disagrees": r.disagrees,
        "verdict": None if v is None else {
            "by": usernames.get(v.account_id, f"#{v.account_id}"),
            "value": v.value,
            "date": v.date.isoformat(),
            "link": change_link(config, r.project, r.change_number, r.patch_set,
                                v.message_id),
        },
        "caught": r.caught if r.value == -1 else None,
        "thoughtful": r.thoughtful if r.value == -1 else None,
        "gate_open": r.gate_open,
        "gate_open_confirmed": r.gate_open_confirmed,
        "first_crack": r.first_crack,
        "quick_large_plus1": r.quick_large_plus1,
    }


def _detail(session, config: Config, username: str, window_days: int | None,  # noqa: ANN001
            as_of: str | None) -> tuple[ReviewerReport, dict[str, Any]]:
    account = find_account(session, username)
    if account is None:
        raise HTTPException(status_code=404, detail=f"no account named {username!r}")
    report = reviewer_report(session, config, account, as_of=parse_as_of_param(as_of),
                             window_days=window_days)
    s = report.standing
    ids = {r.owner_id for r in s.reviews} | {r.verdict.account_id for r in s.reviews
                                             if r.verdict is not None}
    names = usernames_of(session, ids)
    data = report.as_json()
    data["definitions"] = DEFINITIONS
    data["weekly_reviews"] = s.weekly
    data["reviews"] = [_review_json(config, report, r, names) for r in s.reviews]
    data["learning_feed"] = [_review_json(config, report, r, names) for r in s.feed]
    data["comments_only"] = [
        {"change": c.change_number, "patch_set": c.patch_set, "date": c.date.isoformat(),
         "message_id": c.message_id}
        for c in s.comments
    ]
    return report, data


def sparkline(weekly: list[int], width: int = 312, height: int = 40) -> dict[str, Any]:
    """Bars for an inline SVG: one per week, scaled to the busiest week."""
    peak = max(weekly) if weekly else 0
    bar = width / max(1, len(weekly))
    bars = []
    for i, n in enumerate(weekly):
        tall = 0 if not peak else max(1.0, height * n / peak) if n else 0
        bars.append({"x": round(i * bar, 2), "y": round(height - tall, 2),
                     "w": round(bar * 0.8, 2), "h": round(tall, 2), "n": n,
                     "weeks_ago": len(weekly) - 1 - i})
    return {"width": width, "height": height, "bars": bars, "peak": peak,
            "total": sum(weekly)}


@router.get("/api/v1/reviewers", tags=["reviewers"])
def api_reviewers(session: SessionDep, config: ConfigDep, window_days: WindowQuery = None,
                  as_of: AsOfQuery = None, include_core: bool = False) -> dict[str, Any]:
    """Non-core reviewers active in the window, sorted by criteria met, then judged reviews."""
    when = parse_as_of_param(as_of)
    rows = leaderboard(session, config, as_of=when, window_days=window_days,
                       include_core=include_core)
    return {"as_of": when.isoformat(),
            "window_days": window_days or config.standing.window_days,
            "reviewers": [r.as_json() for r in rows]}


@router.get("/api/v1/reviewers/{username}", tags=["reviewers"])
def api_reviewer(username: str, session: SessionDep, config: ConfigDep,
                 window_days: WindowQuery = None, as_of: AsOfQuery = None) -> dict[str, Any]:
    """One reviewer's metrics, criteria progress, learning feed and the counted reviews."""
    return _detail(session, config, username, window_days, as_of)[1]


@router.get("/reviewers", response_class=HTMLResponse, include_in_schema=False)
def reviewers_page(request: Request, session: SessionDep, config: ConfigDep,
                   window_days: WindowQuery = None, as_of: AsOfQuery = None) -> HTMLResponse:
    when = parse_as_of_param(as_of)
    days = window_days or config.standing.window_days
    rows = leaderboard(session, config, as_of=when, window_days=days)
    criteria_total = len(config.standing.criteria.model_dump(exclude_none=True))
    return templates.TemplateResponse(request, "reviewers.html", {
        "config": config, "rows": rows, "window_days": days, "as_of": when,
        "as_of_param": as_of or "", "choices": sorted({*WINDOW_CHOICES, days}),
        "criteria_total": criteria_total,
        # One read gives every row the same source; an empty board has no figures to source.
        "judgements": rows[0].judgements if rows else None,
    })


@router.get("/reviewers/{username}", response_class=HTMLResponse, include_in_schema=False)
def reviewer_page(request: Request, username: str, session: SessionDep, config: ConfigDep,
                  window_days: WindowQuery = None, as_of: AsOfQuery = None) -> HTMLResponse:
    report, data = _detail(session, config, username, window_days, as_of)
    days = window_days or config.standing.window_days
    return templates.TemplateResponse(request, "reviewers_detail.html", {
        "config": config, "report": report, "data": data, "definitions": DEFINITIONS,
        "spark": sparkline(report.standing.weekly), "window_days": days,
        "choices": sorted({*WINDOW_CHOICES, days}), "as_of_param": as_of or "",
    })
