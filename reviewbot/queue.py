"""Core queue: which open changes core reviewer C should review today, in order, and why-not.

Pure functions over plain inputs (DESIGN "Core queue" and "Why-not"). The store
side (`reviewbot.store.queue_reads`) computes the same facts in SQL for speed
and hands them to `score` and `order` here, so both paths share one definition.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from reviewbot.clock import full_days
from reviewbot.snapshot import ChangeSnapshot, Vote

# Gate states that let a change into a core queue (DESIGN "Core queue").
QUEUE_GATE_STATES = ("priority", "exempt", "open")

POINTS_PER_DAY = 3
CI_PASSED_POINTS = 10
CORE_PLUS2_POINTS = 20
MINUS1_POINTS = -30


@dataclass(frozen=True, slots=True)
class QueueChange:
    """What the queue needs to know about one change: its state, current votes and verdict.

    `votes` are Gerrit's labels on the current patch set (copied-forward votes
    included); `gate_state` is None when the change was never evaluated.
    """

    number: int
    status: str
    wip: bool
    owner_id: int
    current_patch_set: int
    uploaded: datetime | None
    votes: tuple[Vote, ...] = ()
    gate_state: str | None = None
    gate_reason: str = ""
    priorities: tuple[str, ...] = ()
    rank: int | None = None
    priority_reasons: tuple[str, ...] = ()

    @classmethod
    def from_snapshot(
        cls,
        snapshot: ChangeSnapshot,
        *,
        gate_state: str | None,
        gate_reason: str = "",
        priorities: Iterable[str] = (),
        rank: int | None = None,
        priority_reasons: Iterable[str] = (),
    ) -> QueueChange:
        current = snapshot.current
        return cls(
            number=snapshot.number,
            status=snapshot.status,
            wip=snapshot.wip,
            owner_id=snapshot.owner_id,
            current_patch_set=snapshot.current_patch_set,
            uploaded=current.created if current else None,
            votes=snapshot.current_votes,
            gate_state=gate_state,
            gate_reason=gate_reason,
            priorities=tuple(priorities),
            rank=rank,
            priority_reasons=tuple(priority_reasons),
        )


@dataclass(frozen=True, slots=True)
class ScoreFacts:
    """The inputs of the score: upload time and the current patch set's telling votes."""

    number: int
    uploaded: datetime | None
    patch_set: int
    ci_passed: bool = False
    core_plus2: tuple[int, ...] = ()  # core accounts with Code-Review +2
    minus1: tuple[int, ...] = ()  # accounts with Code-Review -1
    priority: str | None = None  # best-ranked priority id
    rank: int | None = None


@dataclass(frozen=True, slots=True)
class QueueItem:
    number: int
    priority: str | None
    rank: int | None
    score: int
    reasons: tuple[str, ...]
    uploaded: datetime | None


@dataclass(frozen=True, slots=True)
class WhyNot:
    """Is a change in C's queue, and if not, the first condition that failed."""

    number: int
    reviewer: str
    in_queue: bool
    failed: str | None  # condition key: open | owner | blocked | voted | gate | reviewer
    message: str
    position: int | None = None
    total: int | None = None
    score: int | None = None
    reasons: tuple[str, ...] = field(default_factory=tuple)

    def as_json(self) -> dict:
        return {
            "number": self.number,
            "reviewer": self.reviewer,
            "in_queue": self.in_queue,
            "failed": self.failed,
            "message": self.message,
            "position": self.position,
            "total": self.total,
            "score": self.score,
            "reasons": list(self.reasons),
        }


def _label(votes: Iterable[Vote], label: str) -> list[Vote]:
    return [v for v in votes if v.label == label and v.value != 0]


def blocking_votes(votes: Iterable[Vote]) -> list[Vote]:
    """DESIGN "blocked": Code-Review -2 or Workflow -1 on the current patch set."""
    votes = list(votes)
    return [v for v in _label(votes, "Code-Review") if v.value <= -2] + [
        v for v in _label(votes, "Workflow") if v.value < 0
    ]


def facts_of(change: QueueChange, core_ids: frozenset[int] | set[int]) -> ScoreFacts:
    """Score inputs of a change; `core_ids` are the accounts core at "now"."""
    review = _label(change.votes, "Code-Review")
    return ScoreFacts(
        number=change.number,
        uploaded=change.uploaded,
        patch_set=change.current_patch_set,
        ci_passed=any(v.value > 0 for v in _label(change.votes, "Verified")),
        core_plus2=tuple(sorted(v.account_id for v in review
                                if v.value >= 2 and v.account_id in core_ids)),
        minus1=tuple(sorted(v.account_id for v in review if v.value == -1)),
        priority=(change.priorities[0]
                  if change.gate_state == "priority" and change.priorities else None),
        rank=change.rank if change.gate_state == "priority" else None,
    )


def _days(n: int) -> str:
    return f"{n} full day{'s' if n != 1 else ''}"


def points(uploaded: datetime | None, now: datetime, ci_passed: bool, core_plus2: bool,
           minus1: bool) -> int:
    """The DESIGN score as a number: 3/full day since upload, +10 CI, +20 core +2, -30 any -1."""
    days = full_days(uploaded, now) if uploaded else 0
    return (POINTS_PER_DAY * days + (CI_PASSED_POINTS if ci_passed else 0)
            + (CORE_PLUS2_POINTS if core_plus2 else 0) + (MINUS1_POINTS if minus1 else 0))


def order_key(priority: str | None, rank: int | None, total: int, uploaded: datetime | None,
              number: int) -> tuple:
    """Sort key: priority changes by rank, then everyone by score desc, older upload, number."""
    group = (0, rank) if priority is not None and rank is not None else (1, 0)
    return (group, -total, uploaded or datetime.max, number)


