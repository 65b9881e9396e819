"""Web: the promotion backtest: where the leaderboard ranked people before they became core."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from dashboards.charts import rank_chart
from dashboards.deps import ConfigDep, SessionDep, templates
from reviewbot.clock import parse_as_of
from reviewbot.views.answers.standing import BacktestOut
from reviewbot.views.backtest import Backtest, run_backtest

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


@router.get("/api/v1/backtest", tags=["reviewers"], response_model=BacktestOut)
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
