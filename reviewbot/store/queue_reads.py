"""Store reads for the core queue: candidates and score facts in a few set-based queries.

A queue request must stay fast with tens of thousands of open changes, so it
never loads full snapshots: one aggregate query filters the candidates and
computes each one's score facts (CI passed, core +2, any -1) in SQL; only
the page being shown is then read in detail (subject, owner, votes, reasons).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, exists, func, or_, select
from sqlmodel import Session

from reviewbot.config import Config
from reviewbot.people import Roster
from reviewbot.queue import (
    QUEUE_GATE_STATES,
    QueueChange,
    QueueItem,
    ScoreFacts,
    WhyNot,
    facts_of,
    lead_reasons,
    order,
    score,
    why_not,
)
from reviewbot.snapshot import Vote
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


def candidate_facts(
    session: Session, config: Config, reviewer_id: int, core_ids: frozenset[int],
    rank_of: dict[str, int],
) -> list[ScoreFacts]:
    """Score facts of every candidate in C's queue, in one aggregate query.

    The WHERE clause and HAVING clause are DESIGN's candidate conditions:
    open, not owned by C, gate state priority/exempt/open, not blocked, and
    no Code-Review vote by C on the current patch set (Gerrit's labels).
    """
    cv = CurrentVote
    review = cv.label == "Code-Review"

    def flag(condition):  # noqa: ANN001, ANN202
        return func.max(case((condition, 1), else_=0))

    blocked = flag(or_(and_(review, cv.value <= -2), and_(cv.label == "Workflow", cv.value < 0)))
    voted = flag(and_(review, cv.account_id == reviewer_id, cv.value != 0))
    ci = flag(and_(cv.label == "Verified", cv.value > 0))
    core2 = flag(and_(review, cv.value >= 2, cv.account_id.in_(list(core_ids))))
    minus1 = flag(and_(review, cv.value == -1))
    query = (
        select(Change.number, Change.current_patch_set, PatchSet.created, Verdict.priorities,
               Verdict.rank, Verdict.gate_state, ci, core2, minus1)
        .select_from(Change)
        .join(Verdict, Verdict.change_number == Change.number)
        .outerjoin(PatchSet, and_(PatchSet.change_number == Change.number,
                                  PatchSet.number == Change.current_patch_set))
        .outerjoin(cv, cv.change_number == Change.number)
        .where(Change.status == "NEW", Change.wip == False,  # noqa: E712
               Change.missing_since.is_(None), Change.owner_id != reviewer_id,
               Verdict.gate_state.in_(QUEUE_GATE_STATES), _tracked(config))
        .group_by(Change.number, Change.current_patch_set, PatchSet.created,
                  Verdict.priorities, Verdict.rank, Verdict.gate_state)
        .having(and_(blocked == 0, voted == 0))
    )
    out = []
    for number, ps, created, priorities, rank, gate, ci_v, core2_v, minus1_v in session.execute(
        query
    ):
        best = _best_priority(priorities, rank_of) if gate == "priority" else None
        out.append(ScoreFacts(number, created, ps, bool(ci_v), (0,) if core2_v else (),
                              (0,) if minus1_v else (), best,
                              (rank if rank is not None else rank_of.get(best)) if best else None))
    return out


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
    for start in range(0, len(numbers), _CHUNK):
        chunk = numbers[start : start + _CHUNK]
        votes: dict[int, list[Vote]] = {}
        for v in session.execute(
            select(CurrentVote.change_number, CurrentVote.label, CurrentVote.account_id,
                   CurrentVote.value).where(CurrentVote.change_number.in_(chunk))
        ):
            votes.setdefault(v[0], []).append(Vote(v[1], v[2], v[3]))
        rows = session.execute(
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
    session: Session, config: Config, roster: Roster, reviewer_id: int, now: datetime,
    *, offset: int = 0, limit: int | None = 50,
) -> QueuePage:
    """C's ordered queue; only the rows in [offset, offset+limit) are read in detail."""
    core_ids = core_ids_at(roster, now)
    facts = candidate_facts(session, config, reviewer_id, core_ids, rank_map(config))
    ordered = order(facts, now)
    page = ordered[offset : None if limit is None else offset + limit]
    details = queue_changes(session, config, [it.number for it in page])
    items = []
    for it in page:
        summary = details[it.number]
        total, reasons = score(facts_of(summary.change, core_ids), now, roster.username)
        item = dataclasses.replace(
            it, score=total, reasons=tuple(lead_reasons(summary.change)) + tuple(reasons)
        )
        items.append((item, summary))
    return QueuePage(total=len(ordered), items=items)


def why_not_in_queue(
    session: Session, config: Config, roster: Roster, number: int, reviewer: Reviewer,
    now: datetime,
) -> WhyNot | None:
    """DESIGN "Why-not" for change `number` and reviewer C; None if the change is unknown."""
    summary = queue_changes(session, config, [number]).get(number)
    if summary is None:
        return None
    if not _is_tracked(session, config, number):
        return WhyNot(number, reviewer.label, False, "open",
                      f"Change {number} is outside the configured projects and branches.")
    is_core = reviewer_core_status(roster, reviewer.id, now)
    full = None
    if is_core is not False:
        core_ids = core_ids_at(roster, now)
        full = order(candidate_facts(session, config, reviewer.id, core_ids, rank_map(config)),
                     now)
    answer = why_not(summary.change, reviewer.id, reviewer.label, reviewer_is_core=is_core,
                     queue=full, name=roster.username)
    if answer.in_queue:
        core_ids = core_ids_at(roster, now)
        _total, reasons = score(facts_of(summary.change, core_ids), now, roster.username)
        answer = dataclasses.replace(
            answer, reasons=tuple(lead_reasons(summary.change)) + tuple(reasons))
    return answer


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
