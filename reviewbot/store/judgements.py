"""Store: stored review judgements — which changes need judging, writing them, reading them.

One `review` row per counted review with its judgements, and one `judged_change` row
per change saying what those were judged on. Standing as of now then reads one row
per review (`reviewbot.review_judgements` decides when that is allowed).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import (
    DateTime,
    Integer,
    and_,
    case,
    cast,
    delete,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    union_all,
)
from sqlmodel import Session

from reviewbot.config import Config
from reviewbot.people import Roster
from reviewbot.readiness import week_back, window_weeks
from reviewbot.standing import (
    COUNTED,
    OWNER_SHARE_WARNING,
    CREvent,
    Review,
    Weeks,
    new_tallies,
)
from reviewbot.store.accounts import chunks
from reviewbot.store.changes import insert_tuples, stamp_for
from reviewbot.store.review_reads import (
    date_parser,
    scope_conditions,
    stored_text,
    verdict_fact_columns,
)
from reviewbot.store.snapshots import plain_rows
from reviewbot.store.state import get_state, set_state
from reviewbot.stored_standing import judging_fingerprint
from reviewbot.tables import Change, JudgedChange, StoredReview, Verdict, VoteEvent

FINGERPRINT_KEY = "reviews.fingerprint"
THROUGH_KEY = "reviews.judged_through"


class ChangeStamp(NamedTuple):
    """What a change's judgements are judged on (a `judged_change` row)."""

    number: int
    revision: int
    priority: bool
    exempt: bool


def _stale_condition():
    priority, exempt = verdict_fact_columns()
    return or_(
        JudgedChange.change_number.is_(None),
        JudgedChange.revision != Change.revision,
        JudgedChange.priority != priority,
        JudgedChange.exempt != exempt,
    )


def _stale_select(*columns):
    return (select(*columns)
            .outerjoin(Verdict, Verdict.change_number == Change.number)
            .outerjoin(JudgedChange, JudgedChange.change_number == Change.number)
            .where(_stale_condition()))


def stale_changes(session: Session,
                  numbers: Collection[int] | None = None) -> list[tuple[int, int]]:
    """(number, revision) of the changes (of `numbers`, else all) never judged, or
    rewritten or re-classified since they were. Read the revision before the history it
    is judged on: a write in between then leaves the change stale, never wrongly
    current."""
    query = _stale_select(Change.number, Change.revision)
    if numbers is not None:
        query = query.where(Change.number.in_(list(numbers)))
    return plain_rows(session, query)


def any_stale(session: Session, among: Sequence = ()) -> bool:
    """Is any change (meeting the `among` conditions on Change) stale?"""
    query = _stale_select(Change.number).where(*among)
    return session.execute(select(query.exists())).scalar() or False


def reviewed_by(account_id: int, since: datetime) -> list:
    """The changes that reviewer's standing from `since` on can read: those with a vote of
    theirs since then (a review's date is their latest vote on it), and those with a
    stored review of theirs since then (a rewrite may have taken their votes away)."""
    return [or_(
        Change.number.in_(select(VoteEvent.change_number).where(
            VoteEvent.account_id == account_id, VoteEvent.date >= since)),
        Change.number.in_(select(StoredReview.change_number).where(
            StoredReview.account_id == account_id, StoredReview.date >= since)),
    )]


def updated_since(start: datetime) -> list:
    """Changes updated since `start`: the only ones holding reviews cast since then
    (Gerrit's `updated` is never older than a change's newest message; the replay
    narrows its read the same way)."""
    return [Change.updated >= start]


def judging_state(session: Session) -> tuple[str | None, datetime | None]:
    """The fingerprint the stored judgements were made under, and the newest vote or
    upload time they saw."""
    through = get_state(session, THROUGH_KEY)
    return (get_state(session, FINGERPRINT_KEY),
            datetime.fromisoformat(through) if through else None)


def set_judging_state(session: Session, fingerprint: str, through: datetime | None) -> None:
    set_state(session, FINGERPRINT_KEY, fingerprint)
    set_state(session, THROUGH_KEY, through.isoformat() if through else "")


def clear_judgements(session: Session) -> None:
    """Forget every stored judgement (the roster or the rules changed): all changes are
    judged again."""
    session.execute(delete(StoredReview))
    session.execute(delete(JudgedChange))


_REVIEW_COLUMNS = ("change_number", "patch_set", "account_id", "owner_id", "value", "date",
                   "month", "message_id", "core_at_time", "priority", "thoughtful", "judged",
                   "disagrees", "caught", "gate_open", "gate_open_confirmed", "first_crack",
                   "quick_large_plus1", "verdict_account_id", "verdict_value",
                   "verdict_date", "verdict_message_id")


