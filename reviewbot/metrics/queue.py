"""Queues: what core reviewer C should review today and where aspiring reviewer R's first
+1 opens a change to the cores, in order, with reasons, and why a change is not there.

Pure functions over plain inputs (DESIGN "Core queue", "First-crack queue", "Why-not").
Every fact about a change at T (open, review state, current votes) comes from
`reviewbot.timeline.state`; `reviewbot.views.queue_view` feeds these functions from the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reviewbot.clock import full_days
from reviewbot.timeline.snapshot import Vote
from reviewbot.timeline.state import (
    CODE_REVIEW,
    WAITING_ON_REVIEWERS,
    ReviewState,
    ci_passed,
    votes_of,
)

# Gate states that let a change into a core queue (DESIGN "Core queue").
QUEUE_GATE_STATES = ("priority", "exempt", "open")
# The gate state of the first-crack queue's changes.
FIRST_CRACK_GATE_STATE = "gated"

POINTS_PER_DAY = 3
CI_PASSED_POINTS = 10
ONE_CORE_PLUS2_POINTS = 20  # "needs a second core"
TWO_CORE_PLUS2_POINTS = 40  # "needs Workflow +1"
MINUS1_POINTS = -30

Name = Callable[[int], str]


@dataclass(frozen=True, slots=True)
class QueueChange:
    """What the queues need to know about one change at T: its state, votes and verdict.

    `votes` are the current patch set's non-zero votes at T (Gerrit's labels when nothing
    happened after T); `review` is its review state at T (None: not open); `gate_state`
    is None when the change was never evaluated.
    """

    number: int
    open: bool
    status: str  # "open" | "merged" | "abandoned" | "wip" | "absent" (for the why-not)
    owner_id: int
    current_patch_set: int
    uploaded: datetime | None
    votes: tuple[Vote, ...] = ()
    review: ReviewState | None = None
    gate_state: str | None = None
    gate_reason: str = ""
    priorities: tuple[str, ...] = ()
    rank: int | None = None
    priority_reasons: tuple[str, ...] = ()
    branch: str = ""  # the branch it targets (whose policy may name its own core group)


@dataclass(frozen=True, slots=True)
class ScoreFacts:
    """The inputs of the score: upload time and the current patch set's telling votes."""

    number: int
    uploaded: datetime | None
    patch_set: int
    ci_passed: bool = False
    core_plus2: tuple[int, ...] = ()  # accounts core at T with Code-Review +2
    minus1: tuple[int, ...] = ()  # accounts with Code-Review -1 (answered by the owner)
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
class FirstCrackItem:
    """A gated change waiting for a non-core +1, with how long it has waited."""

    number: int
    uploaded: datetime | None
    wait_days: int
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WhyNot:
    """Is a change in C's queue, and if not, the first condition that failed."""

    number: int
    reviewer: str
    in_queue: bool
    failed: str | None  # open | owner | review_state | voted | gate | reviewer | branch
    message: str
    position: int | None = None
    total: int | None = None
    score: int | None = None
    reasons: tuple[str, ...] = field(default_factory=tuple)
    kind: str = "core"  # which queue the answer is about: "core" | "first-crack"

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "reviewer": self.reviewer,
            "kind": self.kind,
            "in_queue": self.in_queue,
            "failed": self.failed,
            "message": self.message,
            "position": self.position,
            "total": self.total,
            "score": self.score,
            "reasons": list(self.reasons),
        }


def score_facts_of(change: QueueChange, core_at_t: Callable[[int], bool]) -> ScoreFacts:
    """Score inputs of a change; `core_at_t` says whether an account is core at T."""
    review = votes_of(change.votes, CODE_REVIEW)
    return ScoreFacts(
        number=change.number,
        uploaded=change.uploaded,
        patch_set=change.current_patch_set,
        ci_passed=ci_passed(change.votes),
        core_plus2=tuple(sorted(v.account_id for v in review
                                if v.value >= 2 and core_at_t(v.account_id))),
        minus1=tuple(sorted(v.account_id for v in review if v.value == -1)),
        priority=(change.priorities[0]
                  if change.gate_state == "priority" and change.priorities else None),
        rank=change.rank if change.gate_state == "priority" else None,
    )


def _days(n: int) -> str:
    return f"{n} full day{'s' if n != 1 else ''}"


