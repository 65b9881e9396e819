"""Web: trend charts — queue size and gate/core latency per cycle week as SVG line charts
(geometry here, pure; markup in templates/_trends.html, no JavaScript), and a per-store cache
so /priorities, /reviewers and /metrics do not replay the cycle on every request.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from reviewbot.config import Config
from reviewbot.store.queue_reads import StoreGeneration
from reviewbot.views.trends import TRENDS_KEY, TrendWeek, cycle_trends, stored_trends, trend_hour

# Same frame as the burn-up charts (dashboards/charts.py) so the pages line up.
_W, _H = 560, 170
_LEFT, _RIGHT, _TOP, _BOTTOM = 36, 12, 26, 24
COLOURS = ("#1f3a5f", "#27ae60", "#c0392b")


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str  # the point's tooltip


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    points: tuple[Point, ...]

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class TrendChart:
    title: str
    unit: str
    width: int
    height: int
    left: float
    right: float
    top: float
    base: float
    top_value: str
    first_label: str
    last_label: str
    series: tuple[Series, ...]


def trend_chart(title: str, unit: str, weeks: Sequence[TrendWeek],
                columns: Sequence[tuple[str, str]]) -> TrendChart:
    """One line per (name, TrendWeek attribute); weeks with no value leave a gap in the
    points (a week nobody got the vote in has no latency, not a zero one)."""
    values = [[getattr(w, attr) for w in weeks] for _name, attr in columns]
    highest = max([v for vs in values for v in vs if v is not None] + [1])
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    step = plot_w / max(1, len(weeks) - 1)
    series = []
    for (name, _attr), vs, colour in zip(columns, values, COLOURS, strict=False):
        points = tuple(
            Point(_LEFT + i * step, _TOP + plot_h - plot_h * v / highest,
                  f"week of {weeks[i].week_start}: {name} {_fmt(v)}{unit}")
            for i, v in enumerate(vs) if v is not None)
        series.append(Series(name, colour, points))
    return TrendChart(title, unit, _W, _H, _LEFT, _W - _RIGHT, _TOP, _TOP + plot_h,
                      _fmt(highest), f"week of {weeks[0].week_start:%b %d}" if weeks else "",
                      f"week of {weeks[-1].week_start:%b %d}" if weeks else "", tuple(series))


def _fmt(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def trend_charts(weeks: Sequence[TrendWeek]) -> list[TrendChart]:
    """The two charts every page shows: queue size, and the two latencies in days."""
    if not weeks:
        return []
    return [
        trend_chart("Core queue size at each week's end (open, waiting on reviewers)", "",
                    weeks, [("queue size", "queue_size")]),
        trend_chart("Median days from upload, by week created", " d", weeks,
                    [("to first non-core +1 (gate)", "gate_latency_days"),
                     ("to first core review", "core_latency_days")]),
    ]


def trend_time(as_of: datetime | None, now: datetime) -> datetime:
    """The present's trends are as of the current hour's start: reproducible, and one
    computation per hour (the worker's `trends` step stores it)."""
    return as_of if as_of is not None else trend_hour(now)


class TrendCache:
    """The cycle's trend weeks of one store and config, per (store generation, time)."""

    def __init__(self, engine, config: Config):
        self.config = config
        self._lock = threading.Lock()
        self._generation = StoreGeneration(engine)
        self._cached: dict[tuple, list[TrendWeek]] = {}

    def weeks(self, session: Session, at: datetime) -> list[TrendWeek]:
        with self._lock:
            generation = self._generation.read(session)
            key = (generation, at)
            if generation is not None and key in self._cached:
                return self._cached[key]
            weeks = cycle_trends(session, self.config, at)
            if generation is not None:
                if len(self._cached) >= 8:
                    self._cached.clear()
                self._cached[key] = weeks
            return weeks


def trend_cache(request) -> TrendCache:
    """The app's TrendCache of the request's team, made on first use."""
    from dashboards.deps import per_team

    engine = request.app.state.reviewbot.engine
    return per_team(request, "trend_cache", lambda config: TrendCache(engine, config))


def trend_context(request, session: Session, as_of: datetime | None,
                  now: datetime) -> dict:
    """What a page passes to `_trends.html`'s `trends_section`: the weeks and their charts.
    The present is the worker's stored copy when it has one (no replay in a request);
    a past date, or a store no worker has run on, is replayed (cached per generation)."""
    from dashboards.deps import request_config

    key = request_config(request).state_key(TRENDS_KEY)  # the request's team's copy
    held = stored_trends(session, key) if as_of is None else None
    if held is not None:
        at, weeks = held
    else:
        at = trend_time(as_of, now)
        weeks = trend_cache(request).weeks(session, at)
    return {"trends": weeks, "trend_charts": trend_charts(weeks),
            "trends_as_of": at.strftime("%Y-%m-%d %H:%M UTC")}
