"""Views: the answers about reviewers — one reviewer's standing and every review
counted, the leaderboard, the backtest of its order — and their builders."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from reviewbot.views.answers import Answer, Number, change_link

if TYPE_CHECKING:
    from reviewbot.config import Config


# --- standing ---------------------------------------------------------------------------


class RatioCountOut(Answer):
    value: Number
    count: int | None
    of: str


class CriterionOut(Answer):
    criterion: str
    metric: str
    label: str
    value: Number
    target: int | float
    met: bool
    progress: float
    evidence: int | None
    evidence_needed: int
    enough_evidence: bool
    missing: int
    status: str


class StandingOut(Answer):
    """A reviewer's figures over the window and the progress toward each core criterion."""

    username: str
    account_id: int
    core: bool | None
    as_of: str
    window_start: str
    metrics: dict[str, Number]
    ratio_counts: dict[str, RatioCountOut]
    window_weekly: list[int]
    criteria: list[CriterionOut]
    criteria_met: int
    criteria_total: int
    warnings: list[str]
    judgements: Literal["stored", "replayed", "mixed"]


class VerdictRefOut(Answer):
    by: str
    value: int
    date: str
    link: str


class ReviewOut(Answer):
    change: int
    patch_set: int
    project: str
    owner: str
    value: int
    date: str
    link: str
    core_at_time: bool
    priority: bool
    judged: bool
    disagrees: bool
    verdict: VerdictRefOut | None
    caught: bool | None
    thoughtful: bool | None
    gate_open: bool
    gate_open_confirmed: bool
    first_crack: bool
    quick_large_plus1: bool


class CommentOut(Answer):
    change: int
    patch_set: int | None
    date: str
    message_id: str


class ReviewerDetailOut(StandingOut):
    """`reviewbot standing USER` and /api/v1/reviewers/USER: the standing with every review
    counted, the learning feed and the figures' definitions."""

    definitions: dict[str, str]
    weekly_reviews: list[int]
    reviews: list[ReviewOut]
    learning_feed: list[ReviewOut]
    comments_only: list[CommentOut]


class LeaderboardOut(Answer):
    """Non-core reviewers active in the window, most ready for core first (or by `sort`)."""

    as_of: str
    window_days: int
    sort: str
    min_evidence: int
    reviewers: list[StandingOut]


# --- backtest -----------------------------------------------------------------------------


class PromotionOut(Answer):
    """One promotion: where the promoted person ranked `lead_days` before it, with their
    key figures then (the leaderboard row's)."""

    username: str
    joined: str
    as_of: str
    pool: int
    rank: int | None
    source: str
    readiness: Number = None
    reviews: int | None = None
    judged_reviews: int | None = None
    weeks_active: int | None = None
    disagreement_ratio: Number = None
    minus1_catch_rate: Number = None
    criteria_met: int | None
    note: str


class BacktestSummaryOut(Answer):
    top: int
    hits: int
    promotions: int
    share: float | None
    mrr: float | None


class BacktestOut(Answer):
    promotions: list[PromotionOut]
    summary: BacktestSummaryOut


def _review(config: Config, r: Any, usernames: dict[int, str]) -> dict[str, Any]:
    v = r.verdict
    return {
        "change": r.change_number, "patch_set": r.patch_set, "project": r.project,
        "owner": usernames.get(r.owner_id, f"#{r.owner_id}"), "value": r.value,
        "date": r.date.isoformat(),
        "link": change_link(config, r.project, r.change_number, r.patch_set, r.message_id),
        "core_at_time": r.core_at_time, "priority": r.priority, "judged": r.judged,
        "disagrees": r.disagrees,
        "verdict": None if v is None else {
            "by": usernames.get(v.account_id, f"#{v.account_id}"), "value": v.value,
            "date": v.date.isoformat(),
            "link": change_link(config, r.project, r.change_number, r.patch_set, v.message_id),
        },
        "caught": r.caught if r.value == -1 else None,
        "thoughtful": r.thoughtful if r.value == -1 else None,
        "gate_open": r.gate_open, "gate_open_confirmed": r.gate_open_confirmed,
        "first_crack": r.first_crack, "quick_large_plus1": r.quick_large_plus1,
    }


def reviewer_detail(session: Any, config: Config, report: Any) -> dict[str, Any]:
    """A ReviewerReport (reviewbot.views.standing_view) with every review counted, named."""
    from reviewbot.metrics.standing import DEFINITIONS
    from reviewbot.store.review_reads import usernames_of

    s = report.standing
    ids = {r.owner_id for r in s.reviews} | {r.verdict.account_id for r in s.reviews
                                             if r.verdict is not None}
    names = usernames_of(session, ids)
    data: dict[str, Any] = report.as_json()
    data["definitions"] = DEFINITIONS
    data["weekly_reviews"] = s.weekly
    data["reviews"] = [_review(config, r, names) for r in s.reviews]
    data["learning_feed"] = [_review(config, r, names) for r in s.feed]
    data["comments_only"] = [
        {"change": c.change_number, "patch_set": c.patch_set, "date": c.date.isoformat(),
         "message_id": c.message_id}
        for c in s.comments
    ]
    return data


def leaderboard_answer(rows: list[Any], config: Config, as_of: datetime,
                       window_days: int | None, sort: str) -> dict[str, Any]:
    """The leaderboard in the LeaderboardOut shape."""
    return {
        "as_of": as_of.isoformat(), "window_days": window_days or config.standing.window_days,
        "sort": sort, "min_evidence": config.standing.min_evidence,
        "reviewers": [r.as_json() for r in rows]}
