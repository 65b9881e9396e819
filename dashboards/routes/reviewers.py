"""Web: reviewer standing — the non-core leaderboard and one reviewer's page, HTML and JSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from dashboards.charts import mini_sparkline, sparkline
from dashboards.deps import ConfigDep, SessionDep, parse_as_of_param, templates
from dashboards.trend_charts import trend_context
from reviewbot.config import Config
from reviewbot.metrics.readiness import (
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
from reviewbot.metrics.standing import DEFINITIONS
from reviewbot.store.review_reads import find_account
from reviewbot.views.answers.standing import (
    LeaderboardOut,
    ReviewerDetailOut,
    leaderboard_answer,
    reviewer_detail,
)
from reviewbot.views.standing_view import (
    RATIO_COUNTS,
    ReviewerReport,
    leaderboard,
    reviewer_report,
)

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


def _detail(session, config: Config, username: str, window_days: int | None,
            as_of: str | None) -> tuple[ReviewerReport, dict[str, Any]]:
    account = find_account(session, username)
    if account is None:
        raise HTTPException(status_code=404, detail=f"no account named {username!r}")
    report = reviewer_report(session, config, account, as_of=parse_as_of_param(as_of),
                             window_days=window_days)
    return report, reviewer_detail(session, config, report)


@router.get("/api/v1/reviewers", tags=["reviewers"], response_model=LeaderboardOut)
def api_reviewers(session: SessionDep, config: ConfigDep, window_days: WindowQuery = None,
                  as_of: AsOfQuery = None, include_core: bool = False,
                  sort: SortQuery = DEFAULT_SORT) -> dict[str, Any]:
    """Non-core reviewers active in the window, most ready for core first (or by `sort`)."""
    when = parse_as_of_param(as_of)
    rows = _board(session, config, when, window_days, include_core, sort)
    return leaderboard_answer(rows, config, when, window_days, sort)


@router.get("/api/v1/reviewers/{username}", tags=["reviewers"],
            response_model=ReviewerDetailOut)
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
