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
from reviewbot.store.snapshots import RawValues, plain_rows
from reviewbot.store.tables import Account, Change, CurrentVote, PatchSet, Verdict

_CHUNK = 900  # stay under SQLite's bound-parameter limit
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
    cols = (Account.id, Account.username, Account.name)
    row = session.exec(select(*cols).where(Account.username == text_)).first()
    if row is None:
        row = session.exec(
            select(*cols).where(func.lower(Account.username) == text_.lower())
            .order_by(Account.id)
        ).first()
    if row is None and "@" in text_:
        row = session.exec(
            select(*cols).where(func.lower(Account.email) == text_.lower()).order_by(Account.id)
        ).first()
    if row is None and text_.lstrip("-").isascii() and text_.lstrip("-").isdigit():
        number = int(text_)
        if -(2**63) <= number < 2**63:
            row = session.exec(select(*cols).where(Account.id == number)).first()
    return Reviewer(*row) if row is not None else None


def _tracked(config: Config):
    return and_(Change.project.in_(config.gerrit.projects),
                Change.branch.in_(config.gerrit.branches))


def candidate_rows(session: Session, config: Config, gate_states: Sequence[str],
                   review_state: str, *, settled_at: datetime | None = None,
                   reviewer_id: int | None = None) -> list[tuple]:
    """Open tracked changes whose stored verdict has one of `gate_states` and `review_state`
    (with `settled_at`: only the changes settled at that time, `settled`; with
    `reviewer_id`: only those the reviewer does not own and has no Code-Review vote on):
    (number, owner id, current patch set, upload time, gate state, priorities, rank, branch)."""
    raw = RawValues(session)
    where = (settled(settled_at) if settled_at is not None else
             [Change.status == "NEW", Change.wip == False,  # noqa: E712
              Change.missing_since.is_(None)])
    if reviewer_id is not None:
        where = [*where, Change.owner_id != reviewer_id, ~exists().where(
            CurrentVote.change_number == Change.number, CurrentVote.label == "Code-Review",
            CurrentVote.account_id == reviewer_id, CurrentVote.value != 0)]
    rows = plain_rows(session, select(
        Change.number, Change.owner_id, Change.current_patch_set, PatchSet.created,
        Verdict.gate_state, Verdict.priorities, Verdict.rank, Change.branch)
        .select_from(Change)
        .join(Verdict, Verdict.change_number == Change.number)
        .outerjoin(PatchSet, and_(PatchSet.change_number == Change.number,
                                  PatchSet.number == Change.current_patch_set))
        .where(*where, _tracked(config), Verdict.gate_state.in_(list(gate_states)),
               Verdict.review_state == review_state))
    return [(n, owner, ps, raw.optional_datetime(up), gate, raw.json(prios), rank, branch)
            for n, owner, ps, up, gate, prios, rank, branch in rows]


def settled(at: datetime) -> list:
    """Conditions on Change joined with its Verdict: open at T (created by T, not WIP, and
    nothing happened to it after T, so it is still open) and a verdict computed from its
    rows as they are (its revision). Such a change stands today as it stood at T."""
    return [Change.status == "NEW", Change.wip == False,  # noqa: E712
            Change.missing_since.is_(None), Change.created <= at, Change.updated <= at,
            Verdict.evaluated_revision == Change.revision]


def settled_evaluation_times(session: Session, config: Config, at: datetime) -> list[datetime]:
    """When the verdicts of the changes settled at T were computed (distinct times)."""
    raw = RawValues(session)
    return [raw.datetime(t) for (t,) in plain_rows(session, select(Verdict.evaluated_at)
                                                   .join(Change,
                                                         Change.number == Verdict.change_number)
                                                   .where(*settled(at), _tracked(config))
                                                   .distinct())]


def current_votes_of(session: Session, numbers: Sequence[int]) -> list[tuple]:
    """(number, label, account, value) of the non-zero current votes of `numbers`."""
    out: list[tuple] = []
    numbers = list(numbers)
    for start in range(0, len(numbers), _CHUNK):
        out += plain_rows(session, select(
            CurrentVote.change_number, CurrentVote.label, CurrentVote.account_id,
            CurrentVote.value).where(CurrentVote.change_number.in_(numbers[start:start + _CHUNK]),
                                     CurrentVote.value != 0,
                                     CurrentVote.label.in_(QUEUE_LABELS)))
    return out


def open_current_votes(session: Session, config: Config) -> list[tuple]:
    """(number, label, account, value) of every non-zero current vote on open tracked
    changes that have a verdict, for the labels the queues read; in Python's order (by
    change, label, account), the same on SQLite and PostgreSQL."""
    return sorted(plain_rows(session, select(
        CurrentVote.change_number, CurrentVote.label, CurrentVote.account_id,
        CurrentVote.value)
        .join(Change, Change.number == CurrentVote.change_number)
        .where(Change.status == "NEW", Change.wip == False,  # noqa: E712
               Change.missing_since.is_(None), _tracked(config), CurrentVote.value != 0,
               CurrentVote.label.in_(QUEUE_LABELS),
               exists().where(Verdict.change_number == Change.number))))


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
    numbers = list(numbers)
    for start in range(0, len(numbers), _CHUNK):
        chunk = numbers[start : start + _CHUNK]
        for row in plain_rows(session, select(
                Change.number, Change.project, Change.branch, Change.subject, Change.owner_id,
                Change.topic).where(Change.number.in_(chunk))):
            out[row[0]] = ChangeSummary(*row)
    return out


def stored_reasons(session: Session, numbers: Sequence[int]
                   ) -> dict[int, tuple[str, list[dict]]]:
    """(gate reason, priority matches as stored) of the stored verdicts of `numbers`: the
    sentences a queue page shows beside each change, and nothing else of the verdict."""
    raw = RawValues(session)
    out: dict[int, tuple[str, list[dict]]] = {}
    numbers = list(numbers)
    for start in range(0, len(numbers), _CHUNK):
        for number, reason, matches in plain_rows(session, select(
                Verdict.change_number, Verdict.gate_reason, Verdict.matches)
                .where(Verdict.change_number.in_(numbers[start:start + _CHUNK]))):
            out[number] = (reason or "", raw.json(matches) or [])
    return out


def is_tracked(session: Session, config: Config, number: int) -> bool:
    return bool(session.execute(
        select(exists().where(Change.number == number, _tracked(config)))
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
