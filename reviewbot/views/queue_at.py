"""Queue view: the changes as they stood at a past date T, with their gate state at T: the
changes settled at T from their stored states, every other one replayed through
`reviewbot.timeline.state` and the gate rule (`evaluate.judge_state`), with the priority
matches of the stored verdicts. Tests hold the two ways equal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from reviewbot.config import Config
from reviewbot.evaluate.verdicts import evaluate_changes, judge_state, stored_classes
from reviewbot.metrics.queue import FIRST_CRACK_GATE_STATE, QUEUE_GATE_STATES, QueueChange
from reviewbot.rules.ruleset import ruleset_for
from reviewbot.rules.verdict import ChangeVerdict
from reviewbot.store.open_at import load_open_at
from reviewbot.store.queue_reads import candidate_rows, current_votes_of, settled_evaluation_times
from reviewbot.store.snapshots import load_changes
from reviewbot.timeline.people import Roster
from reviewbot.timeline.roster import load_roster
from reviewbot.timeline.snapshot import GATE_STATES
from reviewbot.timeline.state import WAITING_ON_REVIEWERS, ChangeState, state_at
from reviewbot.views.queue_present import candidate_change, priority_reasons, votes_by_change


def queue_change(state: ChangeState, verdict: ChangeVerdict, branch: str = "") -> QueueChange:
    """The queues' view of a change at T from its timeline state and its verdict at T."""
    gate_state = verdict.gate.state
    # every gate state of an open change (a frozen one is open, only held back from the queue)
    is_open = state.is_open and gate_state in GATE_STATES
    if state.status is None:
        status = "absent"
    elif state.status == "open":
        status = "wip" if state.wip else "open"
    else:
        status = state.status
    return QueueChange(
        state.number, is_open, status, state.owner_id, state.patch_set, state.uploaded,
        state.votes, state.review, gate_state, verdict.gate.reason,
        tuple(verdict.priority_ids), verdict.rank, priority_reasons(verdict), branch)


def changes_at(session: Session, config: Config, at: datetime,
               numbers: Sequence[int] | None = None, *, replay_all: bool = False
               ) -> tuple[list[QueueChange], Roster]:
    """The changes as they stood at T, with their gate state at T: `numbers` whole, or else
    every change open at T that was waiting on reviewers then (no other can be in a queue).
    `replay_all` replays the settled changes too (tests hold both ways equal).
    """
    roster = load_roster(session, config)
    settled: list[QueueChange] = []
    if numbers is None:
        # A change nothing happened to since T, with a verdict from its rows as they are,
        # stands today as it stood at T: its stored states answer, when core membership
        # was the same at T as when they were judged. The others are replayed, read lean
        # (`load_open_at`) and judged only when waiting on reviewers.
        core_then = roster.core_at(at)
        freeze = ruleset_for(config).freeze
        frozen_then = freeze is not None and freeze.in_effect(at)
        # ... and when the feature freeze was in effect at T exactly as when they were judged
        use_stored = not replay_all and all(
            roster.core_at(t) == core_then
            and (freeze is not None and freeze.in_effect(t)) == frozen_then
            for t in settled_evaluation_times(session, config, at))
        if use_stored:
            settled = _settled_changes(session, config, at)
        states = [(change, state) for change in load_open_at(
                      session, config.gerrit.projects, config.gerrit.branches, at,
                      unsettled_only=use_stored)
                  if (state := state_at(change, at, roster.username)).review is not None
                  and state.review.state == WAITING_ON_REVIEWERS]
    else:
        states = [(change, state_at(change, at, roster.username)) for change in load_changes(
            session, numbers=list(numbers), history=True, content=False,
            include_missing=True)]
    if not states:
        return settled, roster
    known = stored_classes(session, [c.number for c, _s in states])
    unjudged = [c.number for c, _s in states if c.number not in known]
    if unjudged:  # synced since the last evaluate: match them on their full content
        for verdict in evaluate_changes(
                load_changes(session, numbers=unjudged, history=False, include_missing=True),
                config, roster, at):
            known[verdict.number] = verdict
    rules = ruleset_for(config)
    return settled + [queue_change(state, judge_state(change, state, known[change.number],
                                                      rules, roster), change.branch)
                      for change, state in states], roster


def _settled_changes(session: Session, config: Config, at: datetime) -> list[QueueChange]:
    """Candidates of either queue among the changes settled at T, from their stored states
    (`queue_reads.settled`), with their current votes and their verdicts' sentences."""
    rank_of = {p.id: p.rank for p in config.priorities}
    rows = candidate_rows(session, config, (*QUEUE_GATE_STATES, FIRST_CRACK_GATE_STATE),
                          WAITING_ON_REVIEWERS, settled_at=at)
    votes = votes_by_change(current_votes_of(session, [r[0] for r in rows]))
    return [candidate_change(row, votes, rank_of) for row in rows]

