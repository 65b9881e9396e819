"""Web: the promotion backtest: where the leaderboard ranked people before they became core."""

from __future__ import annotations

from datetime import datetime
from math import log10
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from dashboards.deps import ConfigDep, SessionDep, templates
from reviewbot.backtest import Backtest, PromotionRank, run_backtest
from reviewbot.clock import parse_as_of

router = APIRouter()

Days = Annotated[int, Query(ge=1, le=3650)]
DateQuery = Annotated[str | None, Query(description="2017-02-22")]


def _date(name: str, value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_as_of(value)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=f"{name}: {exc}") from None


def _run(session, config, lead_days: int, window_days: int, top: int,
         start: str | None, end: str | None) -> Backtest:
    return run_backtest(session, config, lead_days=lead_days, window_days=window_days,
                        top=top, start=_date("from", start), end=_date("to", end))


def rank_chart(rows: list[PromotionRank], top: int, pool_max: int, width: int = 560,
               height: int = 180) -> dict[str, Any]:
    """Points for a server-side SVG: one per promotion, oldest left; rank downwards on a
    log scale (1 at the top), the top-K band shaded, no rank drawn below the axis."""
    left, right, upper, lower = 34, 10, 10, 24
    inner_w, inner_h = width - left - right, height - upper - lower
    deepest = max(pool_max, top, 2)

    def y(rank: int) -> float:
        return round(upper + inner_h * log10(rank) / log10(deepest), 1)

    step = inner_w / max(1, len(rows))
    points = []
    for i, r in enumerate(rows):
        x = round(left + step * (i + 0.5), 1)
        hit = r.rank is not None and r.rank <= top
        points.append({"x": x, "y": y(r.rank) if r.rank else height - lower + 12,
                       "rank": r.rank, "hit": hit, "username": r.username,
                       "joined": r.joined.date().isoformat(), "pool": r.pool})
    ticks = sorted({1, top, deepest} | {t for t in (10, 100, 1000) if t < deepest})
    return {"width": width, "height": height, "left": left, "right": width - right,
            "top_y": upper, "band_y": y(top), "axis_y": height - lower, "points": points,
            "ticks": [{"rank": t, "y": y(t)} for t in ticks]}


@router.get("/api/v1/backtest", tags=["reviewers"])
def api_backtest(session: SessionDep, config: ConfigDep, lead_days: Days = 90,
                 window_days: Days = 180, top: Annotated[int, Query(ge=1, le=1000)] = 5,
                 start: Annotated[str | None, Query(alias="from")] = None,
                 end: Annotated[str | None, Query(alias="to")] = None) -> dict[str, Any]:
    """For each promotion to core: the promoted person's rank on the leaderboard's default
    order `lead_days` before it, and the share found within the top `top`."""
    return _run(session, config, lead_days, window_days, top, start, end).as_json()


@router.get("/backtest", response_class=HTMLResponse, include_in_schema=False)
def backtest_page(request: Request, session: SessionDep, config: ConfigDep,
                  lead_days: Days = 90, window_days: Days = 180,
                  top: Annotated[int, Query(ge=1, le=1000)] = 5,
                  start: Annotated[str | None, Query(alias="from")] = None,
                  end: Annotated[str | None, Query(alias="to")] = None) -> HTMLResponse:
    result = _run(session, config, lead_days, window_days, top, start, end)
    pool_max = max((r.pool for r in result.rows), default=1)
    return templates.TemplateResponse(request, "backtest.html", {
        "config": config, "result": result, "top": top, "lead_days": lead_days,
        "window_days": window_days, "start": start or "", "end": end or "",
        "chart": rank_chart(result.rows, top, pool_max),
    })
