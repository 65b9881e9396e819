"""Views: the answers about queues — a reviewer's core or first-crack queue, and
whether one change is in it (the why-not) — and the builder of the queue's shape."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from reviewbot.views.answers import Answer

if TYPE_CHECKING:
    from reviewbot.config import Config


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
        for key in _ROW_ONLY:  # in this order: a set difference's order varies by process
            item.setdefault(key, None)
        item["age"] = age_text(row.item.uploaded, answer.as_of)
        item["url"] = f"/changes/{item['number']}?reviewer={reviewer}"
    return data