def _review_tuple(r: Review, stamp: Callable[[datetime], object]) -> tuple:
    v = r.verdict
    return (r.change_number, r.patch_set, r.account_id, r.owner_id, r.value, stamp(r.date),
            r.date.year * 12 + r.date.month - 1, r.message_id, r.core_at_time, r.priority,
            r.thoughtful, r.judged, r.disagrees, r.caught, r.gate_open,
            r.gate_open_confirmed, r.first_crack, r.quick_large_plus1,
            v[2] if v is not None else None, v[3] if v is not None else None,
            stamp(v[4]) if v is not None else None, v[5] if v is not None else None)


def replace_judgements(session: Session, stamps: Sequence[ChangeStamp],
                       reviews: Iterable[Review]) -> int:
    """The stored reviews of `stamps`' changes become `reviews`; returns rows written."""
    conn = session.connection()
    numbers = [s.number for s in stamps]
    for part in chunks(numbers):
        conn.execute(delete(StoredReview).where(StoredReview.change_number.in_(part)))
        conn.execute(delete(JudgedChange).where(JudgedChange.change_number.in_(part)))
    stamp = stamp_for(conn)
    rows = [_review_tuple(r, stamp) for r in reviews]
    insert_tuples(conn, StoredReview.__table__, _REVIEW_COLUMNS, rows, stamped=True)
    insert_tuples(conn, JudgedChange.__table__,
                  ("change_number", "revision", "priority", "exempt"), [tuple(s) for s in stamps])
    return len(rows)


def judgements_current(session: Session, config: Config, roster: Roster,
                       as_of: datetime, among: Sequence = ()) -> bool:
    """True when the stored judgements of the changes a read needs (`among`: conditions
    on Change, e.g. `reviewed_by(...)`; all changes when empty) equal what replaying the
    votes as of `as_of` gives: made under today's roster and rules, none of those changes
    rewritten or re-classified since, and nothing stored newer than `as_of` (a past date
    must not see later votes). The check and the reads after it are separate statements:
    a judge pass committing in between can show newer judgements than were checked,
    which the next read corrects."""
    stored, through = judging_state(session)
    if stored != judging_fingerprint(roster, config.gate.min_noncore_plus1):
        return False
    if through is not None and through > as_of:
        return False
    return not any_stale(session, among)


# --- reads -----------------------------------------------------------------------------

def _flag(condition):
    return func.sum(case((condition, 1), else_=0))


def _true(column):
    # Booleans are 0/1 on SQLite and real booleans on PostgreSQL.
    return column.is_(True)


class ReviewCounts(NamedTuple):
    counts: list[int]  # positions as `standing.metrics_from_counts` reads them
    changes_reviewed: int
    months_active: int


def _in_window(config: Config, start: datetime, as_of: datetime,
               settled: bool = False) -> list:
    """Stored reviews cast in [start, as_of] on changes in scope. Scope is tested as
    "not one of the (few) changes out of it", so the counting reads never join the
    change table row by row and stay inside the review index. `settled`: only on
    changes with no activity after `as_of` (their stored judgements are what judging
    as of `as_of` gives, see `settled_current`)."""
    where = [StoredReview.date >= start, StoredReview.date <= as_of]
    if settled:
        # The settled changes are few and listed by the `updated` index: the scope is
        # tested on them, and the reviews are looked up by change number.
        return [*where, StoredReview.change_number.in_(
            select(Change.number).where(Change.updated >= start, Change.updated <= as_of,
                                        *scope_conditions(config, project_index=False)))]
    out_of_scope = select(Change.number).where(not_(and_(*scope_conditions(config))))
    return [*where, StoredReview.change_number.not_in(out_of_scope)]


def count_reviews(session: Session, config: Config, *, start: datetime,
                  as_of: datetime) -> dict[int, ReviewCounts]:
    """Per reviewer, the counts behind every metric over the stored reviews cast in
    [start, as_of] on changes in scope: one GROUP BY."""
    return _count_rows(session, _in_window(config, start, as_of))


def _count_rows(session: Session, where: list) -> dict[int, ReviewCounts]:
    r = StoredReview
    query = (select(r.account_id, func.count(r.change_number.distinct()),
                    func.count(r.month.distinct()), *_counted(r))
             .where(*where)
             .group_by(r.account_id))
    return {account: ReviewCounts([int(x or 0) for x in rest], changes, months)
            for account, changes, months, *rest in plain_rows(session, query)}


