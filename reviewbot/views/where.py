"""Owner view: "Where is my change?" — its place in every core's queue at T and what moves it up.

Every fact comes from the queues as `reviewbot.views.queue_view` builds them (the same
candidates, order and why-not as `/queue`), so the answer never disagrees with a
core's own queue page. `moves` is pure: the change's state in, sentences out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from reviewbot.clock import full_days, utcnow
from reviewbot.config import Config
from reviewbot.metrics.queue import (
    CI_PASSED_POINTS,
    MINUS1_POINTS,
    ONE_CORE_PLUS2_POINTS,
    POINTS_PER_DAY,
    TWO_CORE_PLUS2_POINTS,
    QueueChange,
    build_first_crack,
    build_queue,
    first_failure,
    score,
    score_facts_of,
)
from reviewbot.rules.ruleset import ruleset_for
from reviewbot.store.queue_reads import change_summaries, is_tracked
from reviewbot.timeline.people import Roster
from reviewbot.timeline.state import WAITING_ON_AUTHOR, WAITING_ON_REVIEWERS
from reviewbot.views.branch_cores import BranchCores
from reviewbot.views.queue_at import changes_at
from reviewbot.views.queue_present import QueueCache, build_base


@dataclass(frozen=True, slots=True)
class QueuePlace:
    """The change in one core reviewer's queue: its position, or the first condition failed."""

    reviewer: str
    position: int | None
    total: int
    failed: str | None = None
    message: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"reviewer": self.reviewer, "in_queue": self.position is not None,
                "position": self.position, "total": self.total, "failed": self.failed,
                "message": self.message}


@dataclass(frozen=True, slots=True)
class WhereAnswer:
    number: int
    subject: str
    project: str
    branch: str
    owner: str
    as_of: datetime
    tracked: bool
    status: str
    gate_state: str | None
    gate_reason: str
    review_state: str | None
    review_reason: str
    priorities: tuple[str, ...]
    score: int | None
    score_reasons: tuple[str, ...]
    places: tuple[QueuePlace, ...]
    first_crack_position: int | None = None
    first_crack_total: int | None = None
    moves: tuple[str, ...] = field(default_factory=tuple)

    @property
    def in_queues(self) -> list[QueuePlace]:
        return [p for p in self.places if p.position is not None]

    def headline(self) -> str:
        """One sentence: how many core queues hold the change, and its best place."""
        cores = len(self.places)
        held = self.in_queues
        if not self.tracked:
            return f"Change {self.number} is outside the configured projects and branches."
        if not held:
            return (f"Change {self.number} is in none of the {cores} core reviewers' queues "
                    f"as of {self.as_of:%Y-%m-%d %H:%M} UTC.")
        best = min(held, key=lambda p: p.position or 0)
        return (f"Change {self.number} is in {len(held)} of {cores} core reviewers' queues as "
                f"of {self.as_of:%Y-%m-%d %H:%M} UTC; best position {best.position} of "
                f"{best.total} ({best.reviewer}).")

    def as_json(self, gerrit_base: str = "") -> dict[str, Any]:
        return {
            "number": self.number, "subject": self.subject, "project": self.project,
            "branch": self.branch, "owner": self.owner,
            "as_of": self.as_of.strftime("%Y-%m-%dT%H:%M:%SZ"), "tracked": self.tracked,
            "status": self.status, "gate_state": self.gate_state,
            "gate_reason": self.gate_reason, "review_state": self.review_state,
            "review_reason": self.review_reason, "priorities": list(self.priorities),
            "score": self.score, "score_reasons": list(self.score_reasons),
            "headline": self.headline(),
            "queues": [p.as_json() for p in self.places],
            "first_crack": {"position": self.first_crack_position,
                            "total": self.first_crack_total},
            "moves": list(self.moves),
            "gerrit_url": f"{gerrit_base}/c/{self.project}/+/{self.number}" if gerrit_base
            else None,
        }


def moves(change: QueueChange, roster: Roster, at: datetime, *, min_plus1: int = 1,
          exception_hashtag: str | None = None,
          core_test: Callable[[int], bool] | None = None) -> list[str]:
    """What would move the change up (or into the queues at all), most effective first.
    `core_test`: who is core on the change's branch at T (a branch policy's group on a
    stable branch); the project core group when None."""
    name = roster.username
    if change.status == "absent":
        return []
    if change.status == "wip":
        return ["mark it ready for review: work in progress is in no queue"]
    if change.status != "open":
        return []
    review = change.review
    out: list[str] = []
    if review is not None and review.state == WAITING_ON_AUTHOR:
        if "CI failed" in review.reason:
            out.append("fix the failing CI run (or recheck it): a change CI fails waits on its "
                       "author, not on reviewers")
        else:
            out.append("answer the -1 (reply on the change or upload a new patch set) to hand "
                       "it back to reviewers")
    elif review is not None and review.state != WAITING_ON_REVIEWERS:
        return [f"nothing for reviewers to do: {review.reason}"]
    if change.gate_state == "frozen":
        way = f" or the freeze-exception hashtag {exception_hashtag} from the PTL" \
            if exception_hashtag else ""
        out.append("after feature freeze only bug fixes are reviewed: a Closes-Bug or "
                   f"Partial-Bug footer, a release-critical bug tag{way} brings it back")
        return out
    if change.gate_state == "gated":
        need = "a non-core +1" if min_plus1 == 1 else f"{min_plus1} non-core +1s"
        out.append(f"{need} on patch set {change.current_patch_set} opens the gate: it then "
                   "enters every core reviewer's queue")
        return out
    if change.gate_state not in ("priority", "exempt", "open"):
        return out
    facts = score_facts_of(change, core_test or roster.core_at(at).__contains__)
    if not facts.ci_passed:
        out.append(f"a passing CI run (Verified +1) adds {CI_PASSED_POINTS} points")
    plus2 = len(facts.core_plus2)
    if plus2 == 0:
        out.append(f"a core +2 adds {ONE_CORE_PLUS2_POINTS} points")
    elif plus2 == 1:
        out.append(f"a second core +2 adds {TWO_CORE_PLUS2_POINTS - ONE_CORE_PLUS2_POINTS} "
                   f"points (it has {name(facts.core_plus2[0])}'s)")
    else:
        out.append("it has two core +2s: a core's Workflow +1 approves it")
    if facts.minus1 and review is not None and review.state == WAITING_ON_REVIEWERS:
        out.append(f"the answered -1 costs {-MINUS1_POINTS} points until its reviewer "
                   "revisits it (a new vote replaces it)")
    if change.gate_state != "priority":
        out.append("cycle priorities come first: only a change matching a priority (its "
                   "blueprint footer, topic, hashtag...) goes ahead of them")
    days = full_days(change.uploaded, at) if change.uploaded else 0
    out.append(f"each full day waiting adds {POINTS_PER_DAY} points (waiting {days} so far); "
               "a new patch set starts the count again")
    return out


