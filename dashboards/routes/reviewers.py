"""Web: reviewer standing — the non-core leaderboard and one reviewer's page, HTML and JSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from dashboards.deps import ConfigDep, SessionDep, parse_as_of_param, templates
from dashboards.trend_charts import trend_context
from reviewbot.config import Config
from reviewbot.readiness import (
    DEFAULT_SORT,
    QUALITY_FLOOR,
    QUALITY_SPAN,
    SORT_KEYS,
    UnknownSortKey,
    activity,
    quality_factor,
    readiness,
    wilson_lower_bound,
)
from reviewbot.standing import DEFINITIONS, Review
from reviewbot.standing_view import (
    RATIO_COUNTS,
    ReviewerReport,
    leaderboard,
    reviewer_report,
)
from reviewbot.store.review_reads import find_account, usernames_of

router = APIRouter()

WINDOW_CHOICES = (30, 90, 180, 365)
WindowQuery = Annotated[int | None, Query(ge=1, le=3650, description="window in days")]
AsOfQuery = Annotated[str | None, Query(description="2017-02-22 or 2017-02-22T12:00:00Z")]
SortQuery = Annotated[str, Query(description="column to sort by, best first: "
                                 + ", ".join(SORT_KEYS))]


def _board(session, config: Config, when, days: int | None,
           include_core: bool, sort: str) -> list[ReviewerReport]:
    """The leaderboard, or a 422 naming the valid sort keys."""
    try:
        return leaderboard(session, config, as_of=when, window_days=days,
                           include_core=include_core, sort=sort)
    except UnknownSortKey as exc:
        raise HTTPException(status_code=422, detail=f"sort: {exc}") from None


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


def _detail(session, config: Config, username: str, window_days: int | None,
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


def mini_sparkline(weekly: list[int], width: int = 52, height: int = 16) -> dict[str, Any]:
    """A row's per-week bars, scaled to that row's busiest week."""
    return sparkline(weekly, width=width, height=height)


@router.get("/api/v1/reviewers", tags=["reviewers"])
def api_reviewers(session: SessionDep, config: ConfigDep, window_days: WindowQuery = None,
                  as_of: AsOfQuery = None, include_core: bool = False,
                  sort: SortQuery = DEFAULT_SORT) -> dict[str, Any]:
    """Non-core reviewers active in the window, most ready for core first (or by `sort`)."""
    when = parse_as_of_param(as_of)
    rows = _board(session, config, when, window_days, include_core, sort)
    return {"as_of": when.isoformat(),
            "window_days": window_days or config.standing.window_days,
            "sort": sort, "min_evidence": config.standing.min_evidence,
            "reviewers": [r.as_json() for r in rows]}


@router.get("/api/v1/reviewers/{username}", tags=["reviewers"])
def api_reviewer(username: str, session: SessionDep, config: ConfigDep,
                 window_days: WindowQuery = None, as_of: AsOfQuery = None) -> dict[str, Any]:
    """One reviewer's metrics, criteria progress, learning feed and the counted reviews."""
    return _detail(session, config, username, window_days, as_of)[1]


@router.get("/reviewers", response_class=HTMLResponse, include_in_schema=False)
def reviewers_page(request: Request, session: SessionDep, config: ConfigDep,
                   window_days: WindowQuery = None, as_of: AsOfQuery = None,
                   sort: SortQuery = DEFAULT_SORT) -> HTMLResponse:
    when = parse_as_of_param(as_of)
    days = window_days or config.standing.window_days
    rows = _board(session, config, when, days, False, sort)
    criteria_total = len(config.standing.criteria.model_dump(exclude_none=True))
    return templates.TemplateResponse(request, "reviewers.html", {
        "config": config, "rows": rows, "window_days": days, "as_of": when,
        "as_of_param": as_of or "", "choices": sorted({*WINDOW_CHOICES, days}),
        "criteria_total": criteria_total, "sort": sort, "sort_keys": SORT_KEYS,
        "default_sort": DEFAULT_SORT, "min_evidence": config.standing.min_evidence,
        "ratio_counts": RATIO_COUNTS, "spark": mini_sparkline,
        # One read gives every row the same source; an empty board has no figures to source.
        "judgements": rows[0].judgements if rows else None,
        # cycle trends (queue size, gate and core latency): dashboards/trend_charts.py
        **trend_context(request, session, when if as_of else None, when),
    })


def worked_example() -> dict[str, Any]:
    """The "How standing works" page's example, computed by the code it explains."""
    steady = [3, 2, 0, 4, 3, 1, 2, 3, 0, 2, 3, 2]  # 12 weeks, 25 judgeable reviews
    burst = [0] * 11 + [25]
    judged, disagrees = 20, 2
    return {
        "steady": steady, "burst": burst, "judged": judged, "disagrees": disagrees,
        "steady_activity": round(activity(steady), 1),
        "burst_activity": round(activity(burst), 1),
        "lower_bound": round(wilson_lower_bound(judged - disagrees, judged), 2),
        "quality": round(quality_factor(judged, disagrees), 2),
        "no_evidence_quality": round(quality_factor(0, 0), 2),
        "one_review_quality": round(quality_factor(1, 0), 2),
        "steady_readiness": readiness(steady, judged, disagrees),
        "burst_readiness": readiness(burst, judged, disagrees),
        "floor": QUALITY_FLOOR, "top": QUALITY_FLOOR + QUALITY_SPAN,
    }


@router.get("/reviewers/how", response_class=HTMLResponse, include_in_schema=False)
def how_standing_works(request: Request, config: ConfigDep) -> HTMLResponse:
    """Each figure and the leaderboard's order, with a worked example."""
    criteria = config.standing.criteria.model_dump(exclude_none=True)
    return templates.TemplateResponse(request, "reviewers_how.html", {
        "config": config, "definitions": DEFINITIONS, "ex": worked_example(),
        "min_evidence": config.standing.min_evidence, "criteria": criteria,
        "window_days": config.standing.window_days, "sort_keys": SORT_KEYS,
    })


@router.get("/reviewers/{username}", response_class=HTMLResponse, include_in_schema=False)
def reviewer_page(request: Request, username: str, session: SessionDep, config: ConfigDep,
                  window_days: WindowQuery = None, as_of: AsOfQuery = None) -> HTMLResponse:
    report, data = _detail(session, config, username, window_days, as_of)
    days = window_days or config.standing.window_days
    return templates.TemplateResponse(request, "reviewers_detail.html", {
        "config": config, "report": report, "data": data, "definitions": DEFINITIONS,
        "spark": sparkline(report.standing.weekly), "window_days": days,
        "ratio_counts": RATIO_COUNTS, "min_evidence": config.standing.min_evidence,
        "choices": sorted({*WINDOW_CHOICES, days}), "as_of_param": as_of or "",
    })
