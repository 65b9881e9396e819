"""Views: the answer of the PTL report as of T (`reviewbot report --json`,
/api/v1/report)."""

from __future__ import annotations

from typing import Any

from reviewbot.views.answers import Answer


class DistributionOut(Answer):
    count: int
    median_days: float | None
    p75_days: float | None


class WeekMergesOut(Answer):
    week_start: str
    merged: int


class ReportChangeOut(Answer):
    number: int
    project: str
    branch: str
    subject: str
    owner: str
    priorities: list[str]
    status: str
    state: str | None
    wip: bool
    patch_set: int | None
    patch_set_created: str | None
    created: str | None
    last_update: str | None
    last_activity: str | None
    closed: str | None
    wait_days: float | None
    age_days: float | None
    stale: bool


class PriorityProgressOut(Answer):
    id: str
    title: str
    open: int
    merged: int
    abandoned: int
    states: dict[str, int]
    wait_since_patch_set: DistributionOut
    age: DistributionOut
    merges_per_week: list[WeekMergesOut]
    stale: list[ReportChangeOut]
    changes: list[int]


class PriorityReportOut(PriorityProgressOut):
    rank: int
    owners: list[str]
    spec: str | None


class CoreEffortOut(Answer):
    username: str
    account_id: int
    reviews: int
    priority_reviews: int
    priority_share: float | None
    exempt_reviews: int
    gate_checked: int
    gate_jumps: int


class ReportOut(Answer):
    """The PTL report as of T (`reviewbot report --json`, /api/v1/report)."""

    cycle: str
    cycle_start: str
    cycle_end: str
    feature_freeze: str | None
    milestones: dict[str, str]
    as_of: str
    stale_days: int
    priorities: list[PriorityReportOut]
    not_priority: PriorityProgressOut
    core_reviews: int
    core_priority_reviews: int
    core_priority_share: float | None
    gate_compliance: dict[str, Any]
    cores: list[CoreEffortOut]
    gate_latency: DistributionOut
    core_latency_after_gate: DistributionOut
    notes: list[str]
