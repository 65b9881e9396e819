"""Store reads for the core queue: candidates and score facts in a few set-based queries.

A queue request must stay fast with tens of thousands of open changes, so it
never loads full snapshots: one aggregate query filters the candidates and
computes each one's score facts (CI passed, core +2, any -1) in SQL; only
the page being shown is then read in detail (subject, owner, votes, reasons).
"""

from __future__ import annotations

import bisect
import dataclasses
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from reviewbot.config import Config
from reviewbot.people import Roster
from reviewbot.queue import (
    CI_PASSED_POINTS,
    CORE_PLUS2_POINTS,
    MINUS1_POINTS,
    POINTS_PER_DAY,
    QUEUE_GATE_STATES,
    QueueChange,
    QueueItem,
    WhyNot,
    facts_of,
    lead_reasons,
    score,
    why_not,
)
from reviewbot.snapshot import Vote
from reviewbot.store.snapshots import load_roster
from reviewbot.tables import Account, Change, CurrentVote, PatchSet, Verdict

_CHUNK = 900  # stay under SQLite's bound-parameter limit


@dataclass(frozen=True, slots=True)
class Reviewer:
    id: int
    username: str | None
    name: str | None

    @property
    def label(self) -> str:
        return self.username or self.name or f"#{self.id}"


@dataclass(frozen=True, slots=True)
class ChangeSummary:
    """What a queue row shows about a change besides its score."""

    number: int
    project: str
    branch: str
    subject: str
    owner_id: int
    topic: str | None
    current_patch_set: int
    uploaded: datetime | None
    change: QueueChange


@dataclass(frozen=True, slots=True)
class QueuePage:
    total: int
    items: list[tuple[QueueItem, ChangeSummary]]
    roster: Roster


def find_reviewer(session: Session, who: str) -> Reviewer | None:
    """An account by username (exact, then any case), email or numeric id."""
    text = who.strip()
    if not text:
        return None
    cols = (Account.id, Account.username, Account.name)
    row = session.exec(select(*cols).where(Account.username == text)).first()
    if row is None:
        row = session.exec(
            select(*cols).where(func.lower(Account.username) == text.lower()).order_by(Account.id)
        ).first()
    if row is None and "@" in text:
        row = session.exec(
            select(*cols).where(func.lower(Account.email) == text.lower()).order_by(Account.id)
        ).first()
    if row is None and text.lstrip("-").isdigit():
        row = session.exec(select(*cols).where(Account.id == int(text))).first()
    return Reviewer(*row) if row is not None else None


def core_ids_at(roster: Roster, now: datetime) -> frozenset[int]:
    """Accounts that are core at `now` (history decides for users who have entries)."""
    return frozenset(a for a in roster.ever_core() if roster.is_core(a, now))


def _tracked(config: Config):  # noqa: ANN202
    return and_(Change.project.in_(config.gerrit.projects),
                Change.branch.in_(config.gerrit.branches))


class QueueBase:
    """Every change that passes the reviewer-independent queue conditions, with score facts.

    Rows: (number, owner_id, uploaded, ci_passed, core +2 voters, has -1, best
    priority, rank, uploaded in epoch microseconds). `voted` maps an account to
    the candidates where it has a Code-Review vote on the current patch set,
    `owned` an account to its candidates. A reviewer's queue is the rows minus
    their own changes and the ones they voted on, so the expensive reads
    happen once per store generation, not once per request.
    """

    def __init__(self, rows: list[tuple], voted: dict[int, frozenset[int]], roster: Roster):
        self.rows = rows
        self.roster = roster
        numbers = {row[0] for row in rows}
        self.voted = {a: frozenset(n & numbers) for a, n in voted.items()}
        owned: dict[int, set[int]] = {}
        for row in rows:
            owned.setdefault(row[1], set()).add(row[0])
        self.owned = {a: frozenset(n) for a, n in owned.items()}
        # Upload times within their UTC day: the order changes only when "now"
        # crosses one of them (or midnight), so orders are cached per phase.
        self.phases = sorted({row[8] % _DAY_US for row in rows if row[8] is not None})
        self._orders: dict[tuple, list[tuple]] = {}

    def excluded(self, reviewer_id: int) -> frozenset[int]:
        """Candidates C may not have in the queue: C's own changes and those C voted on."""
        return self.owned.get(reviewer_id, frozenset()) | self.voted.get(reviewer_id,
                                                                           frozenset())


