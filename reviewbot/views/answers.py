"""Views: the shapes of the answers people read — one pydantic model per question, shared by
the API (`response_model`, so /docs shows them) and the CLI's `--json`.

One question, one shape: `reviewbot queue USER --json` and `/api/v1/queue?reviewer=USER`
print the same JSON on the same store, and so do standing, reviewers, backtest, report,
where and actions (tests/test_answers.py holds them equal). One builder per question
(the views' `as_json`, or the builders at the end) makes the plain dict both sides send:
the API validates it against its model on the way out (`response_model`), the CLI prints
it as it is — validating a 20,000-row queue would cost the CLI a quarter of its time, and
the tests already hold the CLI's output equal to the API's and to the models (the ones
only the CLI answers, why and evaluate, too).

Size: ~690 lines, one module on purpose: declarative models, one per question, plus their
builders; the API and the CLI import one place for every shape, so a question cannot grow
two shapes in two modules.

Times are the strings the views already print (ISO 8601, UTC), so the shapes stay what
they were. Every model forbids fields it does not declare: an answer that grows a field
without its model is a test failure, not a silent drift from the documentation.

Light on purpose: pydantic only at import time (the CLI imports this inside commands);
the views are imported by the builders that need them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from reviewbot.config import Config


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def json_data(self) -> dict[str, Any]:
        """The JSON-ready dict (what FastAPI sends for a model)."""
        return self.model_dump(mode="json")


Number = int | float | None


# --- queue ----------------------------------------------------------------------------------


class VoteOut(Answer):
    label: str
    value: int
    account_id: int
    by: str
    core: bool
    bot: bool


class QueueItemOut(Answer):
    number: int
    subject: str
    project: str
    branch: str
    owner: str
    patch_set: int | None
    uploaded: str | None
    gate_state: str | None
    ci: Literal["failing", "passed", "none"]
    votes: list[VoteOut]
    reasons: list[str] = Field(description="why the change is in the queue at this place")
    gerrit_url: str
    age: str = Field(description="time since the current patch set, e.g. '3 days'")
    url: str = Field(description="this change's page, answering for this reviewer")
    # core queue rows
    priority: str | None = None
    priority_title: str | None = None
    rank: int | None = None
    score: int | None = None
    # first-crack rows
    wait_days: int | None = None


class QueueOut(Answer):
    """A core reviewer's queue (`kind: "core"`), or anyone else's first-crack queue."""

    reviewer: str
    account_id: int
    core: bool | None = Field(description="core at as_of; null: membership unknown")
    core_known: bool
    kind: Literal["core", "first-crack"]
    as_of: str
    note: str | None
    total: int
    offset: int
    limit: int | None
    items: list[QueueItemOut]


class WhyNotOut(Answer):
    """Is the change in this reviewer's queue, and if not, the first condition it fails."""

    number: int
    reviewer: str
    kind: Literal["core", "first-crack"]
    in_queue: bool
    failed: str | None
    message: str
    position: int | None
    total: int | None
    score: int | None
    reasons: list[str]


# --- change, why, evaluate -----------------------------------------------------------------


class PriorityMatchOut(Answer):
    priority: str
    title: str
    rank: int
    reasons: list[str]


class VerdictOut(Answer):
    """One change's evaluation: priority matches and gate state, with reasons."""

    number: int
    gate: str
    priorities: list[str]
    reasons: list[str]
    rank: int | None
    gate_reason: str
    gate_certain: bool
    matches: list[PriorityMatchOut]
    exempt_reasons: list[str]
    notes: list[str]
    review_state: str | None
    review_reason: str | None


class WhyOut(VerdictOut):
    """`reviewbot why CHANGE`: the verdict as of T with the change's facts then.

    Its `why_not` is the API's (/api/v1/changes/N?reviewer=U): one shape, one answer. The
    rest is not ChangeOut yet: `why` evaluates the change afresh and names the verdict's
    parts (gate, matches, exempt reasons, notes), the change page reads the stored verdict
    and adds the vote timeline; making them one answer is left to the views/ move.
    """

    project: str
    branch: str
    subject: str
    owner: str
    as_of: str
    status: str
    wip: bool
    current_patch_set: int | None
    why_not: WhyNotOut | None = None


