"""Change view: one change as of T — priorities, gate, review state, votes, the why-not —
as `reviewbot why CHANGE --json` and /api/v1/changes/N answer it (one shape, ChangeOut).

Which verdict answers (priorities, exemption, gate, notes):
- the present (no `as_of`): the stored verdict, the one the worker keeps up to date and
  the queues, the change list and the Gerrit hashtags read, so the change page never
  contradicts them; `evaluated_at` says when it was judged. A change with no stored
  verdict yet, or one synced again since its verdict (its revision moved: `why` right
  after `reviewbot sync`), is judged now, as `reviewbot evaluate` would judge it,
  stored nowhere (`evaluated_at` null).
- a past date T: the gate as the change stood at T with core membership at T, its
  priority matches and exemption from the stored verdict (DESIGN: judged on the latest
  synced state, for past dates too; a change never evaluated is matched at T), exactly
  as the queues as of T judge it (`evaluate.judge_at`).
The change's facts (status, patch sets, votes, review state) are its rows as of T either
way; the review state is given where the gate applies (an open change in scope).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from reviewbot.clock import utcnow
from reviewbot.config import Config
from reviewbot.evaluate.verdicts import (
    evaluate_change,
    judge_at,
    stored_classes,
    verdict_from_row,
)
from reviewbot.rules.ruleset import ruleset_for
from reviewbot.rules.verdict import ChangeVerdict
from reviewbot.store.queue_reads import find_reviewer
from reviewbot.store.snapshots import load_changes
from reviewbot.store.verdicts import load_verdict
from reviewbot.timeline.people import Roster
from reviewbot.timeline.roster import load_roster
from reviewbot.timeline.snapshot import GATE_STATES, ChangeSnapshot
from reviewbot.timeline.state import GERRIT_STATUS, ChangeState, state_at
from reviewbot.views.answers import change_link
from reviewbot.views.answers.change import ChangeOut
from reviewbot.views.answers.queue import age_text
from reviewbot.views.queue_present import QueueCache
from reviewbot.views.queue_view import ci_state, why_not_for


class ChangeNotStored(LookupError):
    def __init__(self, number: int) -> None:
        super().__init__(f"change {number} is not in the store: not synced yet (run "
                         "`reviewbot sync`), or outside the configured projects")


class UnknownReviewer(LookupError):
    def __init__(self, who: str) -> None:
        super().__init__(f"unknown user {who!r}: no synced Gerrit account has that username, "
                         "email or id")


def change_answer(session: Session, config: Config, number: int, *,
                  reviewer: str | None = None, as_of: datetime | None = None,
                  cache: QueueCache | None = None) -> ChangeOut:
    """Change `number` as of T (None: the present), with `reviewer`'s why-not when given.

    Raises ChangeNotStored, or UnknownReviewer when no synced account is `reviewer`.
    """
    now = as_of or utcnow()
    found = load_changes(session, numbers=[number], include_missing=True)
    if not found:
        raise ChangeNotStored(number)
    change = found[0]
    roster = load_roster(session, config)
    verdict, evaluated_at = _verdict(session, config, change, roster, as_of, now)
    state = state_at(change, now, roster.username)
    why_not = None
    if reviewer:
        who = find_reviewer(session, reviewer)
        if who is None:
            raise UnknownReviewer(reviewer)
        answer = why_not_for(session, config, number, who, as_of, cache=cache)
        why_not = answer.as_json() if answer is not None else None
    return ChangeOut.model_validate({
        **_facts(config, change, state, roster, now),
        "as_of": as_of.isoformat() if as_of else None,
        **_verdict_fields(verdict, state),
        "evaluated_at": evaluated_at.isoformat() if evaluated_at else None,
        "why_not": why_not,
    })


def _verdict(session: Session, config: Config, change: ChangeSnapshot, roster: Roster,
             as_of: datetime | None, now: datetime) -> tuple[ChangeVerdict, datetime | None]:
    """The verdict that answers (the module's rule), and when it was judged."""
    if as_of is None:
        row = load_verdict(session, change.number)
        # Current as the queues and the evaluate step read it: judged at the change's
        # revision (`store.verdicts.moved_since_evaluated`).
        if row is not None and row.evaluated_revision == change.revision:
            return verdict_from_row(row), row.evaluated_at
        return evaluate_change(change, config, roster, now), None
    classes = stored_classes(session, [change.number]).get(change.number)
    if classes is None:
        return evaluate_change(change, config, roster, as_of), as_of
    return judge_at(change, classes, ruleset_for(config), roster, as_of), as_of


def _facts(config: Config, change: ChangeSnapshot, state: ChangeState, roster: Roster,
           now: datetime) -> dict[str, Any]:
    """What the change's rows say at `now`: who, where, status, patch sets and votes."""
    by_ps: dict[int, list[dict[str, Any]]] = {}
    for e in change.vote_events:
        if e.date > now:
            continue
        by_ps.setdefault(e.patch_set, []).append({
            "by": roster.username(e.account_id), "account_id": e.account_id, "label": e.label,
            "value": e.value, "removed": e.removed, "date": e.date.isoformat(),
            "core": roster.is_core(e.account_id, e.date), "bot": roster.is_bot(e.account_id),
        })
    return {
        "number": change.number, "project": change.project, "branch": change.branch,
        "subject": change.subject, "owner": roster.username(change.owner_id),
        "status": GERRIT_STATUS[state.status], "wip": change.wip, "topic": change.topic,
        "hashtags": list(change.hashtags), "current_patch_set": state.patch_set,
        "age": age_text(state.uploaded, now), "ci": ci_state(state.votes),
        "gerrit_url": change_link(config, change.project, change.number),
        "core_known": roster.core_known,
        "current_votes": [
            {"label": v.label, "value": v.value, "account_id": v.account_id,
             "by": roster.username(v.account_id), "core": roster.is_core(v.account_id, now),
             "bot": roster.is_bot(v.account_id)} for v in state.votes],
        "patch_sets": [{
            "number": ps.number, "created": ps.created.isoformat(),
            "uploader": roster.username(ps.uploader_id), "votes": by_ps.get(ps.number, []),
        } for ps in sorted(change.patch_sets, key=lambda p: p.number, reverse=True)
            if ps.created <= now],
    }


def _verdict_fields(verdict: ChangeVerdict, state: ChangeState) -> dict[str, Any]:
    # The review state of the rows at T, where the gate applies (DESIGN: of an open change).
    review = state.review if verdict.gate.state in GATE_STATES else None
    return {
        "priorities": [{"id": p.priority_id, "title": p.title, "rank": p.rank,
                        "reasons": list(p.reasons)} for p in verdict.priorities],
        "rank": verdict.rank,
        "exempt_reasons": list(verdict.exempt_reasons),
        "gate_state": verdict.gate.state,
        "gate_reason": verdict.gate.reason,
        "gate_certain": verdict.gate.certain,
        "notes": list(verdict.notes),
        "reasons": verdict.reasons,
        "review_state": review.state if review else None,
        "review_state_label": review.label if review else None,
        "review_reason": review.reason if review else None,
    }
