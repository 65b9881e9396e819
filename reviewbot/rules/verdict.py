"""Rules: the verdict types every rule returns (plain data, reasons in words)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from reviewbot.rules.facts import ChangeFacts
from reviewbot.timeline.state import ReviewState

# States of changes the gate does not apply to (kept apart so `--json` stays exact).
NOT_GATED_STATES = ("wip", "closed", "untracked")


@dataclass(frozen=True, slots=True)
class PriorityMatch:
    """One cycle priority a change belongs to, with every reason it matched."""

    priority_id: str
    title: str
    rank: int
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GateVerdict:
    """Gate state with a sentence a person can act on.

    `certain` is False when the bot could not judge (core membership unknown):
    the state is then the cautious one and write-back should not act on it.
    """

    state: str
    reason: str
    certain: bool = True


@dataclass(frozen=True, slots=True)
class ChangeVerdict:
    number: int
    priorities: tuple[PriorityMatch, ...]
    gate: GateVerdict
    exempt_reasons: tuple[str, ...] = ()
    # What could not be checked (no commit message synced, no Launchpad data...).
    notes: tuple[str, ...] = ()
    # DESIGN "Review state" at the evaluation time (open changes only).
    review: ReviewState | None = None
    revision: int = -1  # the change's store revision the verdict was computed from

    @property
    def priority_ids(self) -> list[str]:
        return [p.priority_id for p in self.priorities]

    @property
    def rank(self) -> int | None:
        """The best (lowest) rank among the matched priorities."""
        return min((p.rank for p in self.priorities), default=None)

    @property
    def reasons(self) -> list[str]:
        """Every reason, in reading order: priority matches, exemption, gate, notes."""
        out = [f"{p.title}: {r}" for p in self.priorities for r in p.reasons]
        out += [f"exempt: {r}" for r in self.exempt_reasons]
        out.append(self.gate.reason)
        out += list(self.notes)
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "gate": self.gate.state,
            "priorities": self.priority_ids,
            "reasons": self.reasons,
            "rank": self.rank,
            "gate_reason": self.gate.reason,
            "gate_certain": self.gate.certain,
            "matches": [
                {"priority": p.priority_id, "title": p.title, "rank": p.rank,
                 "reasons": list(p.reasons)}
                for p in self.priorities
            ],
            "exempt_reasons": list(self.exempt_reasons),
            "notes": list(self.notes),
            "review_state": self.review.state if self.review else None,
            "review_reason": self.review.reason if self.review else None,
        }


# A compiled matcher: facts about one change -> reasons it matched (empty: no match).
Check = Callable[[ChangeFacts], list[str]]
# What a matcher kind is configured with: list[str], list[int] or a regex (str | None).
Configured = TypeVar("Configured")


@dataclass(frozen=True, slots=True)
class MatcherRule(Generic[Configured]):
    """One priority matcher kind, keyed by its name in `Matchers`.

    `compile` turns the configured values into a Check once per config, so
    regexes and globs are never rebuilt per change. `needs` names the synced
    data the check reads, so a missing commit message or file list can be
    reported instead of silently not matching.
    """

    name: str
    compile: Callable[[Configured], Check | None]
    needs: str | None = None  # "commit message" | "files" | "launchpad"
    doc: str = field(default="")