class EvaluationOut(Answer):
    """`reviewbot evaluate --json`."""

    as_of: str
    stored: bool = Field(description="true: the stored verdicts; false: answered as of T")
    evaluated: int
    changes: list[VerdictOut]
    not_gated: list[VerdictOut]
    priorities_matching_no_change: list[str]


class ChangeVoteOut(Answer):
    by: str
    account_id: int
    label: str
    value: int
    removed: bool
    date: str
    core: bool
    bot: bool


class PatchSetOut(Answer):
    number: int
    created: str
    uploader: str
    votes: list[ChangeVoteOut]


class ChangePriorityOut(Answer):
    id: str | None
    title: str | None
    rank: int | None
    reasons: list[str]


class ChangeOut(Answer):
    """One change: matches, gate, review state, votes per patch set, and the why-not."""

    number: int
    project: str
    branch: str
    subject: str
    owner: str
    as_of: str | None
    status: str
    wip: bool
    topic: str | None
    hashtags: list[str]
    current_patch_set: int | None
    age: str
    ci: Literal["failing", "passed", "none"]
    review_state: str | None
    review_state_label: str | None
    review_reason: str | None
    current_votes: list[VoteOut]
    gerrit_url: str
    gate_state: str | None
    gate_reason: str | None
    priorities: list[ChangePriorityOut]
    evaluated_at: str | None
    patch_sets: list[PatchSetOut]
    why_not: WhyNotOut | None
    core_known: bool


class ChangeListItemOut(Answer):
    number: int
    project: str
    branch: str
    subject: str
    owner_id: int
    gate_state: str | None
    priorities: list[str]
    updated: str
    last_human_activity: str


class ChangeListOut(Answer):
    state: str
    total: int
    page: int
    items: list[ChangeListItemOut]


# --- where is my change ----------------------------------------------------------------------


class QueuePlaceOut(Answer):
    reviewer: str
    in_queue: bool
    position: int | None
    total: int
    failed: str | None
    message: str


class FirstCrackPlaceOut(Answer):
    position: int | None
    total: int | None


class WhereOut(Answer):
    """Where a change stands in every core reviewer's queue, and what would move it up."""

    number: int
    subject: str
    project: str
    branch: str
    owner: str
    as_of: str
    tracked: bool
    status: str
    gate_state: str | None
    gate_reason: str
    review_state: str | None
    review_reason: str
    priorities: list[str]
    score: int | None
    score_reasons: list[str]
    headline: str
    queues: list[QueuePlaceOut]
    first_crack: FirstCrackPlaceOut
    moves: list[str]
    gerrit_url: str | None


# --- standing ---------------------------------------------------------------------------


class RatioCountOut(Answer):
    value: Number
    count: int | None
    of: str


class CriterionOut(Answer):
    criterion: str
    metric: str
    label: str
    value: Number
    target: int | float
    met: bool
    progress: float
    evidence: int | None
    evidence_needed: int
    enough_evidence: bool
    missing: int
    status: str


class StandingOut(Answer):
    """A reviewer's figures over the window and the progress toward each core criterion."""

    username: str
    account_id: int
    core: bool | None
    as_of: str
    window_start: str
    metrics: dict[str, Number]
    ratio_counts: dict[str, RatioCountOut]
    window_weekly: list[int]
    criteria: list[CriterionOut]
    criteria_met: int
    criteria_total: int
    warnings: list[str]
    judgements: Literal["stored", "replayed", "mixed"]


class VerdictRefOut(Answer):
    by: str
    value: int
    date: str
    link: str


class ReviewOut(Answer):
    change: int
    patch_set: int
    project: str
    owner: str
    value: int
    date: str
    link: str
    core_at_time: bool
    priority: bool
    judged: bool
    disagrees: bool
    verdict: VerdictRefOut | None
    caught: bool | None
    thoughtful: bool | None
    gate_open: bool
    gate_open_confirmed: bool
    first_crack: bool
    quick_large_plus1: bool