def build_base(session: Session, config: Config) -> QueueBase:
    """Two set-based reads: open gate-passing changes, then their current votes."""
    rank_of = rank_map(config)
    candidate = and_(Change.status == "NEW", Change.wip == False,  # noqa: E712
                     Change.missing_since.is_(None), Verdict.gate_state.in_(QUEUE_GATE_STATES),
                     _tracked(config))
    changes = session.execute(
        select(Change.number, Change.owner_id, PatchSet.created, Verdict.gate_state,
               Verdict.priorities, Verdict.rank)
        .select_from(Change)
        .join(Verdict, Verdict.change_number == Change.number)
        .outerjoin(PatchSet, and_(PatchSet.change_number == Change.number,
                                  PatchSet.number == Change.current_patch_set))
        .where(candidate)
    ).all()
    blocked: set[int] = set()
    ci: set[int] = set()
    minus1: set[int] = set()
    plus2: dict[int, list[int]] = {}
    voted: dict[int, set[int]] = {}
    for number, label, account, value in session.execute(
        select(CurrentVote.change_number, CurrentVote.label, CurrentVote.account_id,
               CurrentVote.value)
        .join(Change, Change.number == CurrentVote.change_number)
        .join(Verdict, Verdict.change_number == Change.number)
        .where(candidate, CurrentVote.value != 0,
               CurrentVote.label.in_(("Code-Review", "Verified", "Workflow")))
    ):
        if label == "Code-Review":
            voted.setdefault(account, set()).add(number)
            if value <= -2:
                blocked.add(number)
            elif value == -1:
                minus1.add(number)
            elif value >= 2:
                plus2.setdefault(number, []).append(account)
        elif label == "Workflow":
            if value < 0:
                blocked.add(number)
        elif value > 0:
            ci.add(number)
    rows = []
    for number, owner, uploaded, gate, priorities, rank in changes:
        if number in blocked:
            continue
        best = _best_priority(priorities, rank_of) if gate == "priority" else None
        best_rank = (rank if rank is not None else rank_of.get(best)) if best else None
        rows.append((number, owner, uploaded, number in ci, tuple(plus2.get(number, ())),
                     number in minus1, best, best_rank, _micros(uploaded)))
    return QueueBase(rows, {a: frozenset(n) for a, n in voted.items()},
                     load_roster(session, config))


_DAY_US = 86_400_000_000
_EPOCH = datetime(1970, 1, 1)
_NEVER = 2**62  # sorts after any real upload time


def _micros(value: datetime | None) -> int | None:
    return None if value is None else (value - _EPOCH) // timedelta(microseconds=1)