def where_is(session: Session, config: Config, number: int, as_of: datetime | None = None,
             *, cache: QueueCache | None = None, now: datetime | None = None
             ) -> WhereAnswer | None:
    """The owner view of change `number` at T (None: the present at `now`); None if the
    change is not stored."""
    at = as_of or now or utcnow()
    found, roster = changes_at(session, config, at, numbers=[number])
    summary = change_summaries(session, [number]).get(number)
    if not found or summary is None:
        return None
    change = found[0]
    name = roster.username
    # Core on some branch (a branch policy's core group counts on its branches only).
    branch_cores = BranchCores(config, roster)
    cores = sorted(branch_cores.reviewers_at(at), key=name)
    places: list[QueuePlace] = []
    fc_position = fc_total = None
    if as_of is None:
        base = cache.base(session) if cache is not None else build_base(session, config)
        ordered = [row[2] for row in base.core_order(at)]
        for core in cores:
            excluded = base.excluded(core)
            mine = [c.number for c in ordered if c.number not in excluded
                    and branch_cores.allows(core, c, at)]
            places.append(_place(change, core, mine, name, branch_cores, at))
        shared = [c.number for c in base.first_crack_order()]
    else:
        everyone, _ = changes_at(session, config, at)
        core_at = roster.core_at(at).__contains__
        for core in cores:
            mine = [it.number for it in build_queue(
                [c for c in everyone if branch_cores.allows(core, c, at)], core, core_at, at,
                name, branch_cores.for_change(at, core_at))]
            places.append(_place(change, core, mine, name, branch_cores, at))
        # reviewer -1 owns and voted on nothing: the whole first-crack order
        shared = [it.number for it in build_first_crack(everyone, -1, at, name)]
    if change.gate_state == "gated" and change.open and number in shared:
        # The first-crack order is one list (longest wait first) every non-core sees less
        # the changes they own or voted on; its place there is the one to quote.
        fc_position, fc_total = shared.index(number) + 1, len(shared)
    total = reasons = None
    if change.open and change.gate_state in ("priority", "exempt", "open"):
        facts = score_facts_of(change, branch_cores.core_test(change.branch, at))
        total, reasons = score(facts, at, name)
    rules = ruleset_for(config)
    return WhereAnswer(
        number=number, subject=summary.subject, project=summary.project,
        branch=summary.branch, owner=name(change.owner_id), as_of=at,
        tracked=is_tracked(session, config, number), status=change.status,
        gate_state=change.gate_state, gate_reason=change.gate_reason,
        review_state=change.review.state if change.review else None,
        review_reason=change.review.reason if change.review else "",
        priorities=change.priorities, score=total, score_reasons=tuple(reasons or ()),
        places=tuple(places), first_crack_position=fc_position, first_crack_total=fc_total,
        moves=tuple(moves(change, roster, at, min_plus1=rules.min_plus1,
                          exception_hashtag=rules.freeze.exception_hashtag
                          if rules.freeze else None,
                          core_test=branch_cores.core_test(change.branch, at))),
    )


def _place(change: QueueChange, core: int, queue: list[int], name: Callable[[int | None], str],
           branch_cores: BranchCores, at: datetime) -> QueuePlace:
    if change.number in queue:
        return QueuePlace(name(core), queue.index(change.number) + 1, len(queue))
    failure = first_failure(change, core, name)
    if failure is None and not branch_cores.allows(core, change, at):
        group = branch_cores.group_of(change.branch) or branch_cores.config.gerrit.core_group
        failure = ("branch", f"targets {change.branch}, whose core reviewers are the members "
                   f"of {group}")
    key, message = failure if failure is not None else (
        "gate", "qualifies but is not in the queue yet: not evaluated since it last changed "
        "(run `reviewbot evaluate`)")
    return QueuePlace(name(core), None, len(queue), key, message)


__all__ = ["QueuePlace", "WhereAnswer", "moves", "where_is"]