def plus2_points(core_plus2: int) -> int:
    if core_plus2 >= 2:
        return TWO_CORE_PLUS2_POINTS
    return ONE_CORE_PLUS2_POINTS if core_plus2 == 1 else 0


def points(uploaded: datetime | None, now: datetime, ci: bool, core_plus2: int,
           minus1: bool) -> int:
    """The DESIGN score: 3/full day since upload, +10 CI passed, +20 one core +2 (+40 two
    or more), -30 a Code-Review -1 (one the owner answered)."""
    days = full_days(uploaded, now) if uploaded else 0
    return (POINTS_PER_DAY * days + (CI_PASSED_POINTS if ci else 0)
            + plus2_points(core_plus2) + (MINUS1_POINTS if minus1 else 0))


def order_key(priority: str | None, rank: int | None, total: int, uploaded: datetime | None,
              number: int) -> tuple[tuple[int, int], int, datetime, int]:
    """Sort key: priority changes by rank, then everyone by score desc, older upload, number."""
    group = (0, rank) if priority is not None and rank is not None else (1, 0)
    return (group, -total, uploaded or datetime.max, number)


def score(facts: ScoreFacts, now: datetime, name: Name = str) -> tuple[int, list[str]]:
    """DESIGN score with one reason per term; `name` turns an account id into a name."""
    days = full_days(facts.uploaded, now) if facts.uploaded else 0
    total = points(facts.uploaded, now, facts.ci_passed, len(facts.core_plus2),
                   bool(facts.minus1))
    reasons = [f"patch set {facts.patch_set} waiting {_days(days)}: +{POINTS_PER_DAY * days}"]
    if facts.ci_passed:
        reasons.append(f"CI passed: +{CI_PASSED_POINTS}")
    if facts.core_plus2:
        who = ", ".join(name(a) for a in facts.core_plus2)
        if len(facts.core_plus2) >= 2:
            reasons.append(f"has {len(facts.core_plus2)} core +2s ({who}), needs Workflow +1: "
                           f"+{TWO_CORE_PLUS2_POINTS}")
        else:
            reasons.append(f"has a core +2 ({who}), needs a second core: "
                           f"+{ONE_CORE_PLUS2_POINTS}")
    if facts.minus1:
        who = ", ".join(name(a) for a in facts.minus1)
        reasons.append(f"has a -1 the owner answered ({who}): {MINUS1_POINTS}")
    return total, reasons


def order(
    candidates: Iterable[ScoreFacts], now: datetime, name: Name = str,
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


def _open_failure(change: QueueChange) -> tuple[str, str] | None:
    if change.open:
        return None
    if change.status == "absent":
        return "open", f"Change {change.number} did not exist yet."
    if change.status == "wip":
        return "open", f"Change {change.number} is work in progress, so it is not open."
    return "open", f"Change {change.number} is {change.status}, not open."


def _shared_failure(change: QueueChange, reviewer_id: int, name: Name) -> tuple[str, str] | None:
    """The conditions both queues share, in DESIGN order: open, owner, review state, voted."""
    failure = _open_failure(change)
    if failure is not None:
        return failure
    if change.owner_id == reviewer_id:
        return "owner", f"{name(reviewer_id)} owns change {change.number}."
    if change.review is None or change.review.state != WAITING_ON_REVIEWERS:
        why = change.review.reason if change.review else "its review state is unknown"
        return "review_state", (f"Change {change.number} is not waiting on reviewers: {why}.")
    mine = [v for v in votes_of(change.votes, CODE_REVIEW) if v.account_id == reviewer_id]
    if mine:
        return "voted", (f"{name(reviewer_id)} already voted Code-Review {mine[0].value:+d} "
                         f"on the current patch set {change.current_patch_set}.")
    if change.gate_state is None:
        return "gate", (f"Change {change.number} has not been evaluated yet "
                        "(run `reviewbot evaluate`).")
    return None


def first_failure(change: QueueChange, reviewer_id: int, name: Name = str
                  ) -> tuple[str, str] | None:
    """The first core-queue condition the change fails for reviewer C, as (key, sentence)."""
    failure = _shared_failure(change, reviewer_id, name)
    if failure is not None:
        return failure
    if change.gate_state not in QUEUE_GATE_STATES:
        because = f" {change.gate_reason}" if change.gate_reason else ""
        return "gate", f"Gate state is {change.gate_state}.{because}"
    return None


def first_crack_failure(change: QueueChange, reviewer_id: int, name: Name = str
                        ) -> tuple[str, str] | None:
    """The first first-crack condition the change fails for non-core reviewer R."""
    failure = _shared_failure(change, reviewer_id, name)
    if failure is not None:
        return failure
    if change.gate_state != FIRST_CRACK_GATE_STATE:
        return "gate", (f"Gate state is {change.gate_state}: it does not wait for a non-core "
                        "+1.")
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
    core_at_t: Callable[[int], bool],
    now: datetime,
    name: Name = str,
    core_for: Callable[[QueueChange], Callable[[int], bool]] | None = None,
) -> list[QueueItem]:
    """C's core queue from plain inputs: candidates filtered by `first_failure`, then `order`.
    `core_for(change)`, when given, is the core test of the change's branch (a branch
    policy's core group), else `core_at_t` for every change."""
    facts, lead = [], {}
    for change in changes:
        if first_failure(change, reviewer_id, name) is None:
            facts.append(score_facts_of(change, core_for(change) if core_for else core_at_t))
            lead[change.number] = lead_reasons(change)
    return order(facts, now, name, lead)


