"""Standing view: one reviewer's standing and the leaderboard as of T, from the stored
judgements when they are current, else by replaying the votes (reads through the store)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlmodel import Session

from reviewbot.config import Config
from reviewbot.metrics.criteria import EVIDENCE, CriterionProgress, criteria_met, evaluate_criteria
from reviewbot.metrics.readiness import DEFAULT_SORT, sort_key
from reviewbot.metrics.standing import compute_standings, standing_of, tally_reviews
from reviewbot.metrics.standing_figures import (
    THOUGHTFUL_FREE_TEXT,
    Standing,
    history_start,
    window_start,
)
from reviewbot.metrics.stored_standing import (
    judging_fingerprint,
    review_of,
    standing_from_reviews,
)
from reviewbot.metrics.tallies import order_tallies, standings_from_tallies, tallies_from_settled
from reviewbot.store.judgements import (
    judgements_current,
    load_reviews,
    reviewed_by,
    settled_counts,
    settled_current,
    settled_order_counts,
    updated_since,
)
from reviewbot.store.review_reads import (
    comment_counts,
    load_comment_messages,
    load_review_history,
)
from reviewbot.timeline.people import Roster
from reviewbot.timeline.roster import load_roster
from reviewbot.timeline.snapshot import ReviewScope


@dataclass
class ReviewerReport:
    """A reviewer's standing with the criteria progress, ready for CLI and pages."""

    username: str
    standing: Standing
    criteria: list[CriterionProgress]
    # "stored": read from the stored judgements; "replayed": judged from the votes now;
    # "mixed" (a past as-of time): stored for the changes with no activity since, the
    # few active after it judged again from their votes.
    judgements: Literal["stored", "replayed", "mixed"] = "replayed"

    @property
    def met(self) -> int:
        return criteria_met(self.criteria)

    def as_json(self) -> dict[str, Any]:
        s = self.standing
        return {
            "username": self.username,
            "account_id": s.account_id,
            "core": s.core,
            "as_of": s.as_of.isoformat(),
            "window_start": s.window_start.isoformat(),
            "metrics": dict(s.metrics),
            # Every ratio with the count of reviews behind it ("18% of 22 judged").
            "ratio_counts": ratio_counts(s.metrics),
            "window_weekly": list(s.window_weekly),
            "criteria": [c.as_dict() for c in self.criteria],
            "criteria_met": self.met,
            "criteria_total": len(self.criteria),
            "warnings": list(s.warnings),
            "judgements": self.judgements,
        }


# Ratio -> (the metric counting the reviews behind it, what they are called).
RATIO_COUNTS: dict[str, tuple[str, str]] = {
    **EVIDENCE,
    "positive_ratio": ("reviews", "reviews"),
    "priority_share": ("reviews", "reviews"),
}


def ratio_counts(metrics: Mapping[str, float | int | None],
                 ) -> dict[str, dict[str, float | int | str | None]]:
    return {ratio: {"value": metrics.get(ratio), "count": metrics.get(count), "of": label}
            for ratio, (count, label) in RATIO_COUNTS.items()}


def review_scope(config: Config) -> ReviewScope:
    """The changes standing counts, as the store reads them: the configured projects
    and branches."""
    return ReviewScope(tuple(config.gerrit.projects), tuple(config.gerrit.branches))


def _fingerprint(config: Config, roster: Roster) -> str:
    return judging_fingerprint(roster, config.gate.min_noncore_plus1)


def _criteria(config: Config, standing: Standing) -> list[CriterionProgress]:
    return evaluate_criteria(standing.metrics, config.standing.criteria,
                             config.standing.min_evidence)


def reviewer_report(
    session: Session, config: Config, account_id: int, *, as_of: datetime,
    window_days: int | None = None, replay: bool = False,
) -> ReviewerReport:
    """One reviewer's standing as of `as_of` (queries scoped to that reviewer's changes);
    `replay` judges from the votes even when stored judgements are current (to check them)."""
    days = window_days or config.standing.window_days
    roster = load_roster(session, config)
    since = history_start(as_of, days)
    scope = review_scope(config)
    if not replay and judgements_current(session, _fingerprint(config, roster), as_of,
                                         reviewed_by(account_id, since), config.team_scope):
        reviews = [review_of(row) for row in
                   load_reviews(session, scope, account_id, since=since, as_of=as_of)]
        comments = load_comment_messages(session, scope, start=window_start(as_of, days),
                                         as_of=as_of, account_id=account_id)
        standing = standing_from_reviews(account_id, reviews, comments, roster, as_of=as_of,
                                         window_days=days)
        return ReviewerReport(roster.username(account_id), standing,
                              _criteria(config, standing), "stored")
    history = load_review_history(
        session, scope, as_of=as_of, since=since, window_start=window_start(as_of, days),
        thoughtful_chars=THOUGHTFUL_FREE_TEXT, account_id=account_id, bots=roster.bots,
    )
    standing = standing_of(history, roster, account_id, as_of=as_of, window_days=days,
                           min_noncore_plus1=config.gate.min_noncore_plus1)
    return ReviewerReport(roster.username(account_id), standing, _criteria(config, standing))


