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
import marshal
import time
from collections.abc import Callable, Collection, Generator, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from reviewbot.config import Config
from reviewbot.forked import can_fork, produced_beside
from reviewbot.metrics.judging import judge_all_reviews
from reviewbot.metrics.standing_figures import THOUGHTFUL_FREE_TEXT
from reviewbot.metrics.stored_standing import judging_fingerprint
from reviewbot.store import session_scope
from reviewbot.store.judgements import (
    ChangeStamp,
    ReviewRows,
    clear_judgements,
    judging_state,
    replace_judgements,
    review_rows,
    set_judging_state,
    stale_changes,
    team_scope,
)
from reviewbot.store.review_reads import load_judging_history
from reviewbot.sync.allocation import collector_paused
from reviewbot.timeline.people import Roster
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


def judge_store(engine: Engine, config: Config, numbers: Collection[int] | None = None,
                *, parallel: bool | None = None) -> JudgingResult:
    """Pipeline step: judge the reviews of every change that changed since it was last
    judged (only of `numbers`, for a webhook hint: then never everything from scratch,
    which is left to the worker's cycle).

    Changes are judged in passes of up to CHANGES_PER_PASS, committed
    CHANGES_PER_COMMIT changes at a time, so a sync waits for one commit's passes at
    most (a whole store from scratch takes seconds to tens of seconds). What is
    committed is always consistent: the stored fingerprint is the one every stored
    judgement was made under, a change without a current stamp is stale (reads replay
    it), and `judged_through` covers every committed pass. A failure keeps the commits
    before it; the next run judges what is left.

    `parallel`: read and judge in a forked process while this one writes; None decides
    (`_can_judge_beside`)."""
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
    if parallel is None:
        parallel = _can_judge_beside(engine, numbers, stale)
    writing = _Writing()
    need = config.gate.min_noncore_plus1
    # Here, each pass is read through the writing session (one connection, as an
    # in-memory store has only one); beside, through the judging process's own.
    passes = (_judged_beside(engine, roster, need, stale) if parallel else
              _judged(writing.current, roster, need, stale))
    try:
        more = bool(stale)  # nothing stale: no transaction at all
        while more:
            # A pass allocates ~10^5 rows and tuples, none of them cycles.
            with collector_paused(), session_scope(engine) as session, _roomy_cache(session):
                writing.session = session
                in_commit = 0
                for judged in passes:
                    result.reviews += replace_judgements(session, judged.stamps, judged.rows)
                    through = _later(through, judged.newest)
                    result.changes += judged.changes
                    in_commit += judged.changes
                    if in_commit >= CHANGES_PER_COMMIT:
                        break
                else:
                    more = False
                if in_commit:  # what the commit's passes saw, committed with them
                    set_judging_state(session, fingerprint, through, config.team_scope)
    finally:
        passes.close()  # stops a judging process when a write failed
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


@dataclass(frozen=True)
class JudgedPass:
    """One pass's judgements, ready to store."""

    changes: int  # stale changes the pass covered
    stamps: list[ChangeStamp]  # those judged (a change gone since is left stale)
    rows: ReviewRows  # the review table's rows
    newest: datetime | None  # the newest vote or upload its judging saw


class _Writing:
    """The writing session of the commit in progress, for passes read in this process."""

    session: Session | None = None

    @contextmanager
    def current(self) -> Iterator[Session]:
        assert self.session is not None, "passes are read while a commit is open"
        yield self.session


def _judged(reading: Callable[[], AbstractContextManager[Session]], roster: Roster,
            need: int, stale: list[tuple[int, int]]) -> Generator[JudgedPass, None, None]:
    """Read (through `reading`) and judge the stale changes, pass by pass; the caller
    writes."""
    for i in range(0, len(stale), CHANGES_PER_PASS):
        part = stale[i : i + CHANGES_PER_PASS]
        stored: dict[datetime, object] = {}  # every judged date is a vote's, as read
        with reading() as session:
            history = load_judging_history(session, [n for n, _ in part], bots=roster.bots,
                                           thoughtful_chars=THOUGHTFUL_FREE_TEXT,
                                           stored_dates=stored)
        rows = review_rows(judge_all_reviews(history, roster, need), stored.__getitem__)
        # Stamped with the priority/exempt facts the judging actually read.
        stamps = [ChangeStamp(n, revision, facts.priority, facts.exempt)
                  for n, revision in part
                  if (facts := history.changes.get(n)) is not None]
        yield JudgedPass(len(part), stamps, rows, _newest(history))


def _can_judge_beside(engine: Engine, numbers: Collection[int] | None,
                      stale: list[tuple[int, int]]) -> bool:
    """Judge in a forked process while this one writes: when there are several passes
    to overlap (a store judged from scratch, not a hint's few changes), this process
    may fork (`forked.can_fork`), and the store is a database a second process can open."""
    in_memory = engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")
    return (numbers is None and len(stale) > CHANGES_PER_PASS and not in_memory
            and can_fork())


def _judged_beside(engine: Engine, roster: Roster, need: int, stale: list[tuple[int, int]]
                   ) -> Generator[JudgedPass, None, None]:
    """`_judged` in a forked process: reading and judging a pass there takes about as
    long as storing the one before here."""
    pickling = _PASS_MARSHALLED if engine.dialect.name == "sqlite" else None
    return produced_beside(_judged_in_child, engine, roster, need, stale,
                           name="the judging process", pickling=pickling)


def _marshalled(judged: JudgedPass) -> tuple[Callable[..., JudgedPass], tuple[Any, ...]]:
    # Version 2: no back-references, so no table of every object written.
    blob = marshal.dumps((list(map(tuple, judged.stamps)), *judged.rows), 2)
    return _unmarshalled, (judged.changes, blob, judged.newest)


def _unmarshalled(changes: int, blob: bytes, newest: datetime | None) -> JudgedPass:
    stamps, *rows = marshal.loads(blob)
    return JudgedPass(changes, list(map(ChangeStamp._make, stamps)), ReviewRows(*rows), newest)


# On SQLite a pass's stamps and rows hold ints, flags and texts only (dates as read): they
# cross as one marshal blob, which pickle then copies whole. Pickling them one by one
# (a memo entry per object, a Python call per ChangeStamp) cost the judging process
# ~12 ms a pass of ~80, marshalling ~6 (20k-change bench). PostgreSQL's rows hold
# datetimes, which marshal cannot carry.
_PASS_MARSHALLED: dict[type, Any] = {JudgedPass: _marshalled}


def _judged_in_child(engine: Engine, roster: Roster, need: int, stale: list[tuple[int, int]]
                     ) -> Iterator[JudgedPass]:
    engine.dispose(close=False)  # the parent's pooled connections stay the parent's
    with collector_paused():
        yield from _judged(lambda: session_scope(engine), roster, need, stale)


def _later(one: datetime | None, other: datetime | None) -> datetime | None:
    return other if one is None or (other is not None and other > one) else one


def _newest(history: ReviewHistory) -> datetime | None:
    dates = [e[4] for e in history.events] + [p.created for p in history.patch_sets.values()]
    return max(dates, default=None)