def first_crack_reason(patch_set: int, wait_days: int) -> str:
    return (f"no non-core +1 on patch set {patch_set} yet; waiting {_days(wait_days)} "
            "since the upload")


def first_crack_order(uploaded: datetime | None, number: int) -> tuple[datetime, int]:
    """Longest wait since the current patch set first, then lower change number."""
    return (uploaded or datetime.max, number)


def build_first_crack(
    changes: Iterable[QueueChange], reviewer_id: int, now: datetime, name: Name = str,
) -> list[FirstCrackItem]:
    """R's first-crack queue: gated changes waiting on reviewers that R has not voted on."""
    items = []
    for change in changes:
        if first_crack_failure(change, reviewer_id, name) is not None:
            continue
        days = full_days(change.uploaded, now) if change.uploaded else 0
        items.append(FirstCrackItem(change.number, change.uploaded, days,
                                    (first_crack_reason(change.current_patch_set, days),)))
    items.sort(key=lambda it: first_crack_order(it.uploaded, it.number))
    return items


def why_not(
    change: QueueChange,
    reviewer_id: int,
    reviewer: str,
    *,
    reviewer_is_core: bool | None = True,
    queue: list[QueueItem] | None = None,
    first_crack: list[FirstCrackItem] | None = None,
    name: Name = str,
) -> WhyNot:
    """Answer "is change N in C's queue, and if not, why" (first failing condition).

    `reviewer_is_core` None means core membership is unknown (hidden group): the answer
    is given as if C were core. A reviewer who is not core has no core queue: the answer
    is about their first-crack queue instead. `queue`/`first_crack` is the reviewer's
    whole queue, for the position when the change is in it.
    """
    if reviewer_is_core is False:
        failure = first_crack_failure(change, reviewer_id, name)
        if failure is not None:
            key, message = failure
            return WhyNot(change.number, reviewer, False, key,
                          f"{reviewer} is not a core reviewer, so this is about the "
                          f"first-crack queue: {message}", kind="first-crack")
        crack = first_crack or []
        position = next((i for i, it in enumerate(crack, 1) if it.number == change.number),
                        None)
        message = f"Change {change.number} is in {reviewer}'s first-crack queue"
        if position:
            message += f" at position {position} of {len(crack)}"
        crack_item = crack[position - 1] if position else None
        return WhyNot(change.number, reviewer, True, None, message + ".", position,
                      len(crack) if position else None, None,
                      crack_item.reasons if crack_item else (), kind="first-crack")
    failure = first_failure(change, reviewer_id, name)
    if failure is not None:
        key, message = failure
        return WhyNot(change.number, reviewer, False, key, message)
    items = queue or []
    position = next((i for i, it in enumerate(items, 1) if it.number == change.number), None)
    item = items[position - 1] if position else None
    message = f"Change {change.number} is in {reviewer}'s queue"
    if item is not None:
        message += f" at position {position} of {len(items)} (score {item.score})"
    return WhyNot(change.number, reviewer, True, None, message + ".", position,
                  len(items) if position else None, item.score if item else None,
                  item.reasons if item else ())
