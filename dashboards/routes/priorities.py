"""Web: the PTL report — /priorities page with burn-up charts, Markdown/CSV exports, JSON API."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from dashboards.charts import (
    FORECAST_WEEKS,
    burnup_chart,
    merge_bars,
    merge_forecast,
    summary_row,
)
from dashboards.deps import ConfigDep, SessionDep, parse_as_of_param, templates
from dashboards.trend_charts import trend_context
from reviewbot.answers import ReportOut
from reviewbot.report import STATE_LABELS, STATES
from reviewbot.report_render import render_csv, render_markdown, report_json
from reviewbot.reporting import report_as_of
from reviewbot.rules.freeze import notice_at as freeze_notice_at
from reviewbot.store.verdicts import priorities_matching_nothing

router = APIRouter()

AS_OF_HELP = "2017-02-22 (00:00 UTC) or 2017-02-22T12:00:00Z; default now"


@router.get("/priorities", response_class=HTMLResponse, include_in_schema=False)
def priorities_page(
    request: Request, config: ConfigDep, session: SessionDep,
    as_of: str | None = Query(default=None, description=AS_OF_HELP),
) -> HTMLResponse:
    when = parse_as_of_param(as_of)
    report = report_as_of(session, config, when)
    unmatched = set(priorities_matching_nothing(session, [p.id for p in config.priorities]))
    query = f"?as_of={as_of}" if as_of else ""
    forecasts = {p.id: merge_forecast(p.burnup, report.as_of.date(), report.feature_freeze,
                                      p.open) for p in report.priorities}
    return templates.TemplateResponse(
        request,
        "priorities.html",
        {
            "config": config,
            "report": report,
            "summary": [summary_row(p, forecasts[p.id], p.id in unmatched)
                        for p in report.priorities],
            "unmatched": unmatched,
            "forecasts": forecasts,
            "forecast_weeks": FORECAST_WEEKS,
            "charts": {p.id: burnup_chart(p, report, forecasts[p.id])
                       for p in report.priorities},
            "bars": {p.id: merge_bars(p.title, p.merges_per_week) for p in report.priorities},
            "states": STATES,
            "state_labels": STATE_LABELS,
            "query": query,
            "as_of_text": report.as_of.strftime("%Y-%m-%d %H:%M UTC"),
            "freeze_notice": freeze_notice_at(config, when),
            **trend_context(request, session, when if as_of else None, when),
        },
    )


@router.get("/report.md", response_class=PlainTextResponse, summary="PTL report as Markdown")
def report_markdown(
    config: ConfigDep, session: SessionDep,
    as_of: str | None = Query(default=None, description=AS_OF_HELP),
) -> Response:
    report = report_as_of(session, config, parse_as_of_param(as_of))
    return Response(render_markdown(report, config.gerrit_web_base),
                    media_type="text/markdown; charset=utf-8")


@router.get("/report.csv", summary="PTL report: one row per change")
def report_csv(
    config: ConfigDep, session: SessionDep,
    as_of: str | None = Query(default=None, description=AS_OF_HELP),
) -> Response:
    report = report_as_of(session, config, parse_as_of_param(as_of))
    filename = f"reviewbot-{config.cycle.name}-{report.as_of:%Y%m%d}.csv"
    return Response(
        render_csv(report), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/api/v1/report", summary="PTL priorities report as of a date",
            response_model=ReportOut)
def report_api(
    config: ConfigDep, session: SessionDep,
    as_of: str | None = Query(default=None, description=AS_OF_HELP),
) -> dict:
    return report_json(report_as_of(session, config, parse_as_of_param(as_of)))
