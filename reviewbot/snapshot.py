"""Snapshots: plain, immutable views of stored changes that rules, queue and metrics read.

Nothing here touches the database or the network; `reviewbot.store.snapshots`
builds these from the store, and tests build them by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class PatchSetInfo:
    number: int
    created: datetime
    uploader_id: int | None
    insertions: int = 0
    deletions: int = 0


@dataclass(frozen=True, slots=True)
class Vote:
    """A current vote on the current patch set, from Gerrit's `labels`."""

    label: str
    account_id: int
    value: int


@dataclass(frozen=True, slots=True)
class VoteEvent:
    """One vote cast, changed or removed, from a change message (history)."""

    change_number: int
    patch_set: int
    account_id: int
    label: str
    value: int  # 0 when removed
    date: datetime
    message_id: str
    removed: bool = False
    inline_comments: int = 0
    free_text: str = ""


@dataclass(frozen=True, slots=True)
class MessageInfo:
    id: str
    patch_set: int | None
    author_id: int | None
    date: datetime
    tag: str | None
    inline_comments: int
    free_text: str
    changes_votes: bool


@dataclass(frozen=True, slots=True)
class ChangeSnapshot:
    number: int
    project: str
    branch: str
    subject: str
    status: str  # NEW | MERGED | ABANDONED
    wip: bool
    owner_id: int
    created: datetime
    updated: datetime
    current_patch_set: int
    topic: str | None = None
    hashtags: tuple[str, ...] = ()
    commit_message: str | None = None
    files: tuple[str, ...] | None = None
    submitted: datetime | None = None
    closed_at: datetime | None = None
    patch_sets: tuple[PatchSetInfo, ...] = ()
    current_votes: tuple[Vote, ...] = ()
    vote_events: tuple[VoteEvent, ...] = ()
    messages: tuple[MessageInfo, ...] = ()
    # Launchpad facts keyed ("bug", "12345") / ("blueprint", "name"), when cached.
    launchpad: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    missing: bool = False
    gerrit_id: str = ""

    @property
    def is_open(self) -> bool:
        """DESIGN: open = status NEW and not WIP."""
        return self.status == "NEW" and not self.wip

    def patch_set(self, number: int) -> PatchSetInfo | None:
        return next((ps for ps in self.patch_sets if ps.number == number), None)

    @property
    def current(self) -> PatchSetInfo | None:
        return self.patch_set(self.current_patch_set)

    def votes(self, label: str) -> list[Vote]:
        return [v for v in self.current_votes if v.label == label and v.value != 0]

    @property
    def blocked(self) -> bool:
        """Current patch set has Code-Review -2 or Workflow -1."""
        return any(v.value <= -2 for v in self.votes("Code-Review")) or any(
            v.value < 0 for v in self.votes("Workflow")
        )

    @property
    def failing(self) -> bool:
        return any(v.value < 0 for v in self.votes("Verified"))

    @property
    def ci_passed(self) -> bool:
        return any(v.value > 0 for v in self.votes("Verified"))

    @property
    def approved(self) -> bool:
        return any(v.value > 0 for v in self.votes("Workflow"))
