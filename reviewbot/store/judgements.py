"""Store: stored review judgements — which changes need judging, writing them, reading them.

One `review` row per counted review with its judgements, and one `judged_change` row
per change saying what those were judged on. Standing as of now then reads one row
per review (`reviewbot.evaluate.review_judgements` decides when that is allowed). Plain SQL and
plain rows: the judging fingerprint, the scope and the thresholds come in as values,
and the figures are made from these rows by `reviewbot.metrics.stored_standing` and
`reviewbot.metrics.standing`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    DateTime,
    Integer,
    Text,
    and_,
    case,
    cast,
    delete,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
)
from sqlmodel import Session

from reviewbot.store.review_reads import (
    change_number_parts,
    change_t,
    date_parser,
    scope_conditions,
    stored_text,
    verdict_fact_columns,
    verdict_t,
)
from reviewbot.store.snapshots import plain_rows
from reviewbot.store.state import get_state, set_state
from reviewbot.store.tables import Change, JudgedChange, StoredReview, Verdict, VoteEventRow
from reviewbot.timeline.snapshot import (
    COUNTED,
    CREvent,
    JudgedReview,
    ReviewScope,
    SettledCounts,
    TeamScope,
)

# Core columns for the leaderboard's reads (see `review_reads.change_t`).
review_t, judged_t = (model.__table__.c for model in (StoredReview, JudgedChange))

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
    j = judged_t
    return or_(
        j.change_number.is_(None),
        j.revision != change_t.revision,
        j.priority != priority,
        j.exempt != exempt,
    )


def _stale_select(*columns):
    return (select(*columns)
            .outerjoin(Verdict.__table__, verdict_t.change_number == change_t.number)
            .outerjoin(JudgedChange.__table__, judged_t.change_number == change_t.number)
            .where(_stale_condition()))


def stale_changes(session: Session, numbers: Collection[int] | None = None,
                  among: Sequence = ()) -> list[tuple[int, int]]:
    """(number, revision) of the changes (of `numbers`, else all) never judged, or
    rewritten or re-classified since they were. Read the revision before the history it
    is judged on: a write in between then leaves the change stale, never wrongly
    current. In number order: a judge from scratch then reads each pass's changes as
    one range (`change_number_parts`)."""
    query = _stale_select(Change.number, Change.revision).where(*among).order_by(Change.number)
    if numbers is not None:
        query = query.where(Change.number.in_(list(numbers)))
    return plain_rows(session, query)


def any_stale(session: Session, among: Sequence = ()) -> bool:
    """Is any change (meeting the `among` conditions on Change) stale?"""
    query = _stale_select(change_t.number).where(*among)
    return bool(plain_rows(session, select(query.exists()))[0][0])


def reviewed_by(account_id: int, since: datetime) -> list:
    """The changes that reviewer's standing from `since` on can read: those with a vote of
    theirs since then (a review's date is their latest vote on it), and those with a
    stored review of theirs since then (a rewrite may have taken their votes away)."""
    return [or_(
        Change.number.in_(select(VoteEventRow.change_number).where(
            VoteEventRow.account_id == account_id, VoteEventRow.date >= since)),
        Change.number.in_(select(StoredReview.change_number).where(
            StoredReview.account_id == account_id, StoredReview.date >= since)),
    )]


def updated_since(start: datetime) -> list:
    """Changes updated since `start`: the only ones holding reviews cast since then
    (Gerrit's `updated` is never older than a change's newest message; the replay
    narrows its read the same way)."""
    return [change_t.updated >= start]


def _team_key(team: TeamScope | None, key: str) -> str:
    # Each team of a deployment judges its own changes with its own roster
    # (`Config.state_key` names the same keys).
    return f"{key}@{team.name}" if team is not None else key


def team_scope(team: TeamScope | None) -> list:
    """Conditions on Change for a team's judging when the deployment has several teams
    (each judges its own changes, with its own core group); none otherwise."""
    if team is None:
        return []
    return [change_t.project.in_(list(team.projects)), change_t.branch.in_(list(team.branches))]


def judging_state(session: Session, team: TeamScope | None = None
                  ) -> tuple[str | None, datetime | None]:
    """The fingerprint the stored judgements were made under, and the newest vote or
    upload time they saw."""
    through = get_state(session, _team_key(team, THROUGH_KEY))
    return (get_state(session, _team_key(team, FINGERPRINT_KEY)),
            datetime.fromisoformat(through) if through else None)


def set_judging_state(session: Session, fingerprint: str, through: datetime | None,
                      team: TeamScope | None = None) -> None:
    set_state(session, _team_key(team, FINGERPRINT_KEY), fingerprint)
    set_state(session, _team_key(team, THROUGH_KEY), through.isoformat() if through else "")


def clear_judgements(session: Session, among: Sequence = ()) -> None:
    """Forget every stored judgement (of the changes meeting `among`; the roster or the
    rules changed): those changes are judged again."""
    if among:
        numbers = select(Change.number).where(*among)
        session.execute(delete(StoredReview).where(StoredReview.change_number.in_(numbers)))
        session.execute(delete(JudgedChange).where(JudgedChange.change_number.in_(numbers)))
        return
    session.execute(delete(StoredReview))
    session.execute(delete(JudgedChange))


# A review's columns; the last four are its verdict's (NULL for a review with none).
_REVIEW_COLUMNS = ("change_number", "patch_set", "account_id", "owner_id", "value", "date",
                   "month", "message_id", "core_at_time", "priority", "thoughtful", "judged",
                   "disagrees", "caught", "gate_open", "gate_open_confirmed", "first_crack",
                   "quick_large_plus1", "verdict_account_id", "verdict_value",
                   "verdict_date", "verdict_message_id")
_UNJUDGED_COLUMNS = _REVIEW_COLUMNS[:-4]


class ReviewRows(NamedTuple):
    """Judged reviews as the `review` table's rows (`review_rows`)."""

    judged: list[tuple]  # with a verdict: `_REVIEW_COLUMNS`
    unjudged: list[tuple]  # without: `_UNJUDGED_COLUMNS` (the verdict columns stay NULL)


def review_rows(reviews: Iterable[tuple[Any, ...]],
                stamp: Callable[[datetime], object]) -> ReviewRows:
    """The rows `replace_judgements` stores, from judged reviews in `JudgedReview`'s
    field order (`judge_all_reviews`; `stamp`: a judged date as the store holds it, see
    `load_judging_history(stored_dates=...)`). Plain tuples: the judge step builds them
    in its judging process, and they cross to the writing one cheaply.

    A store judged from scratch writes 100k+ rows, and the sqlite3 driver binds a bool or
    a None through its adaptation protocol (two failed attribute lookups per value), an
    int or a text directly: flags go as 0/1 (`+ 0`; PostgreSQL's Boolean takes 0/1 as
    well) and the ~95 % of reviews with no verdict bind no NULLs. On the 20k-change
    store the insert went from 1.07 to ~0.55 s CPU. Which rows are inserted first is
    no answer's business: every read of these rows groups or orders them."""
    judged: list[tuple] = []
    unjudged: list[tuple] = []
    for (number, patch_set, _project, owner, account, value, date, message_id, core,
         priority, thoughtful, v, is_judged, disagrees, caught, gate_open, confirmed,
         first_crack, quick) in reviews:
        row = (number, patch_set, account, owner, value, stamp(date),
               date.year * 12 + date.month - 1, message_id, core + 0, priority + 0,
               thoughtful + 0, is_judged + 0, disagrees + 0, caught + 0, gate_open + 0,
               confirmed + 0, first_crack + 0, quick + 0)
        if v is None:
            unjudged.append(row)
        else:
            judged.append((*row, v[2], v[3], stamp(v[4]), v[5]))
    return ReviewRows(judged, unjudged)


def replace_judgements(session: Session, stamps: Sequence[ChangeStamp],
                       rows: ReviewRows) -> int:
    """The stored reviews of `stamps`' changes become `rows` (`review_rows`); returns
    rows written."""
    # The bulk writer (and the Gerrit records its module reads) is imported by the judge
    # step that writes, not by every reader of this module (the leaderboard: ~7 ms).
    from reviewbot.store.changes import insert_tuples

    conn = session.connection()
    # A change added in a range after it was counted has nothing judged to delete yet.
    for which in change_number_parts(session, [s.number for s in stamps]):
        conn.execute(delete(StoredReview).where(which(StoredReview.change_number)))
        conn.execute(delete(JudgedChange).where(which(JudgedChange.change_number)))
    insert_tuples(conn, StoredReview.__table__, _REVIEW_COLUMNS, rows.judged, stamped=True)
    insert_tuples(conn, StoredReview.__table__, _UNJUDGED_COLUMNS, rows.unjudged, stamped=True)
    insert_tuples(conn, JudgedChange.__table__,
                  ("change_number", "revision", "priority", "exempt"),
                  [(s.number, s.revision, s.priority + 0, s.exempt + 0) for s in stamps])
    return len(rows.judged) + len(rows.unjudged)


def judgements_current(session: Session, fingerprint: str, as_of: datetime,
                       among: Sequence = (), team: TeamScope | None = None) -> bool:
    """True when the stored judgements of the changes a read needs (`among`: conditions
    on Change, e.g. `reviewed_by(...)`; all changes when empty) equal what replaying the
    votes as of `as_of` gives: made under `fingerprint` (today's roster and rules, see
    `stored_standing.judging_fingerprint`), none of those changes
    rewritten or re-classified since, and nothing stored newer than `as_of` (a past date
    must not see later votes). The check and the reads after it are separate statements:
    a judge pass committing in between can show newer judgements than were checked,
    which the next read corrects."""
    stored, through = judging_state(session, team)
    if stored != fingerprint:
        return False
    if through is not None and through > as_of:
        return False
    return not any_stale(session, [*among, *team_scope(team)])


# --- reads -----------------------------------------------------------------------------

def _flag(condition):
    """How many rows of the group meet `condition`. As an aggregate FILTER, not a sum of
    CASE 0/1: SQLite evaluates no expression per row for the rows it leaves out (the
    leaderboard's grouped read of ~65,000 reviews: 80 -> 65 ms)."""
    return func.count().filter(condition)


def _true(column):
    # Booleans are 0/1 on SQLite and real booleans on PostgreSQL.
    return column.is_(True)


def _in_window(scope: ReviewScope, start: datetime, as_of: datetime,
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
        return [*where, StoredReview.change_number.in_(_settled_changes(scope, start, as_of))]
    return [*where, StoredReview.change_number.not_in(_out_of_scope(scope))]


def _out_of_scope(scope: ReviewScope):
    return select(change_t.number).where(not_(and_(*scope_conditions(scope))))


def _settled_changes(scope: ReviewScope, start: datetime, as_of: datetime):
    """The changes in scope updated in [start, as_of] (by the `updated` index): those
    holding reviews of that window with no activity after `as_of`."""
    return select(change_t.number).where(change_t.updated >= start, change_t.updated <= as_of,
                                         *scope_conditions(scope, project_index=False))


def _reviewers():
    """Every account with a stored review, from the review index by one seek each (a
    "loose index scan": the next account above the last one found)."""
    r = review_t
    ids = select(func.min(r.account_id).label("id")).cte("reviewers", recursive=True)
    following = select(func.min(r.account_id)).where(r.account_id > ids.c.id)
    ids = ids.union_all(select(following.scalar_subquery()).where(ids.c.id.is_not(None)))
    return select(ids.c.id)


def _concat(conn, column, *, distinct: bool = False):
    """The group's non-null values of an integer `column` as one comma-separated text
    (SQLite's group_concat, PostgreSQL's string_agg)."""
    if conn.dialect.name == "sqlite":
        return func.group_concat(column.distinct() if distinct else column)
    text = cast(column, Text)
    return func.string_agg(text.distinct() if distinct else text, literal_column("','"))


def _tally_text(text: str | None) -> dict[int, int]:
    """How often each integer occurs in a `_concat` text (None: the group had none)."""
    return {int(k): n for k, n in Counter(text.split(",")).items()} if text else {}


def _integers(text: str | None) -> frozenset[int]:
    """The integers of a `_concat` text (None: the group had none)."""
    return frozenset(map(int, text.split(","))) if text else frozenset()


def _counted(r) -> list:
    """The sums behind every metric, in `COUNTED` order, over review columns `r` (the
    table's, or a subquery's with the same names)."""
    judged, plus1, minus1 = _true(r.judged), r.value == 1, r.value == -1
    counted = {  # as the judging counts a review (`standing._count_review`)
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


def _weeks_back(conn, as_of: datetime, column):
    """Whole 7-day weeks from `column` back to `as_of` (0: the week ending at as_of), in
    SQL: SQLite's julianday (millisecond precision), PostgreSQL's epoch seconds."""
    if conn.dialect.name == "sqlite":
        days = func.julianday(as_of.isoformat(sep=" ")) - func.julianday(column)
        return cast(days / 7, Integer)
    seconds = func.extract("epoch", literal(as_of, DateTime) - column)
    return cast(func.floor(seconds / 604800), Integer)


def settled_counts(session: Session, scope: ReviewScope, *, start: datetime,
                   as_of: datetime, settled: bool = True) -> list[SettledCounts]:
    """Per reviewer, the stored reviews cast in [start, as_of] on changes with no activity
    after `as_of` (see `settled_current`; with `settled=False`, on every change in scope:
    the leaderboard when all stored judgements are current), counted in one statement
    with no row per review reaching Python: the sums in `COUNTED` order and the distinct
    changes, and, as comma-separated texts counted here, the reviews per (whole week back
    from `as_of`, judgeable), the months, the +1s per owner.

    The reviews are read reviewer by reviewer from the (account, date) covering index,
    one date range each, so the grouping needs no sort: the rows already come grouped.
    `change_number + 0` keeps SQLite's planner from looking each settled change up by
    the primary key instead (a table row per review) on a store never ANALYZEd."""
    conn = session.connection()
    r = review_t
    judgeable = case((or_(_true(r.judged), _true(r.first_crack)), 1), else_=0)
    week_key = _weeks_back(conn, as_of, r.date) * 2 + judgeable
    query = (select(r.account_id, func.count(r.change_number.distinct()), *_counted(r),
                    _concat(conn, week_key), _concat(conn, r.month, distinct=True),
                    _concat(conn, case((r.value == 1, r.owner_id))))
             .where(r.account_id.in_(_reviewers()), r.date >= start, r.date <= as_of,
                    (r.change_number + 0).in_(_settled_changes(scope, start, as_of))
                    if settled else r.change_number.not_in(_out_of_scope(scope)))
             .group_by(r.account_id))
    out = []
    for account, changes, *sums, weeks, months, owners in plain_rows(session, query):
        by_week: dict[int, list[int]] = {}
        for key, n in _tally_text(weeks).items():
            counted = by_week.setdefault(key >> 1, [0, 0])
            counted[0] += n
            if key & 1:
                counted[1] += n
        out.append(SettledCounts(account, changes, tuple(int(x or 0) for x in sums),
                                 {back: (n, j) for back, (n, j) in by_week.items()},
                                 _integers(months), _tally_text(owners)))
    return out


def settled_order_counts(session: Session, scope: ReviewScope, *, start: datetime,
                         as_of: datetime) -> list[tuple[int, int, int, int, int, int]]:
    """`settled_counts` reduced to what the readiness order reads, in one grouped read
    (for the backtest, which ranks people on many past leaderboards): per reviewer and
    whole week back from `as_of`, (reviewer, weeks back, reviews, judgeable, judged,
    disagreeing)."""
    r = StoredReview
    where = _in_window(scope, start, as_of, settled=True)
    weeks = _weeks_back(session.connection(), as_of, r.date).label("weeks")
    judged = _true(r.judged)
    query = (select(r.account_id, weeks, func.count(),
                    _flag(or_(judged, _true(r.first_crack))), _flag(judged),
                    _flag(and_(judged, _true(r.disagrees))))
             .where(*where).group_by(r.account_id, weeks))
    return [(account, int(back), n, int(judgeable or 0), int(n_judged or 0),
             int(disagrees or 0))
            for account, back, n, judgeable, n_judged, disagrees in plain_rows(session, query)]


def settled_current(session: Session, fingerprint: str, start: datetime,
                    as_of: datetime, team: TeamScope | None = None) -> bool:
    """True when the stored judgements of the changes updated in [start, as_of] (none of
    them active after `as_of`) equal judging them as of `as_of`: made under `fingerprint`
    (today's roster and rules), and none of them rewritten or re-classified since. A
    change's judgements depend only on its own events, all at or before `as_of` here."""
    stored, _through = judging_state(session, team)
    if stored != fingerprint:
        return False
    return not any_stale(session, [Change.updated >= start, Change.updated <= as_of,
                                   *team_scope(team)])


def load_reviews(session: Session, scope: ReviewScope, account_id: int, *, since: datetime,
                 as_of: datetime) -> list[JudgedReview]:
    """One reviewer's stored reviews cast in [since, as_of] on changes in scope, oldest
    first (as `standing.compute_standings` orders them)."""
    conn = session.connection()
    parse = date_parser(conn)
    r = StoredReview
    query = (select(r.change_number, r.patch_set, Change.project, r.owner_id, r.account_id,
                    r.value, stored_text(r.date), r.message_id, r.core_at_time, r.priority,
                    r.thoughtful, r.verdict_account_id, r.verdict_value,
                    stored_text(r.verdict_date), r.verdict_message_id, r.judged,
                    r.disagrees, r.caught, r.gate_open, r.gate_open_confirmed,
                    r.first_crack, r.quick_large_plus1)
             .join(Change, Change.number == r.change_number)
             .where(r.account_id == account_id, r.date >= since, r.date <= as_of,
                    *scope_conditions(scope))
             .order_by(r.date, r.change_number, r.patch_set))
    out = []
    for (number, ps, project, owner, account, value, date, message_id, core, priority,
         thoughtful, v_account, v_value, v_date, v_message,
         *judgements) in plain_rows(session, query):
        verdict = None if v_account is None else CREvent(number, ps, v_account, v_value,
                                                         parse(v_date), v_message)
        out.append(JudgedReview(number, ps, project, owner, account, value, parse(date),
                                message_id, bool(core), bool(priority), bool(thoughtful),
                                verdict, *map(bool, judgements)))
    return out
