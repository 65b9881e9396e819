"""Store reads for standing: the vote history metrics are judged on, in a few set-based queries.

Never one query per vote: a few queries load every Code-Review event, change,
patch set and comment-only message that a window (or one reviewer) needs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    String,
    Text,
    case,
    cast,
    func,
    literal,
    not_,
    or_,
    select,
    tuple_,
    type_coerce,
)
from sqlmodel import Session

from reviewbot.numbers import ACCOUNT_ID_MAX, ascii_int
from reviewbot.store.accounts import chunks
from reviewbot.store.snapshots import ToDatetime, plain_rows
from reviewbot.store.tables import Account, Change, Message, PatchSet, Verdict, VoteEventRow
from reviewbot.timeline.snapshot import (
    CommentFacts,
    CREvent,
    PatchSetFacts,
    ReviewedChange,
    ReviewHistory,
    ReviewScope,
)

CODE_REVIEW = "Code-Review"

# The tables' Core columns for the reads every leaderboard makes (the scope, the stored
# verdict's facts, the comment counts), as in `queue_reads`: a statement naming the model
# classes' attributes compiles through the ORM, which configures every mapper on its
# first use (~10 ms of `reviewers --json`, whose reads all take the driver's rows).
change_t, message_t, vote_event_t, verdict_t = (
    model.__table__.c for model in (Change, Message, VoteEventRow, Verdict))


def stored_text(column):
    # SQLAlchemy parses SQLite's datetime text with a Python regex per value; reading the
    # text and using the C `fromisoformat` is several times faster on 100k+ rows.
    # PostgreSQL's driver returns datetimes either way.
    return type_coerce(column, String)


def _dt(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def date_parser(conn):
    # SQLite hands back the stored text; PostgreSQL's driver hands back datetimes.
    return datetime.fromisoformat if conn.dialect.name == "sqlite" else _dt


def scope_conditions(scope: ReviewScope, *, project_index: bool = True) -> list:
    """Changes in the scope's projects and branches that are still visible."""
    # `project || ''` keeps the planner off the project index (see load_review_history).
    project = change_t.project if project_index else change_t.project.concat("")
    conditions = [project.in_(list(scope.projects)), change_t.missing_since.is_(None)]
    if scope.branches:
        conditions.append(change_t.branch.in_(list(scope.branches)))
    return conditions


def _thoughtful(account_id: int | None, thoughtful_chars: int):
    """The vote message decides "thoughtful" -1s (an inline comment, or at least
    `thoughtful_chars` characters of free text: the judging rules' threshold, passed in);
    it is looked up only for -1 events (of the one reviewer asked about, if any): a
    random read into the message table each."""
    wanted = VoteEventRow.value == -1
    if account_id is not None:
        wanted = (VoteEventRow.value == -1) & (VoteEventRow.account_id == account_id)
    return case(
        (
            wanted,
            select(
                or_(
                    Message.inline_comments > 0,
                    func.length(func.trim(Message.free_text)) >= thoughtful_chars,
                )
            )
            .where(Message.id == VoteEventRow.message_id)
            .scalar_subquery(),
        ),
        else_=False,
    )


_EVENT_COLUMNS = (VoteEventRow.change_number, VoteEventRow.patch_set,
                  VoteEventRow.account_id, VoteEventRow.value, stored_text(VoteEventRow.date),
                  VoteEventRow.message_id, VoteEventRow.id)
# The sparkline needs no message id: without it the read is answered from the
# (account_id, date, label, change_number, patch_set, value) index alone.
_SPARK_COLUMNS = (*_EVENT_COLUMNS[:5], literal(""), VoteEventRow.id)