class CommentOut(Answer):
    change: int
    patch_set: int | None
    date: str
    message_id: str


class ReviewerDetailOut(StandingOut):
    """`reviewbot standing USER` and /api/v1/reviewers/USER: the standing with every review
    counted, the learning feed and the figures' definitions."""

    definitions: dict[str, str]
    weekly_reviews: list[int]
    reviews: list[ReviewOut]
    learning_feed: list[ReviewOut]
    comments_only: list[CommentOut]


class LeaderboardOut(Answer):
    """Non-core reviewers active in the window, most ready for core first (or by `sort`)."""

    as_of: str
    window_days: int
    sort: str
    min_evidence: int
    reviewers: list[StandingOut]


# --- backtest -----------------------------------------------------------------------------


class PromotionOut(Answer):
    """One promotion: where the promoted person ranked `lead_days` before it, with their
    key figures then (the leaderboard row's)."""

    username: str
    joined: str
    as_of: str
    pool: int
    rank: int | None
    source: str
    readiness: Number = None
    reviews: int | None = None
    judged_reviews: int | None = None
    weeks_active: int | None = None
    disagreement_ratio: Number = None
    minus1_catch_rate: Number = None
    criteria_met: int | None
    note: str


class BacktestSummaryOut(Answer):
    top: int
    hits: int
    promotions: int
    share: float | None
    mrr: float | None


class BacktestOut(Answer):
    promotions: list[PromotionOut]
    summary: BacktestSummaryOut


# --- PTL report ---------------------------------------------------------------------------


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


# --- write-back log -----------------------------------------------------------------------


class ActionOut(Answer):
    id: int
    change: int
    patch_set: int | None
    action: str
    detail: dict[str, Any]
    reason: str
    result: str
    error: str | None
    created: str


class ActionLogOut(Answer):
    """The write-back log, newest first (`reviewbot actions --json`, /api/v1/actions)."""

    total: int
    page: int
    page_size: int
    change: int | None
    items: list[ActionOut]


# --- operations ---------------------------------------------------------------------------


class HealthOut(Answer):
    status: str = Field(description='"ok", or what is wrong')
    database: Literal["ok", "unreachable"]
    last_sync_success: str | None
    last_sync_age_seconds: float | None
    stale_after_seconds: int


class HintQueuedOut(Answer):
    """A webhook or admin request the web recorded; the leading worker acts on it within a
    second (a refresh of `change`, or a whole cycle when `change` is null)."""

    status: Literal["queued"]
    type: str = Field(description='the Gerrit event type, or "sync" for POST /api/v1/sync')
    change: int | None
    full_cycle: bool
    hint: int = Field(description="the hint's id in the store")
    received: str
    pending: int = Field(description="hints waiting now, this one included")


class HookIgnoredOut(Answer):
    status: Literal["ignored"]
    type: str
    reason: str


class ErrorOut(Answer):
    error: str