def _counted(r) -> list:
    """The sums behind every metric, in `COUNTED` order, over review columns `r` (the
    table's, or a subquery's with the same names)."""
    judged, plus1, minus1 = _true(r.judged), r.value == 1, r.value == -1
    counted = {  # as `standing._count_review` counts a review
        "reviews": func.count(),
        "positive": _flag(r.value > 0),
        "judged": _flag(judged),
        "disagrees": _flag(and_(judged, _true(r.disagrees))),
        "judged_plus1": _flag(and_(judged, plus1)),
        "plus1_right": _flag(and_(judged, plus1, not_(_true(r.disagrees)))),
        "minus1": _flag(minus1),
        "caught": _flag(and_(minus1, _true(r.caught))),
        "thoughtful": _flag(and_(minus1, _true(r.thoughtful))),
        "gate_open": _flag(_true(r.gate_open)),
        "gate_open_confirmed": _flag(and_(_true(r.gate_open), _true(r.gate_open_confirmed))),
        "first_crack": _flag(_true(r.first_crack)),
        "priority": _flag(_true(r.priority)),
        "quick_large_plus1": _flag(_true(r.quick_large_plus1)),
        "plus1": _flag(plus1),
        "judgeable": _flag(or_(judged, _true(r.first_crack))),
    }
    return [counted[name] for name in COUNTED]


def dominant_owners(session: Session, config: Config, *, start: datetime,
                    as_of: datetime) -> dict[int, tuple[int, int]]:
    """Reviewers with more than `OWNER_SHARE_WARNING` of their +1 reviews in [start, as_of]
    on one owner's changes: reviewer -> (that owner, how many)."""
    r = StoredReview
    where = [r.value == 1, *_in_window(config, start, as_of)]
    per_owner = (select(r.account_id, r.owner_id, func.count().label("n"))
                 .where(*where).group_by(r.account_id, r.owner_id).subquery())
    totals = (select(r.account_id, func.count().label("total"))
              .where(*where).group_by(r.account_id).subquery())
    query = (select(per_owner.c.account_id, per_owner.c.owner_id, per_owner.c.n)
             .join(totals, totals.c.account_id == per_owner.c.account_id)
             .where(per_owner.c.n > totals.c.total * OWNER_SHARE_WARNING))
    return {account: (owner, n) for account, owner, n in plain_rows(session, query)}


def review_weeks(session: Session, config: Config, *, start: datetime,
                 as_of: datetime) -> dict[int, Weeks]:
    """Per reviewer, the stored reviews cast in [start, as_of] (on changes in scope) and
    the judgeable ones among them, per 7-day week counted back from `as_of`."""
    r = StoredReview
    parse = date_parser(session.connection())
    query = (select(r.account_id, stored_text(r.date), or_(_true(r.judged),
                                                           _true(r.first_crack)))
             .where(*_in_window(config, start, as_of)))
    n_weeks = window_weeks((as_of - start).days)
    last = n_weeks - 1
    out: dict[int, Weeks] = {}
    for account, date, judgeable in plain_rows(session, query):
        weeks = out.get(account)
        if weeks is None:
            weeks = out[account] = ([0] * n_weeks, [0] * n_weeks)
        back = last - week_back(as_of, parse(date))
        weeks[0][back] += 1
        if judgeable:
            weeks[1][back] += 1
    return out


def _weeks_back(conn, as_of: datetime, column):
    """Whole 7-day weeks from `column` back to `as_of` (0: the week ending at as_of), in
    SQL: SQLite's julianday (millisecond precision), PostgreSQL's epoch seconds."""
    if conn.dialect.name == "sqlite":
        days = func.julianday(as_of.isoformat(sep=" ")) - func.julianday(column)
        return cast(days / 7, Integer)
    seconds = func.extract("epoch", literal(as_of, DateTime) - column)
    return cast(func.floor(seconds / 604800), Integer)


