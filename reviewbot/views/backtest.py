"""Backtest: would the leaderboard's default order have found the people the team made core?

DESIGN "Backtest": a promotion is a `[[core_history]]` entry's `joined` date J
(or the date the core group's audit log added the account). For each promotion
of P with J inside the store's history: T = J - lead days; the pool is every
account not core at T, not a bot, with at least one review in the window
[T - window, T]; P's rank = 1 + the pool accounts strictly ahead of P in the
leaderboard's default order as of T (P not in the pool: no rank). Summary:
the share of promotions ranked within the top K, and the mean reciprocal rank
(no rank counts 0). It reads only the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from reviewbot.config import Config
from reviewbot.metrics.readiness import DEFAULT_SORT
from reviewbot.store.review_reads import history_span
from reviewbot.timeline.people import Roster
from reviewbot.timeline.promotions import Promotion, promotions_of
from reviewbot.timeline.roster import load_roster
from reviewbot.views.standing_view import (
    ReviewerReport,
    leaderboard,
    readiness_order,
    review_scope,
    reviewer_report,
)

# P's figures shown next to the rank (from the leaderboard row as of T).
KEY_FIGURES = ("readiness", "reviews", "judged_reviews", "weeks_active",
               "disagreement_ratio", "minus1_catch_rate")


@dataclass
class PromotionRank:
    username: str
    account_id: int
    joined: datetime
    as_of: datetime
    pool: int
    rank: int | None
    source: str  # "core_history" | "audit log"
    figures: dict[str, Any] = field(default_factory=dict[str, Any])
    criteria_met: int | None = None
    note: str = ""  # why there is no rank

    def as_json(self) -> dict[str, Any]:
        return {"username": self.username, "joined": self.joined.date().isoformat(),
                "as_of": self.as_of.isoformat(), "pool": self.pool, "rank": self.rank,
                "source": self.source, **self.figures, "criteria_met": self.criteria_met,
                "note": self.note}


@dataclass
class Summary:
    top: int
    hits: int
    promotions: int
    share: float | None
    mrr: float | None

    def as_json(self) -> dict[str, Any]:
        return {"top": self.top, "hits": self.hits, "promotions": self.promotions,
                "share": self.share, "mrr": self.mrr}


@dataclass
class Backtest:
    rows: list[PromotionRank]
    summary: Summary
    lead_days: int
    window_days: int
    history: tuple[datetime, datetime] | None  # the store's first and last review event

    def as_json(self) -> dict[str, Any]:
        return {"promotions": [r.as_json() for r in self.rows],
                "summary": self.summary.as_json()}


def rank_in_pool(pool: Sequence[tuple[Any, ...]], account_id: int) -> tuple[int, int | None]:
    """(pool size, P's rank or None) in a pool already in the default order (rows
    starting with the account id)."""
    for i, row in enumerate(pool):
        if row[0] == account_id:
            return len(pool), i + 1  # the order is total: i rows are strictly ahead
    return len(pool), None


def _why_unranked(rank: int | None, pool: int, roster: Roster, p: Promotion,
                  as_of: datetime, span: tuple[datetime, datetime] | None) -> str:
    if rank is not None:
        return ""
    if roster.is_core(p.account_id, as_of):
        return "already core then"
    if pool == 0 and span is not None and span[0] > as_of:
        return f"nothing to rank yet: the store's history starts {span[0]:%Y-%m-%d}"
    return "no review in the window"


def summarise(rows: Sequence[PromotionRank], top: int) -> Summary:
    hits = sum(1 for r in rows if r.rank is not None and r.rank <= top)
    n = len(rows)
    mrr = sum(1 / r.rank for r in rows if r.rank) / n if n else None
    return Summary(top, hits, n, hits / n if n else None,
                   round(mrr, 4) if mrr is not None else None)


def run_backtest(session: Session, config: Config, *, lead_days: int = 90,
                 window_days: int = 180, top: int = 5, start: datetime | None = None,
                 end: datetime | None = None, sort: str = DEFAULT_SORT) -> Backtest:
    """Every promotion with J inside the store's history (and in [start, end] when
    given), ranked on the leaderboard as of J - lead days (in the default order; `sort`
    lets a benchmark compare another column's order on the same promotions)."""
    roster = load_roster(session, config)
    in_config = {account for e in config.core_history
                 if (account := roster.account_by_username(e.username)) is not None}
    span = history_span(session, review_scope(config))
    chosen: list[Promotion] = []
    if span is not None:
        first, last = span
        chosen = [p for p in promotions_of(roster, in_config)
                  if first <= p.joined <= last
                  and (start is None or p.joined >= start) and (end is None or p.joined <= end)]
    rows = []
    for p in chosen:
        as_of = p.joined - timedelta(days=lead_days)
        pool_rows: Sequence[tuple[Any, ...]]  # rows starting with the account id
        if sort == DEFAULT_SORT:
            pool_rows = readiness_order(session, config, as_of=as_of,
                                        window_days=window_days)
        else:
            pool_rows = [(r.standing.account_id,) for r in leaderboard(
                session, config, as_of=as_of, window_days=window_days, sort=sort)
                if r.standing.metrics["reviews"]]
        pool, rank = rank_in_pool(pool_rows, p.account_id)
        mine: ReviewerReport | None = None
        if rank is not None:
            mine = reviewer_report(session, config, p.account_id, as_of=as_of,
                                   window_days=window_days)
        rows.append(PromotionRank(
            p.username, p.account_id, p.joined, as_of, pool, rank, p.source,
            {k: mine.standing.metrics[k] if mine else None for k in KEY_FIGURES},
            mine.met if mine else None, _why_unranked(rank, pool, roster, p, as_of, span)))
    return Backtest(rows, summarise(rows, top), lead_days, window_days, span)
