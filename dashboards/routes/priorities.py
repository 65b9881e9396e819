"""Web: the PTL report — /priorities page with burn-up charts, Markdown/CSV exports, JSON API."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request
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
from reviewbot.clock import utcnow
from reviewbot.config import Config
from reviewbot.metrics.report import STATE_LABELS, STATES, Report
from reviewbot.rules.freeze import notice_at as freeze_notice_at
from reviewbot.store.verdicts import priorities_matching_nothing
from reviewbot.views.answers.report import ReportOut
from reviewbot.views.cycles import ReportCycle, UnknownCycle, report_cycle
from reviewbot.views.report_render import render_csv, render_markdown, report_json
from reviewbot.views.reporting import report_as_of

router = APIRouter()

AS_OF_HELP = "2017-02-22 (00:00 UTC) or 2017-02-22T12:00:00Z; default now"
CYCLE_HELP = ("a past cycle archived by `reviewbot cycle-start` (default: the present cycle); "
              "shown as of its end unless as_of is given")


def _report(session, config: Config, as_of: str | None, cycle: str | None
            ) -> tuple[Report, ReportCycle]:
    """The report of the asked cycle (a 404 naming the known cycles when there is none)."""
    asked = parse_as_of_param(as_of) if as_of else None
    try:
        chosen = report_cycle(session, config, cycle or None)
    except UnknownCycle as exc:
        raise HTTPException(status_code=404, detail=f"cycle: {exc}") from None
    return report_as_of(session, chosen.config, chosen.as_of(asked, utcnow()),
                        past_cycle=chosen.past), chosen


def _query(as_of: str | None, cycle: str | None) -> str:
    from urllib.parse import urlencode

    params = {k: v for k, v in (("cycle", cycle), ("as_of", as_of)) if v}
    return f"?{urlencode(params)}" if params else ""


@router.get("/priorities", response_class=HTMLResponse, include_in_schema=False)
def priorities_page(
    request: Request, config: ConfigDep, session: SessionDep,
    as_of: str | None = Query(default=None, description=AS_OF_HELP),
    cycle: str | None = Query(default=None, description=CYCLE_HELP),
) -> HTMLResponse:
    report, chosen = _report(session, config, as_of, cycle)
    when = report.as_of
    # "matches no change" reads the stored verdicts: the present cycle's only.
    unmatched = (set() if chosen.past else
                 set(priorities_matching_nothing(session, [p.id for p in config.priorities])))
    query = _query(as_of, cycle if chosen.past else None)
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
            "freeze_notice": None if chosen.past else freeze_notice_at(config, when),
            "cycles": chosen.names,
            "past_cycle": chosen.past,
            "present_cycle": config.cycle.name,
            **(trend_context(request, session, when if as_of else None, when)
               if not chosen.past else {"trends": [], "trend_charts": [], "trends_as_of": ""}),
        },
    )


@router.get("/report.md", response_class=PlainTextResponse, summary="PTL report as Markdown")
def report_markdown(
    config: ConfigDep, session: SessionDep,
    as_of: str | None = Query(default=None, description=AS_OF_HELP),
    cycle: str | None = Query(default=None, description=CYCLE_HELP),
) -> Response:
    report, _chosen = _report(session, config, as_of, cycle)
    return Response(render_markdown(report, config.gerrit_web_base),
                    media_type="text/markdown; charset=utf-8")


@router.get("/report.csv", summary="PTL report: one row per change")
def report_csv(
    config: ConfigDep, session: SessionDep,
    as_of: str | None = Query(default=None, description=AS_OF_HELP),
    cycle: str | None = Query(default=None, description=CYCLE_HELP),
) -> Response:
    report, _chosen = _report(session, config, as_of, cycle)
    filename = f"reviewbot-{report.cycle}-{report.as_of:%Y%m%d}.csv"
    return Response(
        render_csv(report), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/api/v1/report", summary="PTL priorities report as of a date",
            response_model=ReportOut)
def report_api(
    config: ConfigDep, session: SessionDep,
    as_of: str | None = Query(default=None, description=AS_OF_HELP),
    cycle: str | None = Query(default=None, description=CYCLE_HELP),
) -> dict:
    return report_json(_report(session, config, as_of, cycle)[0])
