"""Judge step: judge every review once when its change's data changes, and store it.

Standing as of now (the leaderboard every page view and daily run asks for) then
reads one stored row per review instead of replaying every vote of the window.
A change is judged again when a write moves its `revision` (sync, import,
account adoption) or its priority/exempt verdict changes; everything is judged
again when the roster, the gate's +1 count or the judging rules change
(`stored_standing.judging_fingerprint`). Reads use the stored judgements only
when they are current for the asked time (`store.judgements.judgements_current`, under
the fingerprint);
otherwise they replay the votes (`reviewbot.metrics.standing`), which is also the
oracle the stored path is tested against.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from reviewbot.config import Config
from reviewbot.metrics.judging import judge_all_reviews
from reviewbot.metrics.standing_figures import THOUGHTFUL_FREE_TEXT
from reviewbot.metrics.stored_standing import judging_fingerprint
from reviewbot.store import session_scope
from reviewbot.store.judgements import (
    ChangeStamp,
    clear_judgements,
    judging_state,
    replace_judgements,
    set_judging_state,
    stale_changes,
    team_scope,
)
from reviewbot.store.review_reads import load_judging_history
from reviewbot.sync.allocation import collector_paused
from reviewbot.timeline.roster import load_roster
from reviewbot.timeline.snapshot import ReviewHistory

log = logging.getLogger(__name__)

# Bounds memory: a pass holds these changes' events only (5,000 a pass: +43 MB peak on
# the 20k-change bench, and no CPU saved).
CHANGES_PER_PASS = 2000
# Passes committed together. Each commit writes every page its passes touched to the
# WAL, and every pass touches most pages of the review index (ordered by reviewer): five
# passes a commit make a judge from scratch ~5 % cheaper than one (20k changes), and a
# sync waits for them, ~1 s, at most.
CHANGES_PER_COMMIT = 10000


@dataclass
class JudgingResult:
    changes: int = 0  # changes judged (again)
    reviews: int = 0  # review rows written
    full: bool = False  # everything was judged again (roster or rules changed)
    seconds: float = 0.0


def judge_store(engine: Engine, config: Config,
                numbers: Collection[int] | None = None) -> JudgingResult:
    """Pipeline step: judge the reviews of every change that changed since it was last
    judged (only of `numbers`, for a webhook hint: then never everything from scratch,
    which is left to the worker's cycle).

    Changes are judged in passes of up to CHANGES_PER_PASS, committed
    CHANGES_PER_COMMIT changes at a time, so a sync waits for one commit's passes at
    most (a whole store from scratch takes seconds to tens of seconds). What is
    committed is always consistent: the stored fingerprint is the one every stored
    judgement was made under, a change without a current stamp is stale (reads replay
    it), and `judged_through` covers every committed pass. A failure keeps the commits
    before it; the next run judges what is left."""
    started = time.perf_counter()
    result = JudgingResult()
    with session_scope(engine) as session:
        roster = load_roster(session, config)
        fingerprint = judging_fingerprint(roster, config.gate.min_noncore_plus1)
        stored, through = judging_state(session, config.team_scope)
        if stored != fingerprint and numbers is not None:
            return result
        scope = team_scope(config.team_scope)  # among several teams: this team's changes only
        if stored != fingerprint:
            result.full = True
            through = None
            clear_judgements(session, scope)
            set_judging_state(session, fingerprint, None, config.team_scope)
        # revisions read before the histories
        stale = stale_changes(session, numbers, scope)
    for start in range(0, len(stale), CHANGES_PER_COMMIT):
        committed = stale[start : start + CHANGES_PER_COMMIT]
        # A pass allocates ~10^5 event tuples and judged rows, none of them cycles.
        with collector_paused(), session_scope(engine) as session, _roomy_cache(session):
            for i in range(0, len(committed), CHANGES_PER_PASS):
                part = committed[i : i + CHANGES_PER_PASS]
                history = load_judging_history(session, [n for n, _ in part],
                                               bots=roster.bots,
                                               thoughtful_chars=THOUGHTFUL_FREE_TEXT)
                reviews = judge_all_reviews(history, roster, config.gate.min_noncore_plus1)
                # Stamped with the priority/exempt facts the judging actually read.
                stamps = [ChangeStamp(n, revision, facts.priority, facts.exempt)
                          for n, revision in part
                          if (facts := history.changes.get(n)) is not None]
                result.reviews += replace_judgements(session, stamps, reviews)
                through = _newest(through, history)
                set_judging_state(session, fingerprint, through, config.team_scope)
                result.changes += len(part)
    result.seconds = time.perf_counter() - started
    log.info("judged %d changes (%d reviews)%s in %.2fs", result.changes, result.reviews,
             " from scratch" if result.full else "", result.seconds)
    return result


# SQLite's default page cache (2 MiB) is smaller than the review table's covering index
# at OpenStack scale: a pass's ~13,000 inserts land all over it (the index is ordered by
# reviewer) and each miss rereads a page from the OS; judge CPU -11 % at 20k changes with
# 64 MiB (bench/RESULTS.md). 32 MiB is as fast with commits of several passes, whose
# pages stay cached until the commit: 117 MB peak for the 20k-change judge, 151 with 64.
_JUDGING_CACHE_KIB = 32768


@contextmanager
def _roomy_cache(session: Session) -> Iterator[None]:
    """A large page cache for one commit's passes, then the connection's own again (it
    goes back to a pool that web requests share)."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{_JUDGING_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


def _newest(through: datetime | None, history: ReviewHistory) -> datetime | None:
    dates = [e[4] for e in history.events] + [p.created for p in history.patch_sets.values()]
    if through is not None:
        dates.append(through)
    return max(dates, default=None)
