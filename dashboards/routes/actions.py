"""Web: the write-back action log (every planned or applied Gerrit write, newest first)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dashboards.deps import ChangeFilter, ConfigDep, PageQuery, SessionDep, templates
from reviewbot.store.change_reads import list_actions

router = APIRouter()

PAGE_SIZE = 50


def _data(session, page: int, change: int | None) -> dict[str, Any]:
    total, rows = list_actions(session, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE,
                               change=change)
    return {
        "total": total, "page": page, "page_size": PAGE_SIZE, "change": change,
        "items": [{
            "id": r.id, "change": r.change_number, "patch_set": r.patch_set, "action": r.action,
            "detail": r.detail, "reason": r.reason, "result": r.result, "error": r.error,
            "created": r.created.isoformat(),
        } for r in rows],
    }


@router.get("/api/v1/actions", tags=["actions"])
def api_actions(session: SessionDep, page: PageQuery = 1,
                change: ChangeFilter = None) -> dict[str, Any]:
    """The write-back log, newest first, 50 per page (optionally one change's entries)."""
    return _data(session, page, change)


@router.get("/actions", response_class=HTMLResponse, include_in_schema=False)
def actions_page(request: Request, session: SessionDep, config: ConfigDep,
                 page: PageQuery = 1, change: ChangeFilter = None) -> HTMLResponse:
    data = _data(session, page, change)
    return templates.TemplateResponse(request, "actions.html", {
        "config": config, "data": data, "pages": max(1, -(-data["total"] // PAGE_SIZE)),
    })
