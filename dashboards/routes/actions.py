"""Web: the write-back action log (every planned or applied Gerrit write, newest first)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dashboards.deps import ChangeFilter, ConfigDep, PageQuery, SessionDep, templates
from reviewbot.config import Config
from reviewbot.store.change_reads import list_actions
from reviewbot.views.answers.operations import ActionLogOut, action_log

router = APIRouter()

PAGE_SIZE = 50


def _data(session, page: int, change: int | None, config: Config) -> dict[str, Any]:
    # Among several teams, the team's changes only.
    projects = config.gerrit.projects if config.deployment.several_teams else None
    total, rows = list_actions(session, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE,
                               change=change, projects=projects)
    return action_log(total, rows, page=page, page_size=PAGE_SIZE, change=change)


@router.get("/api/v1/actions", tags=["actions"], response_model=ActionLogOut)
def api_actions(session: SessionDep, config: ConfigDep, page: PageQuery = 1,
                change: ChangeFilter = None) -> dict[str, Any]:
    """The write-back log, newest first, 50 per page (optionally one change's entries;
    among several teams, the team's)."""
    return _data(session, page, change, config)


@router.get("/actions", response_class=HTMLResponse, include_in_schema=False)
def actions_page(request: Request, session: SessionDep, config: ConfigDep,
                 page: PageQuery = 1, change: ChangeFilter = None) -> HTMLResponse:
    data = _data(session, page, change, config)
    return templates.TemplateResponse(request, "actions.html", {
        "config": config, "data": data, "pages": max(1, -(-data["total"] // PAGE_SIZE)),
    })
