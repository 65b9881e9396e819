"""Views: the answers about running the service — the write-back log, health, the
hints the web queues, and the errors every route may answer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reviewbot.views.answers import Answer

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