def tally_settled(session: Session, config: Config, *, start: datetime, as_of: datetime,
                  window_days: int) -> dict:
    """Per reviewer, the stored reviews cast in [start, as_of] on changes with no activity
    after `as_of` (see `settled_current`), counted as the judging pass counts them, in
    one statement (no row per review reaches Python): the window's reviews are read once
    (looked up by the settled changes' numbers) into a common table, then grouped three
    ways: the counts per reviewer, the reviews per (month, week), the +1s per owner."""
    t = StoredReview.__table__.c
    where = _in_window(config, start, as_of, settled=True)
    w = (select(t.account_id, t.change_number, t.month, t.owner_id, t.value,
                _weeks_back(session.connection(), as_of, t.date).label("weeks"), t.judged,
                t.disagrees, t.caught, t.thoughtful, t.gate_open, t.gate_open_confirmed,
                t.first_crack, t.priority, t.quick_large_plus1)
         .where(*where).cte("window_reviews"))
    c = w.c
    counted = _counted(c)
    nothing = [cast(null(), Integer)] * len(counted)
    judgeable = _flag(or_(_true(c.judged), _true(c.first_crack)))
    query = union_all(
        select(literal(0), c.account_id, cast(null(), Integer), cast(null(), Integer),
               func.count(c.change_number.distinct()), *counted)
        .group_by(c.account_id),
        select(literal(1), c.account_id, c.month, c.weeks, func.count(), judgeable,
               *nothing[1:])
        .group_by(c.account_id, c.month, c.weeks),
        select(literal(2), c.account_id, c.owner_id, cast(null(), Integer), func.count(),
               *nothing)
        .where(c.value == 1).group_by(c.account_id, c.owner_id),
    )
    tallies = new_tallies(as_of, window_days)
    rows = sorted(plain_rows(session, query), key=lambda row: row[0])  # counts first
    for kind, account, a, b, n, *rest in rows:
        if kind == 0:
            tallies.add_counted(account, [int(x or 0) for x in rest], n)
        elif kind == 1:
            tallies.add_week(account, (a // 12, a % 12 + 1), int(b), n, int(rest[0] or 0))
        else:
            tallies[account].plus1_owners[a] = n
    return tallies


def tally_settled_order(session: Session, config: Config, *, start: datetime,
                        as_of: datetime, window_days: int) -> dict:
    """`tally_settled` reduced to what the readiness order reads (reviews, judged,
    disagreeing, judgeable per week), in one grouped read: for the backtest, which ranks
    people on many past leaderboards. Every other count stays 0."""
    r = StoredReview
    tallies = new_tallies(as_of, window_days)
    where = _in_window(config, start, as_of, settled=True)
    weeks = _weeks_back(session.connection(), as_of, r.date).label("weeks")
    judged = _true(r.judged)
    query = (select(r.account_id, weeks, func.count(),
                    _flag(or_(judged, _true(r.first_crack))), _flag(judged),
                    _flag(and_(judged, _true(r.disagrees))))
             .where(*where).group_by(r.account_id, weeks))
    for account, back, n, judgeable, n_judged, disagrees in plain_rows(session, query):
        t = tallies.add_counted(account, _order_counts(n, n_judged, disagrees), 0)
        t.weeks[0][t.last - int(back)] += n
        t.weeks[1][t.last - int(back)] += int(judgeable or 0)
    return tallies


def _order_counts(reviews: int, judged: int | None, disagrees: int | None) -> list[int]:
    counts = [0] * len(COUNTED)
    counts[COUNTED.index("reviews")] = reviews
    counts[COUNTED.index("judged")] = int(judged or 0)
    counts[COUNTED.index("disagrees")] = int(disagrees or 0)
    return counts


def settled_current(session: Session, config: Config, roster: Roster, start: datetime,
                    as_of: datetime) -> bool:
    """True when the stored judgements of the changes updated in [start, as_of] (none of
    them active after `as_of`) equal judging them as of `as_of`: made under today's
    roster and rules, and none of them rewritten or re-classified since. A change's
    judgements depend only on its own events, all at or before `as_of` here."""
    stored, _through = judging_state(session)
    if stored != judging_fingerprint(roster, config.gate.min_noncore_plus1):
        return False
    return not any_stale(session, [Change.updated >= start, Change.updated <= as_of])


def load_reviews(session: Session, config: Config, account_id: int, *, since: datetime,
                 as_of: datetime) -> list[Review]:
    """One reviewer's stored reviews cast in [since, as_of] on changes in scope, oldest
    first (as `standing.compute_standings` orders them)."""
    conn = session.connection()
    parse = date_parser(conn)
    r = StoredReview
    query = (select(Change.project, r.change_number, r.patch_set, r.account_id, r.owner_id,
                    r.value, stored_text(r.date), r.message_id, r.core_at_time, r.priority,
                    r.thoughtful, r.judged, r.disagrees, r.caught, r.gate_open,
                    r.gate_open_confirmed, r.first_crack, r.quick_large_plus1,
                    r.verdict_account_id, r.verdict_value, stored_text(r.verdict_date),
                    r.verdict_message_id)
             .join(Change, Change.number == r.change_number)
             .where(r.account_id == account_id, r.date >= since, r.date <= as_of,
                    *scope_conditions(config))
             .order_by(r.date, r.change_number, r.patch_set))
    out = []
    for (project, number, ps, account, owner, value, date, message_id, core, priority,
         thoughtful, judged, disagrees, caught, gate_open, confirmed, first_crack, quick,
         v_account, v_value, v_date, v_message) in plain_rows(session, query):
        review = Review(number, ps, project, owner, account, value, parse(date), message_id,
                        bool(core), bool(priority), bool(thoughtful))
        if v_account is not None:
            review.verdict = CREvent(number, ps, v_account, v_value, parse(v_date), v_message)
        review.judged = bool(judged)
        review.disagrees = bool(disagrees)
        review.caught = bool(caught)
        review.gate_open = bool(gate_open)
        review.gate_open_confirmed = bool(confirmed)
        review.first_crack = bool(first_crack)
        review.quick_large_plus1 = bool(quick)
        out.append(review)
    return out
