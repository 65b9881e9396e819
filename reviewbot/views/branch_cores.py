"""Queue view: who is core on which branch at T (`[[branch_policy]]` core groups), for the
queues, the owner view and the why-not answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from reviewbot.config import Config, branch_policy_for
from reviewbot.metrics.queue import QueueChange
from reviewbot.timeline.people import Roster


@dataclass
class BranchCores:
    """Who is core on which branch. A branch whose `[[branch_policy]]` names a core group has
    that group's members as its cores (Gerrit's stable-branch ACLs give +2 there to
    `<project>-stable-maint` only); every other branch has the project core group's.

    Kept simple: a reviewer who is core on some branch gets a core queue holding the
    changes of the branches they are core on (a stable-maint member outside the project
    core group: the stable changes only); the first-crack queue is for reviewers core
    nowhere. The score's "core +2" still counts the project core group's +2s.
    """

    config: Config
    roster: Roster
    _allowed: dict[tuple[int, str], bool] = field(default_factory=dict)
    _tests: dict[str, Callable[[int], bool]] = field(default_factory=dict)

    def core_test(self, branch: str, at: datetime,
                  default: Callable[[int], bool] | None = None) -> Callable[[int], bool]:
        """Is an account core on `branch` at T (whose +2 counts as a core's in the score)?
        `default`: the project core test at T, when the caller already has it."""
        group = self.group_of(branch) if self.groups else None
        if group is None:
            return default or self.roster.core_at(at).__contains__
        if group not in self._tests:  # a group's membership is its members now, at any T
            self._tests[group] = self.roster.for_group(group).core_at(at).__contains__
        return self._tests[group]

    def for_change(self, at: datetime, default: Callable[[int], bool] | None = None
                   ) -> Callable[[QueueChange], Callable[[int], bool]]:
        return lambda change: self.core_test(change.branch, at, default)

    @property
    def groups(self) -> list[str]:
        return [p.core_group for p in self.config.branch_policy if p.core_group]

    def group_of(self, branch: str) -> str | None:
        policy = branch_policy_for(self.config.branch_policy, branch)
        return policy.core_group if policy is not None else None

    def status(self, reviewer_id: int, branch: str, at: datetime) -> bool | None:
        return self.roster.for_group(self.group_of(branch)).core_status(reviewer_id, at)

    def reviewer_status(self, reviewer_id: int, at: datetime) -> bool | None:
        """Core somewhere at T (True), nowhere (False), or unknown (None)."""
        core = self.roster.core_status(reviewer_id, at)
        if core is False and any(self.roster.for_group(g).core_status(reviewer_id, at)
                                 for g in self.groups):
            return True
        return core

    def allows(self, reviewer_id: int, change: QueueChange, at: datetime) -> bool:
        """May the change be in the reviewer's core queue, as far as its branch goes?"""
        if not self.groups:
            return True
        key = (reviewer_id, change.branch)
        if key not in self._allowed:
            self._allowed[key] = self.status(reviewer_id, change.branch, at) is not False
        return self._allowed[key]

    def reviewers_at(self, at: datetime) -> frozenset[int]:
        """Every account core on some branch at T (the project core group's and the groups')."""
        found = set(self.roster.core_at(at))
        for g in self.groups:
            found |= self.roster.for_group(g).core_at(at)
        return frozenset(found)