def score(facts: ScoreFacts, now: datetime, name=str) -> tuple[int, list[str]]:  # noqa: ANN001
    """DESIGN score with one reason per term; `name` turns an account id into a name."""
    days = full_days(facts.uploaded, now) if facts.uploaded else 0
    total = points(facts.uploaded, now, facts.ci_passed, bool(facts.core_plus2),
                   bool(facts.minus1))
    reasons = [f"patch set {facts.patch_set} waiting {_days(days)}: +{POINTS_PER_DAY * days}"]
    if facts.ci_passed:
        reasons.append(f"CI passed: +{CI_PASSED_POINTS}")
    if facts.core_plus2:
        who = ", ".join(name(a) for a in facts.core_plus2)
        reasons.append(f"has a core +2 ({who}), needs a second core: +{CORE_PLUS2_POINTS}")
    if facts.minus1:
        who = ", ".join(name(a) for a in facts.minus1)
        reasons.append(f"has a Code-Review -1 ({who}): {MINUS1_POINTS}")
    return total, reasons


def order(
    candidates: Iterable[ScoreFacts], now: datetime, name=str,  # noqa: ANN001
    lead: dict[int, list[str]] | None = None,
) -> list[QueueItem]:
    """Priority changes by rank then score (highest first), then the rest by score.

    Ties: older upload first, then lower change number. `lead` holds reasons
    shown before the score terms (why the change is in the queue at all).
    """
    keyed = []
    for f in candidates:
        total, reasons = score(f, now, name)
        keyed.append((order_key(f.priority, f.rank, total, f.uploaded, f.number), f, total,
                      reasons))
    keyed.sort(key=lambda k: k[0])
    return [
        QueueItem(
            number=f.number,
            priority=f.priority,
            rank=f.rank if f.priority is not None else None,
            score=total,
            reasons=tuple((lead or {}).get(f.number, ())) + tuple(reasons),
            uploaded=f.uploaded,
        )
        for _key, f, total, reasons in keyed
    ]


def first_failure(
    change: QueueChange, reviewer_id: int, name=str,  # noqa: ANN001
) -> tuple[str, str] | None:
    """The first queue condition the change fails for reviewer C, as (key, sentence)."""
    if change.status != "NEW":
        return "open", f"Change {change.number} is {change.status.lower()}, not open."
    if change.wip:
        return "open", f"Change {change.number} is work in progress, so it is not open."
    if change.owner_id == reviewer_id:
        return "owner", f"{name(reviewer_id)} owns change {change.number}."
    blockers = blocking_votes(change.votes)
    if blockers:
        what = ", ".join(f"{v.label} {v.value:+d} by {name(v.account_id)}" for v in blockers)
        return "blocked", (f"Change {change.number} is blocked on patch set "
                           f"{change.current_patch_set}: {what}.")
    mine = [v for v in _label(change.votes, "Code-Review") if v.account_id == reviewer_id]
    if mine:
        return "voted", (f"{name(reviewer_id)} already voted Code-Review {mine[0].value:+d} "
                         f"on the current patch set {change.current_patch_set}.")
    if change.gate_state is None:
        return "gate", (f"Change {change.number} has not been evaluated yet "
                        "(run `reviewbot evaluate`).")
    if change.gate_state not in QUEUE_GATE_STATES:
        because = f" {change.gate_reason}" if change.gate_reason else ""
        return "gate", f"Gate state is {change.gate_state}.{because}"
    return None


def lead_reasons(change: QueueChange) -> list[str]:
    """Why a candidate is in the queue at all: its priority matches or its gate state."""
    if change.gate_state == "priority":
        return list(change.priority_reasons) or [f"cycle priority {', '.join(change.priorities)}"]
    if change.gate_reason:
        return [f"gate {change.gate_state}: {change.gate_reason}"]
    return [f"gate {change.gate_state}"]


def build_queue(
    changes: Iterable[QueueChange],
    reviewer_id: int,
    core_ids: frozenset[int] | set[int],
    now: datetime,
    name=str,  # noqa: ANN001
) -> list[QueueItem]:
    """C's queue from plain inputs: candidates filtered by `first_failure`, then `order`."""
    facts, lead = [], {}
    for change in changes:
        if first_failure(change, reviewer_id, name) is None:
            facts.append(facts_of(change, core_ids))
            lead[change.number] = lead_reasons(change)
    return order(facts, now, name, lead)


def why_not(
    change: QueueChange,
    reviewer_id: int,
    reviewer: str,
    *,
    reviewer_is_core: bool | None = True,
    queue: list[QueueItem] | None = None,
    name=str,  # noqa: ANN001
) -> WhyNot:
    """Answer "is change N in C's queue, and if not, why" (first failing condition).

    `reviewer_is_core` None means core membership is unknown (hidden group):
    the answer is given as if C were core. `queue` is C's full queue, used to
    report the position when the change is in it.
    """
    if reviewer_is_core is False:
        return WhyNot(change.number, reviewer, False, "reviewer",
                      f"{reviewer} is not a core reviewer; core queues are for core reviewers.")
    failure = first_failure(change, reviewer_id, name)
    if failure is not None:
        key, message = failure
        return WhyNot(change.number, reviewer, False, key, message)
    items = queue or []
    position = next((i for i, it in enumerate(items, 1) if it.number == change.number), None)
    item = items[position - 1] if position else None
    message = f"Change {change.number} is in {reviewer}'s queue"
    if position:
        message += f" at position {position} of {len(items)} (score {item.score})"
    return WhyNot(change.number, reviewer, True, None, message + ".", position,
                  len(items) if position else None, item.score if item else None,
                  item.reasons if item else ())
