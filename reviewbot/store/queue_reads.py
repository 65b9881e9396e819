"""Store reads for the queues: reviewers, candidate rows from the stored verdicts, current
votes, the rows a queue page shows, and a cheap "has the store changed" generation.

Plain rows only: what they mean (review state, score, order) is decided by
`reviewbot.timeline.state` and `reviewbot.metrics.queue`, never here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from reviewbot.config import Config
from reviewbot.store.accounts import chunks
from reviewbot.store.snapshots import RawValues, plain_rows
from reviewbot.store.tables import Account, Change, CurrentVote, PatchSet, Verdict

# The tables' Core columns, not the model classes' attributes: a statement naming ORM
# attributes compiles through the ORM (which configures every mapper on its first use),
# a cost of ~10-20 ms a command for reads that take the driver's rows anyway.
account_t, change_t, vote_t, patch_set_t, verdict_t = (
    model.__table__.c for model in (Account, Change, CurrentVote, PatchSet, Verdict))
QUEUE_LABELS = ("Code-Review", "Verified", "Workflow")


@dataclass(frozen=True, slots=True)
class Reviewer:
    id: int
    username: str | None
    name: str | None

    @property
    def label(self) -> str:
        return self.username or self.name or f"#{self.id}"


def find_reviewer(session: Session, who: str) -> Reviewer | None:
    """An account by username (exact, then any case), email or numeric id."""
    text_ = who.strip()
    if not text_:
        return None
    cols = (account_t.id, account_t.username, account_t.name)

    def first(stmt) -> tuple | None:
        # Driver rows (`plain_rows`): an ORM-level execute would configure every mapper
        # first, a cost paid by each command at start for one row.
        rows = plain_rows(session, stmt.limit(1))
        return rows[0] if rows else None

    row = first(select(*cols).where(account_t.username == text_))
    if row is None:
        row = first(select(*cols).where(func.lower(account_t.username) == text_.lower())
                    .order_by(account_t.id))
    if row is None and "@" in text_:
        row = first(select(*cols).where(func.lower(account_t.email) == text_.lower())
                    .order_by(account_t.id))
    if row is None and text_.lstrip("-").isascii() and text_.lstrip("-").isdigit():
        number = int(text_)
        if -(2**63) <= number < 2**63:
            row = first(select(*cols).where(account_t.id == number))
    return Reviewer(*row) if row is not None else None


def _tracked(config: Config, *, project_index: bool = True):
    # `project || ''` keeps the planner off the project index (see candidate_rows).
    project = change_t.project if project_index else change_t.project.concat("")
    return and_(project.in_(config.gerrit.projects),
                change_t.branch.in_(config.gerrit.branches))


def candidate_rows(session: Session, config: Config, gate_states: Sequence[str],
                   review_state: str, *, settled_at: datetime | None = None,
                   reviewer_id: int | None = None) -> list[tuple]:
    """Open tracked changes whose stored verdict has one of `gate_states` and `review_state`
    (with `settled_at`: only the changes settled at that time, `settled`; with
    `reviewer_id`: only those the reviewer does not own and has no Code-Review vote on):
    (number, owner id, current patch set, upload time, gate state, priorities, rank, branch,
    gate reason, priority matches as stored): the verdict's sentences come with the row
    that is read anyway."""
    raw = RawValues(session)
    # The present is read through the verdicts' gate-state index: the changes in the
    # asked gate states are some of the open ones (a closed change's verdict is "closed"),
    # few for the first-crack queue's "gated". `|| ''` keeps SQLite's planner, which has
    # no statistics, from walking every open change by the status or project index
    # instead (a third slower for a 20,000-change core queue).
    where = (settled(settled_at) if settled_at is not None else
             [change_t.status.concat("") == "NEW", change_t.wip == False,  # noqa: E712
              change_t.missing_since.is_(None)])
    if reviewer_id is not None:
        where = [*where, change_t.owner_id != reviewer_id, ~exists().where(
            vote_t.change_number == change_t.number, vote_t.label == "Code-Review",
            vote_t.account_id == reviewer_id, vote_t.value != 0)]
    rows = plain_rows(session, select(
        change_t.number, change_t.owner_id, change_t.current_patch_set, patch_set_t.created,
        verdict_t.gate_state, verdict_t.priorities, verdict_t.rank, change_t.branch,
        verdict_t.gate_reason, verdict_t.matches)
        .select_from(Change.__table__)
        .join(Verdict.__table__, verdict_t.change_number == change_t.number)
        .outerjoin(PatchSet.__table__, and_(patch_set_t.change_number == change_t.number,
                                            patch_set_t.number == change_t.current_patch_set))
        .where(*where, _tracked(config, project_index=settled_at is not None),
               verdict_t.gate_state.in_(list(gate_states)),
               verdict_t.review_state == review_state))
    return [(n, owner, ps, raw.optional_datetime(up), gate, raw.json(prios), rank, branch,
             reason or "", raw.json(matches) or [])
            for n, owner, ps, up, gate, prios, rank, branch, reason, matches in rows]


def settled(at: datetime) -> list:
    """Conditions on Change joined with its Verdict: open at T (created by T, not WIP, and
    nothing happened to it after T, so it is still open) and a verdict computed from its
    rows as they are (its revision). Such a change stands today as it stood at T."""
    return [change_t.status == "NEW", change_t.wip == False,  # noqa: E712
            change_t.missing_since.is_(None), change_t.created <= at, change_t.updated <= at,
            verdict_t.evaluated_revision == change_t.revision]


def settled_evaluation_times(session: Session, config: Config, at: datetime) -> list[datetime]:
    """When the verdicts of the changes settled at T were computed (distinct times)."""
    raw = RawValues(session)
    return [raw.datetime(t) for (t,) in plain_rows(
        session, select(verdict_t.evaluated_at)
        .join(Change.__table__, change_t.number == verdict_t.change_number)
        .where(*settled(at), _tracked(config)).distinct())]


def current_votes_of(session: Session, numbers: Sequence[int]) -> list[tuple]:
    """(number, label, account, value) of the non-zero current votes of `numbers`."""
    out: list[tuple] = []
    for part in chunks(list(numbers)):
        out += plain_rows(session, select(
            vote_t.change_number, vote_t.label, vote_t.account_id, vote_t.value)
            .where(vote_t.change_number.in_(part), vote_t.value != 0,
                   vote_t.label.in_(QUEUE_LABELS)))
    return out


def open_current_votes(session: Session, config: Config) -> list[tuple]:
    """(number, label, account, value) of every non-zero current vote on open tracked
    changes that have a verdict, for the labels the queues read; in Python's order (by
    change, label, account), the same on SQLite and PostgreSQL."""
    return sorted(plain_rows(session, select(
        vote_t.change_number, vote_t.label, vote_t.account_id,
        vote_t.value)
        .join(Change.__table__, change_t.number == vote_t.change_number)
        .where(change_t.status == "NEW", change_t.wip == False,  # noqa: E712
               change_t.missing_since.is_(None), _tracked(config), vote_t.value != 0,
               vote_t.label.in_(QUEUE_LABELS),
               exists().where(verdict_t.change_number == change_t.number))))


@dataclass(frozen=True, slots=True)
class ChangeSummary:
    """What a queue row shows about a change besides its score."""

    number: int
    project: str
    branch: str
    subject: str
    owner_id: int
    topic: str | None


def change_summaries(session: Session, numbers: Sequence[int]) -> dict[int, ChangeSummary]:
    out: dict[int, ChangeSummary] = {}
    for chunk in chunks(list(numbers)):
        for row in plain_rows(session, select(
                change_t.number, change_t.project, change_t.branch, change_t.subject,
                change_t.owner_id, change_t.topic).where(change_t.number.in_(chunk))):
            out[row[0]] = ChangeSummary(*row)
    return out


def is_tracked(session: Session, config: Config, number: int) -> bool:
    return bool(session.execute(
        select(exists().where(change_t.number == number, _tracked(config)))
    ).scalar())


class StoreGeneration:
    """Reads cheaply whether anything was committed to the store since the last look.

    SQLite's `PRAGMA data_version` on a connection kept only for watching (it moves
    whenever any other connection commits), PostgreSQL's snapshot xmax (it moves
    whenever any transaction writes). Other stores (in-memory SQLite) answer None.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self._watch = None
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            self._watch = engine.raw_connection()

    def read(self, session: Session) -> object | None:
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

    def close(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None