def load_review_history(
    session: Session,
    scope: ReviewScope,
    *,
    as_of: datetime,
    since: datetime,
    window_start: datetime,
    thoughtful_chars: int,
    account_id: int | None = None,
    bots: Collection[int] = (),
    active_after: bool = False,
    comments: bool = True,
) -> ReviewHistory:
    """Everything needed to judge the reviews cast in [window_start, as_of] (by
    `account_id`, or by anyone; with `active_after`, only on the changes with activity
    after `as_of`, whose stored judgements saw it), in five queries whatever the number
    of votes:

    - every Code-Review event up to `as_of` on the patch sets that have a Code-Review
      event in the window (by that reviewer, when one is given);
    - for one reviewer, their own events of [since, as_of] for the 52-week sparkline;
    - those changes (owner, project, stored priority/exempt verdict) and patch sets;
    - the comment-only messages of the window.
    """
    if account_id is not None:
        conditions, which, patch_sets_where = _reviewer_reads(scope, account_id, as_of,
                                                              window_start)
    else:
        conditions, which, patch_sets_where = _everyone_reads(scope, as_of, window_start,
                                                              active_after)
    # Bots are never reviewers nor verdicts: their events are left out of the read.
    not_bot = [VoteEventRow.account_id.not_in(sorted(bots))] if bots else []
    if active_after:
        return _load_active_history(session, conditions, as_of=as_of, window_start=window_start,
                                    not_bot=not_bot, thoughtful_chars=thoughtful_chars)
    parse = date_parser(session.connection())
    events = _window_events(session, parse, [*which, *not_bot], as_of=as_of,
                            account_id=account_id, thoughtful_chars=thoughtful_chars)
    sparkline: list[CREvent] | None = None
    changes: dict[int, ReviewedChange] = {}
    if account_id is not None:
        sparkline = _sparkline(session, parse, conditions, changes, account_id=account_id,
                               since=since, as_of=as_of)
    # The backtest's order needs no comments (`comments=False`).
    comment_facts = [] if not comments else load_comment_messages(
        session, scope, start=window_start, as_of=as_of, account_id=account_id,
        # Everyone: only changes updated in the window are judged (`_everyone_reads`), and
        # walking their messages beats the date index's row lookups across the table.
        updated_since=None if account_id is not None else window_start,
    )
    if account_id is not None:
        missing = sorted({c.change_number for c in comment_facts} - changes.keys())
        if missing:
            changes.update(_load_changes(session, [Change.number.in_(missing)], conditions))
    else:
        changes = _load_changes(session, [Change.updated >= window_start], conditions)
    patch_sets = _load_patch_sets(session, patch_sets_where, conditions)
    return ReviewHistory(changes=changes, patch_sets=patch_sets, events=events,
                         comments=comment_facts, sparkline_events=sparkline)


def _reviewer_reads(scope: ReviewScope, account_id: int, as_of: datetime,
                    window_start: datetime) -> tuple[list, list, list]:
    """`load_review_history`'s (change conditions, vote event conditions, patch set
    conditions) for one reviewer: the patch sets they voted on in the window (index on
    account, date)."""
    conditions = scope_conditions(scope)
    mine = (VoteEventRow.account_id == account_id, VoteEventRow.label == CODE_REVIEW,
            VoteEventRow.date <= as_of)
    touched = select(VoteEventRow.change_number, VoteEventRow.patch_set).where(
        *mine, VoteEventRow.date >= window_start).distinct()
    which = [tuple_(VoteEventRow.change_number, VoteEventRow.patch_set).in_(touched),
             select(Change.number).where(
                 Change.number == VoteEventRow.change_number, *conditions).exists()]
    # Patch sets are read by subquery, not by thousands of bound numbers.
    patch_sets_where = [PatchSet.change_number.in_(
        select(VoteEventRow.change_number).where(*mine, VoteEventRow.date >= window_start))]
    return conditions, which, patch_sets_where


def _everyone_reads(scope: ReviewScope, as_of: datetime, window_start: datetime,
                    active_after: bool) -> tuple[list, list, list]:
    """`load_review_history`'s (change conditions, vote event conditions, patch set
    conditions) for everyone.

    A change with a vote in the window was updated at or after it, so the indexed
    `updated` column narrows the read; patch sets with no event in the window are then
    skipped while judging. On a store that was never ANALYZEd (every fresh import) SQLite
    would rather walk the project index (every change ever synced) or scan all vote
    events: the project test is made unindexable so the `updated` range leads, and the
    events are looked up by change number from that list. As of a past date, a change
    created after it holds nothing yet: most of the changes updated since the window
    started, for a backtest's as-of a year back.
    """
    conditions = [*scope_conditions(scope, project_index=False), Change.created <= as_of]
    if active_after:
        conditions.append(Change.updated > as_of)
    patch_sets_where = [Change.updated >= window_start]
    which = [VoteEventRow.change_number.in_(
        select(Change.number).where(*conditions, Change.updated >= window_start))]
    return conditions, which, patch_sets_where


