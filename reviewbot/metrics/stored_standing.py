"""Standing from stored judgements: the figures of `reviewbot.metrics.standing`, from one row per
review judged once (`reviewbot.evaluate.review_judgements`) instead of a replay of the votes.

Pure functions; the store counts and reads the rows (`reviewbot.store.judgements`),
which are plain (`reviewbot.timeline.snapshot.JudgedReview`): the judging's types and rules stay
here and in `reviewbot.metrics.judging` and `reviewbot.metrics.standing_figures`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from reviewbot.metrics.judging import JUDGING_VERSION
from reviewbot.metrics.standing_figures import (
    LARGE_PATCH_LINES,
    QUICK_PLUS1,
    THOUGHTFUL_FREE_TEXT,
    Review,
    Standing,
    metrics_of,
    warnings_of,
    weekly_from_dates,
    weeks_of,
    window_start,
)
from reviewbot.timeline.people import Roster
from reviewbot.timeline.snapshot import CommentFacts, JudgedReview


def review_of(row: JudgedReview) -> Review:
    """A stored review back as the judging's `Review` (what pages and figures read)."""
    return Review(*row)


def judging_fingerprint(roster: Roster, min_noncore_plus1: int) -> str:
    """Everything stored judgements depend on besides each change's own data: the
    judging rules' version, who is (and was) core, the bots, the gate's +1 count."""
    facts = {
        "version": JUDGING_VERSION,
        # The thresholds judgements are made with: an edit re-judges without a bump.
        "thresholds": [THOUGHTFUL_FREE_TEXT, LARGE_PATCH_LINES, QUICK_PLUS1.total_seconds()],
        # Not `core_known`: judging reads only the members (an unknown group keeps its
        # last known ones), so a flapping group read costs no re-judging.
        "core_now": sorted(roster.core_now),
        "bots": sorted(roster.bots),
        "history": sorted((a, [(s.joined.isoformat(), s.left and s.left.isoformat())
                               for s in spells]) for a, spells in roster.history.items()),
        "min_noncore_plus1": min_noncore_plus1,
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def standing_from_reviews(
    account_id: int,
    reviews: Sequence[Review],
    comments: Iterable[CommentFacts],
    roster: Roster,
    *,
    as_of: datetime,
    window_days: int,
) -> Standing:
    """One reviewer's standing from their stored, already judged reviews since
    `history_start` (oldest first) and their comment-only messages: the same as
    `standing_of` over the same data."""
    start = window_start(as_of, window_days)
    in_window = [r for r in reviews if start <= r.date <= as_of]
    mine = sorted((c for c in comments
                   if c.author_id == account_id and start <= c.date <= as_of
                   and not roster.is_bot(c.author_id)), key=lambda c: c.date)
    in_weeks = weeks_of(in_window, as_of, start)
    return Standing(
        account_id=account_id, as_of=as_of, window_start=start,
        core=roster.is_core(account_id, as_of),
        metrics=metrics_of(in_window, len(mine), in_weeks), reviews=in_window,
        comments=mine, weekly=weekly_from_dates((r.date for r in reviews), as_of),
        warnings=warnings_of(in_window, roster), window_weekly=in_weeks[0],
    )

