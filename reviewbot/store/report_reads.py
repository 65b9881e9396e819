"""Store reads for the PTL report: a lean, set-based load of the changes it needs, and
the per-change classes (priority matches, gate exemption) from the stored verdicts."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import String, and_, or_, select, type_coerce
from sqlmodel import Session

from reviewbot.clock import day_start
from reviewbot.config import Config
from reviewbot.report import ChangeClass
from reviewbot.snapshot import ChangeSnapshot, PatchSetInfo, Vote, VoteEvent
from reviewbot.store.snapshots import load_changes
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


def load_report_changes(session: Session, config: Config, as_of: datetime) -> list[ChangeSnapshot]:
    """Snapshots with patch sets, current votes and report-label vote events up to T.

    Four queries of plain column tuples (no ORM objects, no message texts), because
    the report runs over every change of a cycle and `load_changes(history=True)`
    also reads every message.
    """
    where = _change_filter(config, as_of)
    c = Change.__table__.c
    change_rows = session.execute(
        select(
            c.number, c.project, c.branch, c.subject, c.status, c.wip, c.owner_id, c.created,
            c.updated, c.current_patch_set, c.topic, c.submitted, c.closed_at, c.gerrit_id,
        ).where(where).order_by(c.number)
    ).all()
    if not change_rows:
        return []

    ps_t = PatchSet.__table__.c
    patch_sets: dict[int, list[PatchSetInfo]] = defaultdict(list)
    for number, ps, created, uploader, ins, dels in session.execute(
        select(
            ps_t.change_number, ps_t.number, ps_t.created, ps_t.uploader_id, ps_t.insertions,
            ps_t.deletions,
        ).join(Change.__table__, c.number == ps_t.change_number).where(where)
    ).all():
        patch_sets[number].append(PatchSetInfo(ps, created, uploader, ins, dels))

    cv = CurrentVote.__table__.c
    current: dict[int, list[Vote]] = defaultdict(list)
    for number, label, account, value in session.execute(
        select(cv.change_number, cv.label, cv.account_id, cv.value)
        .join(Change.__table__, c.number == cv.change_number)
        .where(where, cv.label.in_(REPORT_LABELS))
    ).all():
        current[number].append(Vote(label, account, value))

    ve = VoteEventRow.__table__.c
    events: dict[int, list[VoteEvent]] = defaultdict(list)
    # Core reviews need Code-Review events of every change; Workflow and Verified are
    # only read for changes updated after T, whose state as of T comes from history
    # (the others read their labels). This is the report's largest read.
    sqlite = session.get_bind().dialect.name == "sqlite"
    # On SQLite, fetch the timestamp text and parse it with fromisoformat (C, fast);
    # PostgreSQL's driver already returns datetimes.
    date_col = type_coerce(ve.date, String) if sqlite else ve.date
    parse = datetime.fromisoformat if sqlite else (lambda value: value)
    stmt = (
        select(ve.change_number, ve.patch_set, ve.account_id, ve.label, ve.value, date_col,
               ve.removed)
        .join(Change.__table__, c.number == ve.change_number)
        .where(where, ve.date <= as_of,
               or_(ve.label == "Code-Review",
                   and_(ve.label.in_(REPORT_LABELS), c.updated > as_of)))
        .order_by(ve.change_number, ve.date, ve.id)
    )
    for number, ps, account, label, value, date, removed in session.execute(stmt).all():
        # message_id is left empty: rows arrive in (date, id) order, which is the only
        # thing the report uses it for (a tie-break).
        events[number].append(VoteEvent(number, ps, account, label, value, parse(date), "",
                                        bool(removed)))

    out = []
    for (number, project, branch, subject, status, wip, owner, created, updated, cur_ps, topic,
         submitted, closed_at, gerrit_id) in change_rows:
        out.append(
            ChangeSnapshot(
                number=number, project=project, branch=branch, subject=subject, status=status,
                wip=bool(wip), owner_id=owner, created=created, updated=updated,
                current_patch_set=cur_ps, topic=topic, submitted=submitted,
                closed_at=closed_at,
                patch_sets=tuple(sorted(patch_sets.get(number, ()), key=lambda p: p.number)),
                current_votes=tuple(current.get(number, ())),
                vote_events=tuple(events.get(number, ())),
                gerrit_id=gerrit_id,
            )
        )
    return out


def load_change_classes(session: Session) -> dict[int, ChangeClass]:
    """Priority matches and gate exemption per change, from the stored verdicts.

    The verdict is judged on the change's latest synced state, which DESIGN says is
    also right for past dates.
    """
    classes: dict[int, ChangeClass] = {}
    v = Verdict.__table__.c
    for number, state, priorities, reasons in session.execute(
        select(v.change_number, v.gate_state, v.priorities, v.reasons)
    ).all():
        # A closed change's gate state is "closed", so exemption is read from its reasons
        # too ("exempt: ..." lines), which the rules write for open and closed changes.
        exempt = state == "exempt" or any(
            isinstance(r, str) and r.startswith("exempt: ") for r in (reasons or ())
        )
        classes[number] = ChangeClass(tuple(priorities or ()), exempt)
    return classes


def load_unjudged(session: Session, config: Config, as_of: datetime,
                  judged: set[int]) -> list[ChangeSnapshot]:
    """Full snapshots (commit message, files, hashtags) of report changes with no stored
    verdict yet, so their priority matches can be computed on the spot."""
    c = Change.__table__.c
    numbers = [
        n for n in session.execute(select(c.number).where(_change_filter(config, as_of)))
        .scalars() if n not in judged
    ]
    if not numbers:
        return []
    return load_changes(session, numbers=numbers, history=False)