def global_order(base: QueueBase, now: datetime) -> list[tuple]:
    """All candidates in queue order at `now`, as (key, score, row), for any reviewer.

    This is the integer form of `reviewbot.queue.points`/`order_key`
    (microseconds instead of datetimes; `tests/test_queue_store.py` checks both
    agree). Every full day count, hence every score and the order, is the same
    for all `now` in one UTC day whose time of day lies between the same two
    upload phases, so the result is cached under that key.
    """
    core_ids = core_ids_at(base.roster, now)
    now_us = _micros(now)
    cache_key = (now_us // _DAY_US, bisect.bisect_right(base.phases, now_us % _DAY_US),
                 core_ids)
    cached = base._orders.get(cache_key)
    if cached is not None:
        return cached
    out = []
    append = out.append
    for row in base.rows:
        number, _owner, _uploaded, ci, plus2, minus1, best, rank, up_us = row
        total = (POINTS_PER_DAY * ((now_us - up_us) // _DAY_US)
                 if up_us is not None and now_us > up_us else 0)
        if ci:
            total += CI_PASSED_POINTS
        if minus1:
            total += MINUS1_POINTS
        if plus2 and not core_ids.isdisjoint(plus2):
            total += CORE_PLUS2_POINTS
        group = 0 if best is not None and rank is not None else 1
        append(((group, rank if group == 0 else 0, -total,
                 _NEVER if up_us is None else up_us, number), total, row))
    out.sort(key=_first)
    if len(base._orders) >= 16:
        base._orders.clear()
    base._orders[cache_key] = out
    return out


def ranked(base: QueueBase, reviewer_id: int, now: datetime, *, offset: int = 0,
           limit: int | None = None) -> tuple[int, list[tuple]]:
    """C's queue: (number of items, the [offset, offset+limit) slice as (key, score, row)).

    Walks the shared order only as far as the slice needs, skipping C's own
    changes and the ones C voted on.
    """
    excluded = base.excluded(reviewer_id)
    ordered = global_order(base, now)
    total = len(ordered) - len(excluded)
    out: list[tuple] = []
    seen = 0
    end = None if limit is None else offset + limit
    if limit == 0:
        return total, out
    for item in ordered:
        if item[2][0] in excluded:
            continue
        if seen >= offset:
            out.append(item)
        seen += 1
        if end is not None and seen >= end:
            break
    return total, out


def _first(item: tuple) -> tuple:
    return item[0]


class QueueCache:
    """The QueueBase of one store and config, rebuilt when the store has changed.

    "Changed" is read cheaply: SQLite's `PRAGMA data_version` on a connection
    kept only for watching (it moves whenever any other connection commits),
    PostgreSQL's snapshot xmax (it moves whenever any transaction writes).
    Other stores (in-memory SQLite) are not cached.
    """

    def __init__(self, engine: Engine, config: Config):
        self.engine = engine
        self.config = config
        self._lock = threading.Lock()
        self._watch = None
        self._cached: tuple[object, QueueBase] | None = None
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            self._watch = engine.raw_connection()

    def _generation(self, session: Session) -> object | None:
        if self._watch is not None:
            cursor = self._watch.cursor()
            try:
                return cursor.execute("PRAGMA data_version").fetchone()[0]
            finally:
                cursor.close()
        if self.engine.dialect.name == "postgresql":
            return session.execute(
                text("SELECT txid_snapshot_xmax(txid_current_snapshot())")).scalar()
        return None

    def base(self, session: Session) -> QueueBase:
        with self._lock:
            generation = self._generation(session)
            if generation is not None and self._cached and self._cached[0] == generation:
                return self._cached[1]
            built = build_base(session, self.config)
            if generation is not None:
                self._cached = (generation, built)
            return built

    def close(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None


def _best_priority(priorities: list[str] | None, rank_of: dict[str, int]) -> str | None:
    if not priorities:
        return None
    return min(priorities, key=lambda p: (rank_of.get(p, 10**6), p))


def rank_map(config: Config) -> dict[str, int]:
    return {p.id: p.rank for p in config.priorities}


def queue_changes(
    session: Session, config: Config, numbers: list[int]
) -> dict[int, ChangeSummary]:
    """Detailed rows (change, current patch set, current votes, verdict) for a few changes."""
    out: dict[int, ChangeSummary] = {}
    rank_of = rank_map(config)
    # Core-level execution: this runs on every queue request, and ORM row
    # processing would cost more than the query.
    conn = session.connection()
    for start in range(0, len(numbers), _CHUNK):
        chunk = numbers[start : start + _CHUNK]
        votes: dict[int, list[Vote]] = {}
        for v in conn.execute(
            select(CurrentVote.change_number, CurrentVote.label, CurrentVote.account_id,
                   CurrentVote.value).where(CurrentVote.change_number.in_(chunk))
        ):
            votes.setdefault(v[0], []).append(Vote(v[1], v[2], v[3]))
        rows = conn.execute(
            select(Change.number, Change.project, Change.branch, Change.subject, Change.owner_id,
                   Change.topic, Change.current_patch_set, Change.status, Change.wip,
                   PatchSet.created, Verdict.gate_state, Verdict.gate_reason,
                   Verdict.priorities, Verdict.rank, Verdict.matches)
            .select_from(Change)
            .outerjoin(Verdict, Verdict.change_number == Change.number)
            .outerjoin(PatchSet, and_(PatchSet.change_number == Change.number,
                                      PatchSet.number == Change.current_patch_set))
            .where(Change.number.in_(chunk))
        )
        for (number, project, branch, subject, owner, topic, ps, status, wip, created, gate,
             gate_reason, priorities, rank, matches) in rows:
            ordered = sorted(priorities or [], key=lambda p: (rank_of.get(p, 10**6), p))
            change = QueueChange(
                number=number, status=status, wip=bool(wip), owner_id=owner,
                current_patch_set=ps, uploaded=created,
                votes=tuple(sorted(votes.get(number, ()),
                                   key=lambda v: (v.label, v.account_id))),
                gate_state=gate, gate_reason=gate_reason or "",
                priorities=tuple(ordered), rank=rank,
                priority_reasons=tuple(_match_reasons(matches)),
            )
            out[number] = ChangeSummary(number, project, branch, subject, owner, topic, ps,
                                        created, change)
    return out


def _match_reasons(matches: list[dict] | None) -> list[str]:
    """`Verdict.matches` rows -> "Title: reason" lines (tolerates missing keys)."""
    out = []
    for m in matches or []:
        title = m.get("title") or m.get("priority") or "priority"
        for reason in m.get("reasons") or []:
            out.append(f"{title}: {reason}")
    return out


def load_queue(
    session: Session, config: Config, reviewer_id: int, now: datetime,
    *, offset: int = 0, limit: int | None = 50, cache: QueueCache | None = None,
) -> QueuePage:
    """C's ordered queue; only the rows in [offset, offset+limit) are read in detail."""
    base = cache.base(session) if cache is not None else build_base(session, config)
    total_items, page = ranked(base, reviewer_id, now, offset=offset, limit=limit)
    details = queue_changes(session, config, [row[0] for _key, _total, row in page])
    core_ids = core_ids_at(base.roster, now)
    items = []
    for _key, total, row in page:
        summary = details[row[0]]
        _same, reasons = score(facts_of(summary.change, core_ids), now, base.roster.username)
        item = QueueItem(
            number=row[0], priority=row[6], rank=row[7], score=total,
            reasons=tuple(lead_reasons(summary.change)) + tuple(reasons), uploaded=row[2],
        )
        items.append((item, summary))
    return QueuePage(total=total_items, items=items, roster=base.roster)


def why_not_in_queue(
    session: Session, config: Config, number: int, reviewer: Reviewer, now: datetime,
    *, cache: QueueCache | None = None,
) -> WhyNot | None:
    """DESIGN "Why-not" for change `number` and reviewer C; None if the change is unknown."""
    summary = queue_changes(session, config, [number]).get(number)
    if summary is None:
        return None
    base = cache.base(session) if cache is not None else build_base(session, config)
    roster = base.roster
    if not _is_tracked(session, config, number):
        return WhyNot(number, reviewer.label, False, "open",
                      f"Change {number} is outside the configured projects and branches.")
    is_core = reviewer_core_status(roster, reviewer.id, now)
    answer = why_not(summary.change, reviewer.id, reviewer.label, reviewer_is_core=is_core,
                     name=roster.username)
    if not answer.in_queue:
        return answer
    _count, ordered = ranked(base, reviewer.id, now)
    position = next((i for i, (_k, _t, row) in enumerate(ordered, 1) if row[0] == number), None)
    _total, reasons = score(facts_of(summary.change, core_ids_at(roster, now)), now,
                            roster.username)
    message = f"Change {number} is in {reviewer.label}'s queue"
    if position:
        message += f" at position {position} of {len(ordered)} (score {ordered[position - 1][1]})"
    return dataclasses.replace(
        answer, message=message + ".", position=position,
        total=len(ordered) if position else None,
        score=ordered[position - 1][1] if position else None,
        reasons=tuple(lead_reasons(summary.change)) + tuple(reasons),
    )


def _is_tracked(session: Session, config: Config, number: int) -> bool:
    return bool(session.execute(
        select(exists().where(Change.number == number, _tracked(config)))
    ).scalar())


def reviewer_core_status(roster: Roster, account_id: int, now: datetime) -> bool | None:
    """True/False, or None when the core group is hidden and no history entry decides."""
    if roster.is_core(account_id, now):
        return True
    if not roster.core_known and account_id not in roster.history:
        return None
    return False