def _window_events(session: Session, parse: ToDatetime, which: list, *,
                   as_of: datetime, account_id: int | None, thoughtful_chars: int) -> list:
    """The Code-Review events up to `as_of` that `which` selects, as plain tuples in
    CREvent's field order (the judging reads them by position; a verdict shown on a page
    is turned into a CREvent there): 100k+ rows on a leaderboard."""
    return [
        (c, ps, a, v, parse(d), m, i, bool(t))
        for c, ps, a, v, d, m, i, t in plain_rows(session, (
            select(*_EVENT_COLUMNS, _thoughtful(account_id, thoughtful_chars))
            .where(VoteEventRow.label == CODE_REVIEW, VoteEventRow.date <= as_of, *which)
        ))
    ]


def _sparkline(session: Session, parse: ToDatetime, conditions: list,
               changes: dict[int, ReviewedChange], *, account_id: int, since: datetime,
               as_of: datetime) -> list[CREvent]:
    """The reviewer's own events since `since`, with their changes' facts (added to
    `changes`) in the same read: those changes hold every touched patch set too."""
    sparkline = []
    for c, ps, a, v, d, m, i, *facts in plain_rows(session, (
        select(*_SPARK_COLUMNS, *change_fact_columns())
        .join(Change, Change.number == VoteEventRow.change_number)
        .outerjoin(Verdict, Verdict.change_number == Change.number)
        .where(VoteEventRow.account_id == account_id, VoteEventRow.label == CODE_REVIEW,
               VoteEventRow.date >= since, VoteEventRow.date <= as_of, *conditions)
    )):
        sparkline.append(CREvent(c, ps, a, v, parse(d), m, i))
        if c not in changes:
            changes[c] = _change_facts(*facts)
    return sparkline


def _load_active_history(session: Session, scope: list, *, as_of: datetime,
                         window_start: datetime, not_bot: list,
                         thoughtful_chars: int) -> ReviewHistory:
    """`load_review_history(active_after=True)`: the changes active after `as_of` are
    few, but finding them walks every change updated since then (their `created` is not
    indexed); they are walked once, and their events up to `as_of` and their patch sets
    are then looked up by change number."""
    parse = date_parser(session.connection())
    changes = _load_changes(session, [Change.updated >= window_start], scope)
    history = ReviewHistory(changes=changes, patch_sets={}, events=[])
    for part in chunks(sorted(changes)):  # bound parameters per statement stay few
        history.events.extend(_window_events(
            session, parse, [VoteEventRow.change_number.in_(part), *not_bot], as_of=as_of,
            account_id=None, thoughtful_chars=thoughtful_chars))
        history.patch_sets.update(
            _load_patch_sets(session, [PatchSet.change_number.in_(part)], []))
    return history


def load_judging_history(
    session: Session, numbers: Collection[int], *, thoughtful_chars: int,
    bots: Collection[int] = (), stored_dates: dict[datetime, Any] | None = None,
) -> ReviewHistory:
    """Everything stored about changes `numbers` that judging their reviews needs: every
    Code-Review event but bots', the changes' facts, their patch sets. No scope, window
    or as-of cut: the judgements stored are judged on it all.

    `stored_dates` (when given) gets every event's date as the store holds it (SQLite's
    text, in the one format every write uses), so the judge step writes a review's and
    its verdict's dates back as read instead of formatting 100k+ datetimes again
    (~0.6 µs each)."""
    parse = date_parser(session.connection())
    not_bot = [VoteEventRow.account_id.not_in(sorted(bots))] if bots else []
    history = ReviewHistory(changes={}, patch_sets={}, events=[])
    wanted = set(numbers)  # a range read may meet a change stored since it was counted
    for which in change_number_parts(session, wanted):
        rows = [row for row in plain_rows(session, (
            select(*_EVENT_COLUMNS, _thoughtful(None, thoughtful_chars))
            .where(VoteEventRow.label == CODE_REVIEW, which(VoteEventRow.change_number),
                   *not_bot)
        )) if row[0] in wanted]
        read = [row[4] for row in rows]
        dates = list(map(parse, read))
        if stored_dates is not None:
            stored_dates.update(zip(dates, read, strict=True))
        history.events.extend(
            (c, ps, a, v, date, m, i, bool(t))
            for (c, ps, a, v, _read, m, i, t), date in zip(rows, dates, strict=True))
        changes = _load_changes(session, [which(Change.number)], [])
        history.changes.update((n, c) for n, c in changes.items() if n in wanted)
        patch_sets = _load_patch_sets(session, [which(PatchSet.change_number)], [])
        history.patch_sets.update((k, p) for k, p in patch_sets.items() if k[0] in wanted)
    return history