class ValidationErrorOut(BaseModel):
    """One of FastAPI's request validation errors (its own fields, kept as they come)."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int]
    msg: str
    type: str


class BadRequestOut(Answer):
    """422: a parameter the route could not take, named — FastAPI's validation errors, or
    one sentence from the route (a bad `as_of`, an unknown sort key)."""

    detail: str | list[ValidationErrorOut]


# --- builders: one place turns a view's answer into its shape ------------------------------


def age_text(uploaded: datetime | None, now: datetime) -> str:
    """'3 days', '5 hours': how long a patch set has waited."""
    from reviewbot.clock import full_days

    if uploaded is None:
        return "unknown"
    days = full_days(uploaded, now)
    if days:
        return f"{days} day{'s' if days != 1 else ''}"
    hours = int(max(0, (now - uploaded).total_seconds()) // 3600)
    return f"{hours} hour{'s' if hours != 1 else ''}"


# Fields only one kind of queue row has: the other kind says null, as QueueItemOut does.
_ROW_ONLY = dict.fromkeys(("priority", "priority_title", "rank", "score", "wait_days"))


def queue_answer(answer: Any, config: Config) -> dict[str, Any]:
    """A QueueAnswer (reviewbot.views.queue_view) in the QueueOut shape."""
    data: dict[str, Any] = answer.as_json(config)
    reviewer = answer.reviewer.label
    for row, item in zip(answer.rows, data["items"], strict=True):
        for key in _ROW_ONLY.keys() - item.keys():
            item[key] = None
        item["age"] = age_text(row.item.uploaded, answer.as_of)
        item["url"] = f"/changes/{item['number']}?reviewer={reviewer}"
    return data


def change_link(config: Config, project: str, number: int, ps: int | None = None,
                message_id: str | None = None) -> str:
    url = f"{config.gerrit_web_base}/c/{project}/+/{number}"
    if ps is not None:
        url += f"/{ps}"
    if message_id:
        url += f"#message-{message_id}"
    return url


def _review(config: Config, r: Any, usernames: dict[int, str]) -> dict[str, Any]:
    v = r.verdict
    return {
        "change": r.change_number, "patch_set": r.patch_set, "project": r.project,
        "owner": usernames.get(r.owner_id, f"#{r.owner_id}"), "value": r.value,
        "date": r.date.isoformat(),
        "link": change_link(config, r.project, r.change_number, r.patch_set, r.message_id),
        "core_at_time": r.core_at_time, "priority": r.priority, "judged": r.judged,
        "disagrees": r.disagrees,
        "verdict": None if v is None else {
            "by": usernames.get(v.account_id, f"#{v.account_id}"), "value": v.value,
            "date": v.date.isoformat(),
            "link": change_link(config, r.project, r.change_number, r.patch_set, v.message_id),
        },
        "caught": r.caught if r.value == -1 else None,
        "thoughtful": r.thoughtful if r.value == -1 else None,
        "gate_open": r.gate_open, "gate_open_confirmed": r.gate_open_confirmed,
        "first_crack": r.first_crack, "quick_large_plus1": r.quick_large_plus1,
    }


def reviewer_detail(session: Any, config: Config, report: Any) -> dict[str, Any]:
    """A ReviewerReport (reviewbot.views.standing_view) with every review counted, named."""
    from reviewbot.metrics.standing import DEFINITIONS
    from reviewbot.store.review_reads import usernames_of

    s = report.standing
    ids = {r.owner_id for r in s.reviews} | {r.verdict.account_id for r in s.reviews
                                             if r.verdict is not None}
    names = usernames_of(session, ids)
    data: dict[str, Any] = report.as_json()
    data["definitions"] = DEFINITIONS
    data["weekly_reviews"] = s.weekly
    data["reviews"] = [_review(config, r, names) for r in s.reviews]
    data["learning_feed"] = [_review(config, r, names) for r in s.feed]
    data["comments_only"] = [
        {"change": c.change_number, "patch_set": c.patch_set, "date": c.date.isoformat(),
         "message_id": c.message_id}
        for c in s.comments
    ]
    return data


def leaderboard_answer(rows: list[Any], config: Config, as_of: datetime,
                       window_days: int | None, sort: str) -> dict[str, Any]:
    """The leaderboard in the LeaderboardOut shape."""
    return {
        "as_of": as_of.isoformat(), "window_days": window_days or config.standing.window_days,
        "sort": sort, "min_evidence": config.standing.min_evidence,
        "reviewers": [r.as_json() for r in rows]}


def action_log(total: int, rows: list[Any], *, page: int, page_size: int,
               change: int | None) -> dict[str, Any]:
    """A page of the write-back log in the ActionLogOut shape."""
    return {
        "total": total, "page": page, "page_size": page_size, "change": change,
        "items": [{
            "id": r.id, "change": r.change_number, "patch_set": r.patch_set,
            "action": r.action, "detail": r.detail, "reason": r.reason, "result": r.result,
            "error": r.error, "created": r.created.isoformat(),
        } for r in rows],
    }
