"""Store reads for the PTL report: a lean, set-based load of the facts it needs, and
the per-change classes (priority matches, gate exemption) from the stored verdicts."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlmodel import Session

from reviewbot.clock import day_start
from reviewbot.config import Config
from reviewbot.core_effort import ReviewEvent
from reviewbot.report import ChangeClass, ChangeFacts
from reviewbot.snapshot import ChangeSnapshot
from reviewbot.store.snapshots import RawValues, load_changes, plain_rows
from reviewbot.tables import Change, CurrentVote, PatchSet, Verdict
from reviewbot.tables import VoteEvent as VoteEventRow

# The only labels the report reads (state and core reviews).
REPORT_LABELS = ("Code-Review", "Workflow", "Verified")


def _change_filter(config: Config, as_of: datetime):  # noqa: ANN202
    """Changes the report can see: configured projects/branches, created by T, and touched
    on or after the cycle start (a change last updated before it is out of every figure)."""
    c = Change.__table__.c
    return and_(
        c.project.in_(list(config.gerrit.projects)),
        c.branch.in_(list(config.gerrit.branches)),
        c.created <= as_of,
        c.updated >= day_start(config.cycle.start),
        c.missing_since.is_(None),
    )


def _open_after(as_of: datetime):  # noqa: ANN202
    """Not merged or abandoned by T (`report.closed_time`): only these read their labels."""
    c = Change.__table__.c
    closed = case(
        (c.status == "MERGED", func.coalesce(c.submitted, c.closed_at, c.updated)),
        (c.status == "ABANDONED", func.coalesce(c.closed_at, c.updated)),
        else_=None,
    )
    return or_(closed.is_(None), closed > as_of)


def load_report_facts(
    session: Session, config: Config, as_of: datetime
) -> tuple[list[ChangeFacts], list[ReviewEvent]]:
    """The report's input: one `ChangeFacts` per change it can see, and the Code-Review
    events up to T grouped by change and patch set (`report_from_facts`).

    Plain driver tuples, no ORM objects or snapshots, and only what the figures read:
    current votes only of changes open at T that nothing happened to after T (the
    others are judged from history or closed), vote history only of those others, and
    the Code-Review events the core-review figures need, in the order they are read.
    """
    where = _change_filter(config, as_of)
    raw = RawValues(session)
    to_dt, opt_dt = raw.datetime, raw.optional_datetime
    c = Change.__table__.c
    changes = Change.__table__
    change_rows = plain_rows(session, select(
        c.number, c.project, c.branch, c.subject, c.status, c.wip, c.owner_id, c.created,
        c.updated, c.current_patch_set, c.submitted, c.closed_at,
    ).where(where).order_by(c.number))
    if not change_rows:
        return [], []

    ps_t = PatchSet.__table__.c
    patch_sets: dict[int, list[tuple[int, datetime, int | None]]] = defaultdict(list)
    for number, ps, created, uploader in plain_rows(session, select(
        ps_t.change_number, ps_t.number, ps_t.created, ps_t.uploader_id,
    ).join(changes, c.number == ps_t.change_number).where(where)
     .order_by(ps_t.change_number, ps_t.number)):
        patch_sets[number].append((ps, to_dt(created), uploader))

    cv = CurrentVote.__table__.c
    current: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for number, label, value in plain_rows(session, select(cv.change_number, cv.label, cv.value)
                                           .join(changes, c.number == cv.change_number)
                                           .where(where, c.updated <= as_of, cv.value != 0,
                                                  cv.label.in_(REPORT_LABELS),
                                                  _open_after(as_of))):
        current[number].append((label, value))

    ve = VoteEventRow.__table__.c
    history: dict[int, list[tuple]] = defaultdict(list)
    for number, ps, account, label, value, date, removed in plain_rows(session, select(
        ve.change_number, ve.patch_set, ve.account_id, ve.label, ve.value, ve.date, ve.removed,
    ).join(changes, c.number == ve.change_number)
     .where(where, c.updated > as_of, ve.date <= as_of, ve.label.in_(REPORT_LABELS))
     .order_by(ve.change_number, ve.date, ve.id)):
        history[number].append((ps, account, label, value, to_dt(date), bool(removed)))

    # The largest read: every Code-Review event up to T, in the order the core-review
    # figures walk them, from the covering index ix_vote_event_report. A removed vote
    # reads as value 0 (SQL folds the flag in, so no per-row conversion of it here).
    event_rows = plain_rows(session, select(
        ve.change_number, ve.patch_set, ve.account_id,
        case((ve.removed, 0), else_=ve.value), ve.date,
    ).join(changes, c.number == ve.change_number)
     .where(where, ve.label == "Code-Review", ve.date <= as_of)
     .order_by(ve.change_number, ve.patch_set, ve.date, ve.id))
    review_events: list[ReviewEvent] = (
        [(number, ps, account, value, to_dt(date))
         for number, ps, account, value, date in event_rows]
        if session.get_bind().dialect.name == "sqlite" else event_rows  # others: datetimes
    )

    empty: tuple = ()
    # tuple.__new__ builds the NamedTuple without its Python-level __new__ (15,000+ rows).
    new, facts_type = tuple.__new__, ChangeFacts
    facts = [
        new(facts_type, (
            number, project, branch, subject, status, bool(wip), owner, to_dt(created),
            to_dt(updated), cur_ps, opt_dt(submitted), opt_dt(closed_at),
            tuple(patch_sets.get(number, empty)), tuple(current.get(number, empty)),
            tuple(history.get(number, empty)),
        ))
        for (number, project, branch, subject, status, wip, owner, created, updated, cur_ps,
             submitted, closed_at) in change_rows
    ]
    return facts, review_events


def load_change_classes(session: Session) -> dict[int, ChangeClass]:
    """Priority matches and gate exemption per change, from the stored verdicts.

    The verdict is judged on the change's latest synced state, which DESIGN says is
    also right for past dates.
    """
    classes: dict[int, ChangeClass] = {}
    v = Verdict.__table__.c
    to_json = RawValues(session).json
    plain = ChangeClass()  # most changes: no priority, not exempt (immutable, so shared)
    # Most verdicts hold no priority: their JSON text is recognised without decoding it.
    no_match = ("[]", "null", None)
    for number, exempt, priorities in plain_rows(
        session, select(v.change_number, v.exempt, v.priorities)
    ):
        # `exempt` is kept for closed changes too, whose gate state is "closed".
        if priorities in no_match or priorities == []:
            if exempt:
                classes[number] = ChangeClass((), True)
            else:
                classes[number] = plain
            continue
        found = tuple(to_json(priorities) or ())
        classes[number] = ChangeClass(found, bool(exempt)) if found or exempt else plain
    return classes


def load_unjudged(session: Session, numbers: list[int]) -> list[ChangeSnapshot]:
    """Full snapshots (commit message, files, hashtags) of report changes with no stored
    verdict yet (`numbers`, from the report's own change read, so the change filter is not
    run twice), so their priority matches can be computed on the spot."""
    if not numbers:
        return []
    return load_changes(session, numbers=numbers, history=False)