def change_number_parts(session: Session,
                        numbers: Collection[int]) -> list[Callable[[Any], Any]]:
    """`numbers` (of stored changes) as conditions on a change-number column, each
    selecting some of them (a read or delete runs once per condition): one range when
    the store holds as many changes from the least to the greatest number (a judge from
    scratch asks for every change in order), else the numbers themselves, a bounded list
    per statement. SQLAlchemy renders each listed number as a bound parameter of its
    own: ~0.1 s of the 20k-change judge's 0.5 s of reading. The range is exact only
    while no change is added in it: a reader that must not see one filters by number."""
    ordered = sorted(set(numbers))
    if not ordered:
        return []
    low, high = ordered[0], ordered[-1]
    # Counted up to one more than asked: a few changes spread over a large store (a
    # webhook's, a sync's) cost a few rows here, not a walk over the store.
    stored = (select(Change.number).where(Change.number.between(low, high))
              .limit(len(ordered) + 1).subquery())
    held = session.execute(select(func.count()).select_from(stored)).scalar_one()
    if held == len(ordered):
        return [lambda column: column.between(low, high)]
    return [_listed(part) for part in chunks(ordered)]


def _listed(numbers: Sequence[int]) -> Callable[[Any], Any]:
    return lambda column: column.in_(numbers)


def change_fact_columns() -> tuple:
    """Owner, project and the stored verdict's priority/exempt facts (Verdict outer-joined).

    Priority and exemption come from the stored verdict (`reviewbot evaluate`), judged on
    the latest synced state as DESIGN asks, also for past dates. A closed change's gate
    state is "closed", so its exemption is read from the "exempt: ..." reason lines the
    rules write for open and closed changes alike. Both are decided in SQL on the JSON
    text, so no JSON is decoded per change. No stored verdict: non-priority, not exempt.
    """
    return (Change.number, Change.project, Change.owner_id, *verdict_fact_columns())


def verdict_fact_columns() -> tuple:
    """(priority, exempt) of a change from its outer-joined stored verdict, in SQL (see
    `change_fact_columns`)."""
    priorities = func.coalesce(cast(verdict_t.priorities, Text), "[]")
    exempt = or_(verdict_t.gate_state == "exempt",
                 cast(verdict_t.reasons, Text).like('%"exempt: %'))
    return priorities.not_in(["[]", "null"]), func.coalesce(exempt, False)


def _change_facts(number: int, project: str, owner_id: int, priority: object,
                  exempt: object) -> ReviewedChange:
    return ReviewedChange(number, project, owner_id, bool(priority), bool(exempt))


def _load_changes(session: Session, where: list, scope: list) -> dict[int, ReviewedChange]:
    query = (select(*change_fact_columns())
             .outerjoin(Verdict, Verdict.change_number == Change.number)
             .where(*scope, *where))
    return {row[0]: _change_facts(*row) for row in plain_rows(session, query)}


def _load_patch_sets(session: Session, where: list,
                     scope: list) -> dict[tuple[int, int], PatchSetFacts]:
    parse = date_parser(session.connection())
    query = (select(PatchSet.change_number, PatchSet.number, stored_text(PatchSet.created),
                    PatchSet.uploader_id, PatchSet.insertions + PatchSet.deletions)
             .join(Change, Change.number == PatchSet.change_number)
             .where(*scope, *where))
    return {(number, ps): PatchSetFacts(number, ps, parse(created), uploader, size or 0)
            for number, ps, created, uploader, size in plain_rows(session, query)}


