"""Web: chart geometry — the priorities page's burn-up with a forecast to feature freeze,
merges per week as bars and the summary's progress figures; the reviewer sparklines; the
backtest's rank chart. Pure functions over the views' fields; the SVG markup of every
chart is in a template partial (templates/_charts.html, _standing.html,
_backtest_chart.html; the trend lines: trend_charts.py and _trends.html). No JavaScript.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from math import log10
from typing import TYPE_CHECKING, Any

from reviewbot.metrics.report import BurnupPoint, PriorityReport, Report, WeekCount

if TYPE_CHECKING:
    from reviewbot.views.backtest import PromotionRank

# How far back the merge rate of a forecast reads: long enough to smooth one quiet week,
# short enough to reflect the current pace (the PTL's question is "at this pace...").
FORECAST_WEEKS = 4
_WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Forecast:
    """Merged changes expected by feature freeze at the recent merge rate, with a band."""

    weeks: int  # full weeks the rate was read from
    rate: float  # mean merges per week over them
    low_rate: int  # the slowest of those weeks
    high_rate: int  # the fastest
    today: date
    freeze: date
    merged_now: int
    ceiling: int  # merged + open now: the most that can be merged without new changes
    expected: int
    low: int
    high: int


def _merged_by(burnup: Sequence[BurnupPoint], day: date) -> int:
    """Merged changes at the end of `day` (0 before the first point)."""
    merged = 0
    for point in burnup:
        if point.day > day:
            break
        merged = point.merged
    return merged


def merge_forecast(burnup: Sequence[BurnupPoint], today: date, freeze: date | None,
                   open_now: int, weeks: int = FORECAST_WEEKS) -> Forecast | None:
    """The forecast to `freeze` from the last `weeks` full weeks up to `today`.

    None when there is no freeze ahead or not one full week of history yet. The
    band spans the slowest and the fastest single week of the window; every figure
    is capped at what is open now (abandoned changes never merge; new ones are not
    guessed).
    """
    if freeze is None or today >= freeze or not burnup:
        return None
    available = min(weeks, (today - burnup[0].day).days // 7)
    if available < 1:
        return None
    weekly = [_merged_by(burnup, today - k * _WEEK) - _merged_by(burnup, today - (k + 1) * _WEEK)
              for k in range(available)]
    rate = sum(weekly) / available
    merged_now = _merged_by(burnup, today)
    ceiling = merged_now + open_now
    ahead = (freeze - today).days / 7

    def by_freeze(per_week: float) -> int:
        return min(ceiling, merged_now + round(per_week * ahead))

    return Forecast(available, rate, min(weekly), max(weekly), today, freeze, merged_now,
                    ceiling, by_freeze(rate), by_freeze(min(weekly)), by_freeze(max(weekly)))


@dataclass(frozen=True)
class Mark:
    x: float
    label: str
    css: str  # "milestone" or "freeze"
    label_y: float


@dataclass(frozen=True)
class BurnupChart:
    title: str
    width: int
    height: int
    left: float
    right: float  # x of the right edge of the plot
    top: float
    base: float  # y of the zero line
    top_value: int
    start_label: str
    end_label: str
    total_points: str
    merged_points: str
    marks: list[Mark] = field(default_factory=list)
    as_of_x: float | None = None
    as_of_label: str = ""
    forecast: Forecast | None = None
    forecast_line: str = ""  # merged now -> expected at freeze
    forecast_band: str = ""  # polygon: merged now -> high at freeze -> low at freeze


_W, _H = 560, 224
# The top margin holds two rows of milestone labels, then the legend row.
_LEFT, _RIGHT, _TOP, _BOTTOM = 36, 12, 44, 24


def burnup_chart(p: PriorityReport, report: Report, forecast: Forecast | None) -> BurnupChart:
    """Merged vs total per day over the whole cycle (lines stop at the as-of day), milestone
    and freeze lines, and the forecast from the as-of day to feature freeze with its band."""
    start, end = report.cycle_start, report.cycle_end
    span = max(1, (end - start).days)
    highest = max([pt.total for pt in p.burnup] + [forecast.high if forecast else 0, 1])
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def x(day: date) -> float:
        return _LEFT + plot_w * min(max((day - start).days, 0), span) / span

    def y(value: float) -> float:
        return _TOP + plot_h * (1 - value / highest)

    def line(values: list[tuple[date, int]]) -> str:
        return " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in values)

    marks_in = sorted(report.milestones.items(), key=lambda kv: kv[1])
    if report.feature_freeze:
        marks_in.append(("Feature freeze", report.feature_freeze))
    marks = []
    for i, (name, day) in enumerate(marks_in):
        if start <= day <= end:
            css = "freeze" if name == "Feature freeze" else "milestone"
            # Alternate label rows so close dates (O-3 and the freeze) stay readable.
            marks.append(Mark(x(day), f"{name} {day:%b %d}", css, 10 + 9 * (i % 2)))
    today = report.as_of.date()
    total = p.merged + p.open + p.abandoned
    chart = BurnupChart(
        title=f"{p.title}: {p.merged} merged of {total} changes",
        width=_W, height=_H, left=_LEFT, right=_W - _RIGHT, top=_TOP, base=y(0),
        top_value=highest, start_label=str(start), end_label=str(end),
        total_points=line([(pt.day, pt.total) for pt in p.burnup]),
        merged_points=line([(pt.day, pt.merged) for pt in p.burnup]),
        marks=marks,
        as_of_x=x(today) if start <= today <= end else None,
        as_of_label=f"as of {today:%b %d}",
        forecast=forecast,
    )
    if forecast is None:
        return chart
    now_xy = f"{x(forecast.today):.1f},{y(forecast.merged_now):.1f}"
    at = x(forecast.freeze)
    return replace(
        chart, forecast_line=f"{now_xy} {at:.1f},{y(forecast.expected):.1f}",
        forecast_band=f"{now_xy} {at:.1f},{y(forecast.high):.1f} {at:.1f},{y(forecast.low):.1f}")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    week_start: date
    merged: int


@dataclass(frozen=True)
class BarChart:
    title: str
    width: int
    height: int
    left: float
    right: float
    base: float
    top: float
    top_value: int
    bars: list[Bar]
    first_label: str
    last_label: str


_BW, _BH = 560, 110
_BTOP, _BBOTTOM = 14, 20


def merge_bars(title: str, weeks: Sequence[WeekCount]) -> BarChart:
    """One bar per cycle week (oldest first), height = changes merged that week."""
    highest = max([w.merged for w in weeks] + [1])
    plot_w, plot_h = _BW - _LEFT - _RIGHT, _BH - _BTOP - _BBOTTOM
    slot = plot_w / max(1, len(weeks))
    bars = []
    for i, w in enumerate(weeks):
        height = plot_h * w.merged / highest
        bars.append(Bar(_LEFT + i * slot + slot * 0.1, _BTOP + plot_h - height, slot * 0.8,
                        height, w.week_start, w.merged))
    return BarChart(f"{title}: merges per week", _BW, _BH, _LEFT, _BW - _RIGHT, _BTOP + plot_h,
                    _BTOP, highest, bars,
                    f"week of {weeks[0].week_start:%b %d}" if weeks else "",
                    f"week of {weeks[-1].week_start:%b %d}" if weeks else "")


@dataclass(frozen=True)
class PriorityHeadline:
    """One priority in the page's opening table."""

    priority: PriorityReport
    merged: int
    to_do: int  # merged + open: abandoned changes are not work left
    percent: int | None
    oldest_wait_days: float | None
    oldest_wait_change: int | None
    forecast: Forecast | None
    matches_nothing: bool


def summary_row(p: PriorityReport, forecast: Forecast | None,
                matches_nothing: bool) -> PriorityHeadline:
    to_do = p.merged + p.open
    waiting = [r for r in p.changes if r.status == "open" and r.wait_days is not None]
    oldest = max(waiting, key=lambda r: (r.wait_days, -r.number), default=None)
    return PriorityHeadline(
        p, p.merged, to_do, round(100 * p.merged / to_do) if to_do else None,
        oldest.wait_days if oldest else None, oldest.number if oldest else None,
        forecast, matches_nothing)


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