def readiness_order(session: Session, config: Config, *, as_of: datetime,
                    window_days: int) -> list[tuple[int, str, float, int]]:
    """The backtest's pool in the leaderboard's default order: every account not core at
    `as_of`, not a bot, with a review in the window, as (account, username, readiness,
    reviews). The same order as `leaderboard()` (tests compare them) from only what it
    reads: one grouped read of the settled changes' stored judgements plus the changes
    active after `as_of` judged again (or a replay of all, when nothing stored is
    current), and no comment-only messages."""
    start = window_start(as_of, window_days)
    roster = load_roster(session, config)
    scope = review_scope(config)
    gate = config.gate.min_noncore_plus1
    if settled_current(session, _fingerprint(config, roster), start, as_of,
                       config.team_scope):
        active = load_review_history(session, scope, as_of=as_of, since=start,
                                     window_start=start, thoughtful_chars=THOUGHTFUL_FREE_TEXT,
                                     bots=roster.bots, active_after=True)
        tallies = order_tallies(settled_order_counts(session, scope, start=start, as_of=as_of),
                                as_of=as_of, window_days=window_days)
        tallies.merged(tally_reviews(active, roster, as_of=as_of, window_days=window_days,
                                     min_noncore_plus1=gate))
    else:
        history = load_review_history(session, scope, as_of=as_of, since=start,
                                      window_start=start, thoughtful_chars=THOUGHTFUL_FREE_TEXT,
                                      bots=roster.bots, comments=False)
        tallies = tally_reviews(history, roster, as_of=as_of, window_days=window_days,
                                min_noncore_plus1=gate)
    rows: list[tuple[int, str, float, int]] = []
    for account, t in tallies.items():
        m = t.metrics(0)
        # Both are always numbers (`metrics_from_counts`); None is only a ratio's.
        ready, reviews = m["readiness"], m["reviews"]
        if reviews and ready is not None and not roster.is_core(account, as_of):
            rows.append((account, roster.username(account), ready, int(reviews)))
    rows.sort(key=lambda r: (-r[2], -r[3], r[1]))  # as readiness.sort_key("readiness")
    return rows


def leaderboard(
    session: Session, config: Config, *, as_of: datetime, window_days: int | None = None,
    include_core: bool = False, replay: bool = False, sort: str = DEFAULT_SORT,
) -> list[ReviewerReport]:
    """Every reviewer active in the window (non-core at `as_of` unless asked), in the
    readiness order (`reviewbot.metrics.readiness`) or by the column `sort` names (an unknown key
    raises `readiness.UnknownSortKey`). From the stored judgements when current (and not
    asked to `replay`): one grouped read of the reviews and one of the comment-only
    messages; as of a past date the same reads for the changes settled by then, the rest
    judged again; else one pass over all events of the window."""
    order = sort_key(sort, config.standing.min_evidence)
    days = window_days or config.standing.window_days
    start = window_start(as_of, days)
    roster = load_roster(session, config)
    scope = review_scope(config)
    fingerprint = _fingerprint(config, roster)
    current = not replay and judgements_current(session, fingerprint, as_of,
                                                updated_since(start), config.team_scope)
    source: Literal["stored", "replayed", "mixed"] = "stored" if current else "replayed"
    if source == "replayed" and not replay and settled_current(session, fingerprint,
                                                               start, as_of,
                                                               config.team_scope):
        source = "mixed"
    if source != "replayed":
        # Counted in SQL from the stored judgements: of every change in scope when all
        # are current, else ("mixed") of the changes settled by `as_of`, the few active
        # after it judged again from their votes.
        comments = comment_counts(session, scope, start=start, as_of=as_of,
                                  updated_since=start)
        tallies = tallies_from_settled(
            settled_counts(session, scope, start=start, as_of=as_of,
                           settled=source == "mixed"),
            as_of=as_of, window_days=days)
        if source == "mixed":
            active = load_review_history(session, scope, as_of=as_of, since=start,
                                         window_start=start,
                                         thoughtful_chars=THOUGHTFUL_FREE_TEXT,
                                         bots=roster.bots, active_after=True)
            tallies.merged(tally_reviews(active, roster, as_of=as_of, window_days=days,
                                         min_noncore_plus1=config.gate.min_noncore_plus1))
        standings = standings_from_tallies(tallies, comments, roster, as_of=as_of,
                                           window_days=days)
    else:
        history = load_review_history(session, scope, as_of=as_of, since=start,
                                      window_start=start, thoughtful_chars=THOUGHTFUL_FREE_TEXT,
                                      bots=roster.bots)
        standings = compute_standings(history, roster, as_of=as_of, window_days=days,
                                      min_noncore_plus1=config.gate.min_noncore_plus1,
                                      weekly=False, detail=False)
    rows = [
        ReviewerReport(roster.username(s.account_id), s, _criteria(config, s), source)
        for s in standings.values()
        if include_core or not s.core
    ]
    rows.sort(key=order)
    return rows