def _comment_conditions(start: datetime, as_of: datetime, account_id: int | None) -> list:
    m, ve = message_t, vote_event_t
    votes_in_message = select(ve.id).where(ve.message_id == m.id).exists()
    conditions = [
        m.date >= start,
        m.date <= as_of,
        m.author_id.is_not(None),
        or_(m.tag.is_(None), not_(m.tag.like("autogenerated:%"))),
        # Sync sets changes_votes from the vote tokens; the vote events are checked too,
        # so a message counts as a comment only if neither says it touched a vote.
        not_(m.changes_votes),
        not_(votes_in_message),
    ]
    if account_id is not None:
        conditions.append(m.author_id == account_id)
    return conditions


def load_comment_messages(
    session: Session, in_scope: ReviewScope, *, start: datetime, as_of: datetime,
    account_id: int | None = None, updated_since: datetime | None = None,
) -> list[CommentFacts]:
    """Messages in [start, as_of] that change no vote and are not autogenerated, on
    others' changes (the owner's own messages are dropped here already); with
    `updated_since`, only on changes updated since then."""
    parse = date_parser(session.connection())
    scope = scope_conditions(in_scope)
    which = []
    if updated_since is not None:
        scope = scope_conditions(in_scope, project_index=False)
        which = [Message.change_number.in_(
            select(Change.number).where(Change.updated >= updated_since,
                                        Change.created <= as_of))]
    rows = plain_rows(session,
        select(Message.id, Message.author_id, Message.change_number, Message.patch_set,
               stored_text(Message.date))
        .join(Change, Change.number == Message.change_number)
        .where(*which, *_comment_conditions(start, as_of, account_id),
               Message.author_id != Change.owner_id, *scope)
    )
    return [CommentFacts(i, a, c, ps, parse(d)) for i, a, c, ps, d in rows]


def comment_counts(session: Session, in_scope: ReviewScope, *, start: datetime,
                   as_of: datetime, updated_since: datetime) -> dict[int, int]:
    """Per author, the messages `load_comment_messages(..., updated_since=...)` returns,
    counted in SQL: a leaderboard needs only how many, not one object per message."""
    c, m = change_t, message_t
    which = m.change_number.in_(
        select(c.number).where(c.updated >= updated_since, c.created <= as_of))
    query = (select(m.author_id, func.count())
             .join(Change.__table__, c.number == m.change_number)
             .where(which, *_comment_conditions(start, as_of, None),
                    m.author_id != c.owner_id,
                    *scope_conditions(in_scope, project_index=False))
             .group_by(m.author_id))
    return dict(plain_rows(session, query))


def find_account(session: Session, who: str) -> int | None:
    """Account id for a username, or for `#123` / `123` (a numeric account id)."""
    text = who.strip()
    number = ascii_int(text.lstrip("#"), ACCOUNT_ID_MAX)
    if number is not None:
        if session.get(Account, number) is not None:
            return number
    row = session.execute(select(Account.id).where(Account.username == text)).first()
    return row[0] if row else None


def usernames_of(session: Session, account_ids: set[int]) -> dict[int, str]:
    """Display names for a set of accounts (username, else full name, else #id)."""
    out: dict[int, str] = {}
    ids = sorted(account_ids)
    for i in range(0, len(ids), 900):  # stay under SQLite's bound-parameter limit
        for aid, username, name in session.execute(
            select(Account.id, Account.username, Account.name).where(
                Account.id.in_(ids[i : i + 900]))
        ):
            out[aid] = username or name or f"#{aid}"
    return out


def history_span(session: Session, scope: ReviewScope) -> tuple[datetime, datetime] | None:
    """The store's review history: the first and last Code-Review vote event on a change
    in scope (None when there is none)."""
    first, last = session.execute(
        select(func.min(VoteEventRow.date), func.max(VoteEventRow.date))
        .join(Change, Change.number == VoteEventRow.change_number)
        .where(VoteEventRow.label == CODE_REVIEW, *scope_conditions(scope))).one()
    if first is None:
        return None
    return _dt(first), _dt(last)

