"""Store reads for standing pages: one reviewer's standing and the leaderboard, from the
stored judgements when they are current, else by replaying the votes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlmodel import Session

from reviewbot.config import Config
from reviewbot.criteria import CriterionProgress, criteria_met, evaluate_criteria
from reviewbot.standing import (
    Standing,
    compute_standings,
    history_start,
    standing_of,
    window_start,
)
from reviewbot.store.judgements import (
    count_reviews,
    dominant_owners,
    judgements_current,
    load_reviews,
    reviewed_by,
    updated_since,
)
from reviewbot.store.review_reads import load_comment_messages, load_review_history
from reviewbot.store.snapshots import load_roster
from reviewbot.stored_standing import standing_from_reviews, standings_from_counts


@dataclass
class ReviewerReport:
    """A reviewer's standing with the criteria progress, ready for CLI and pages."""

    username: str
    standing: Standing
    criteria: list[CriterionProgress]
    # "stored": read from the stored judgements; "replayed": judged from the votes now.
    judgements: Literal["stored", "replayed"] = "replayed"

    @property
    def met(self) -> int:
        return criteria_met(self.criteria)

    def as_json(self) -> dict:
        s = self.standing
        return {
            "username": self.username,
            "account_id": s.account_id,
            "core": s.core,
            "as_of": s.as_of.isoformat(),
            "window_start": s.window_start.isoformat(),
            "metrics": dict(s.metrics),
            "criteria": [c.as_dict() for c in self.criteria],
            "criteria_met": self.met,
            "criteria_total": len(self.criteria),
            "warnings": list(s.warnings),
            "judgements": self.judgements,
        }


def reviewer_report(
    session: Session, config: Config, account_id: int, *, as_of: datetime,
    window_days: int | None = None, replay: bool = False,
) -> ReviewerReport:
    """One reviewer's standing as of `as_of` (queries scoped to that reviewer's changes);
    `replay` judges from the votes even when stored judgements are current (to check them)."""
    days = window_days or config.standing.window_days
    roster = load_roster(session, config)
    since = history_start(as_of, days)
    if not replay and judgements_current(session, config, roster, as_of,
                                         reviewed_by(account_id, since)):
        reviews = load_reviews(session, config, account_id, since=since, as_of=as_of)
        comments = load_comment_messages(session, config, start=window_start(as_of, days),
                                         as_of=as_of, account_id=account_id)
        standing = standing_from_reviews(account_id, reviews, comments, roster, as_of=as_of,
                                         window_days=days)
        return ReviewerReport(roster.username(account_id), standing,
                              evaluate_criteria(standing.metrics, config.standing.criteria),
                              "stored")
    history = load_review_history(
        session, config, as_of=as_of, since=since,
        window_start=window_start(as_of, days), account_id=account_id, bots=roster.bots,
    )
    standing = standing_of(history, roster, account_id, as_of=as_of, window_days=days,
                           min_noncore_plus1=config.gate.min_noncore_plus1)
    return ReviewerReport(roster.username(account_id), standing,
                          evaluate_criteria(standing.metrics, config.standing.criteria))


def leaderboard(
    session: Session, config: Config, *, as_of: datetime, window_days: int | None = None,
    include_core: bool = False, replay: bool = False,
) -> list[ReviewerReport]:
    """Every reviewer active in the window (non-core at `as_of` unless asked), sorted by
    criteria met, then judged reviews, then reviews. From the stored judgements (one
    GROUP BY) when current (and not asked to `replay`), else one pass over all events of
    the window."""
    days = window_days or config.standing.window_days
    start = window_start(as_of, days)
    roster = load_roster(session, config)
    current = not replay and judgements_current(session, config, roster, as_of,
                                                updated_since(start))
    source = "stored" if current else "replayed"
    if source == "stored":
        comments = load_comment_messages(session, config, start=start, as_of=as_of,
                                         updated_since=start)
        standings = standings_from_counts(
            count_reviews(session, config, start=start, as_of=as_of),
            dominant_owners(session, config, start=start, as_of=as_of),
            comments, roster, as_of=as_of, window_days=days)
    else:
        history = load_review_history(session, config, as_of=as_of, since=start,
                                      window_start=start, bots=roster.bots)
        standings = compute_standings(history, roster, as_of=as_of, window_days=days,
                                      min_noncore_plus1=config.gate.min_noncore_plus1,
                                      weekly=False, detail=False)
    rows = [
        ReviewerReport(roster.username(s.account_id), s,
                       evaluate_criteria(s.metrics, config.standing.criteria), source)
        for s in standings.values()
        if include_core or not s.core
    ]
    rows.sort(key=lambda r: (-r.met, -(r.standing.metrics["judged_reviews"] or 0),
                             -(r.standing.metrics["reviews"] or 0), r.username))
    return rows
