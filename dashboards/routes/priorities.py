"""Web: the PTL report — /priorities page with burn-up charts, Markdown/CSV exports, JSON API."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from markupsafe import Markup, escape

from dashboards.deps import ConfigDep, SessionDep, parse_as_of_param, templates
from reviewbot.report import STATE_LABELS, STATES, PriorityReport, Report
from reviewbot.report_render import render_csv, render_markdown, report_json
from reviewbot.reporting import report_as_of

router = APIRouter()

AS_OF_HELP = "2017-02-22 (00:00 UTC) or 2017-02-22T12:00:00Z; default now"


# Chart geometry (SVG user units).
_W, _H = 560, 200
_LEFT, _RIGHT, _TOP, _BOTTOM = 36, 12, 28, 24


def burnup_svg(p: PriorityReport, report: Report) -> Markup:
    """Merged vs total changes per day over the whole cycle, with milestone and freeze lines.

    The x axis spans the full cycle so the remaining time is visible; lines stop at T.
    """
    start, end = report.cycle_start, report.cycle_end
    span = max(1, (end - start).days)
    top = max([pt.total for pt in p.burnup] + [1])
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def x(day: date) -> float:
        return _LEFT + plot_w * min(max((day - start).days, 0), span) / span

    def y(value: int) -> float:
        return _TOP + plot_h * (1 - value / top)

    def line(values: list[tuple[date, int]]) -> str:
        return " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in values)

    title = f"{p.title}: {p.merged} merged of {p.merged + p.open + p.abandoned} changes"
    parts = [
        f'<svg class="burnup" viewBox="0 0 {_W} {_H}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line x1="{_LEFT}" y1="{y(0):.1f}" x2="{_W - _RIGHT}" y2="{y(0):.1f}" '
        'stroke="#999"/>',
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{y(0):.1f}" stroke="#999"/>',
        f'<text x="{_LEFT - 4}" y="{_TOP + 4}" text-anchor="end" font-size="10">{top}</text>',
        f'<text x="{_LEFT - 4}" y="{y(0):.1f}" text-anchor="end" font-size="10">0</text>',
        f'<text x="{_LEFT}" y="{_H - 6}" font-size="10">{start}</text>',
        f'<text x="{_W - _RIGHT}" y="{_H - 6}" text-anchor="end" font-size="10">{end}</text>',
    ]
    marks = sorted(report.milestones.items(), key=lambda kv: kv[1])
    if report.feature_freeze:
        marks.append(("Feature freeze", report.feature_freeze))
    for i, (name, day) in enumerate(marks):
        if not start <= day <= end:
            continue
        colour = "#c0392b" if name == "Feature freeze" else "#7f8c8d"
        label_y = 10 + 9 * (i % 2)  # alternate rows so close dates stay readable
        parts.append(
            f'<line class="milestone" x1="{x(day):.1f}" y1="{_TOP - 6}" x2="{x(day):.1f}" '
            f'y2="{y(0):.1f}" stroke="{colour}" stroke-dasharray="3,3"/>'
            f'<text x="{x(day):.1f}" y="{label_y}" text-anchor="middle" font-size="9" '
            f'fill="{colour}">{escape(name)} {day:%b %d}</text>'
        )
    today = report.as_of.date()
    if start <= today <= end:  # where the lines stop: "now" (or the as-of date)
        parts.append(
            f'<line class="as-of" x1="{x(today):.1f}" y1="{_TOP - 2}" x2="{x(today):.1f}" '
            f'y2="{y(0):.1f}" stroke="#1f3a5f" stroke-width="0.6"/>'
            f'<text x="{x(today) + 3:.1f}" y="{_TOP + 22}" font-size="9" '
            f'fill="#1f3a5f">as of {today:%b %d}</text>'
        )
    if p.burnup:
        total = [(pt.day, pt.total) for pt in p.burnup]
        merged = [(pt.day, pt.merged) for pt in p.burnup]
        parts.append(f'<polyline class="total" fill="none" stroke="#1f3a5f" stroke-width="2" '
                     f'points="{line(total)}"/>')
        parts.append(f'<polyline class="merged" fill="none" stroke="#27ae60" stroke-width="2" '
                     f'points="{line(merged)}"/>')
    parts.append(
        f'<text x="{_LEFT + 6}" y="{_TOP + 10}" font-size="10" fill="#1f3a5f">total</text>'
        f'<text x="{_LEFT + 40}" y="{_TOP + 10}" font-size="10" fill="#27ae60">merged</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


@router.get("/priorities", response_class=HTMLResponse, include_in_schema=False)
def priorities_page(
    request: Request, config: ConfigDep, session: SessionDep,
    as_of: str | None = Query(default=None, description=AS_OF_HELP),
) -> HTMLResponse:
    when = parse_as_of_param(as_of)
    report = report_as_of(session, config, when)
    query = f"?as_of={as_of}" if as_of else ""
    return templates.TemplateResponse(
        request,
        "priorities.html",
        {
            "config": config,
            "report": report,
            "charts": {p.id: burnup_svg(p, report) for p in report.priorities},
            "states": STATES,
            "state_labels": STATE_LABELS,
            "query": query,
            "as_of_text": report.as_of.strftime("%Y-%m-%d %H:%M UTC"),
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


@router.get("/api/v1/report", summary="PTL priorities report as of a date")
def report_api(
    config: ConfigDep, session: SessionDep,
    as_of: str | None = Query(default=None, description=AS_OF_HELP),
) -> dict:
    return report_json(report_as_of(session, config, parse_as_of_param(as_of)))
