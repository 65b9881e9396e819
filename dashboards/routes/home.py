"""Web: the landing page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dashboards.deps import ConfigDep, templates

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request, config: ConfigDep) -> HTMLResponse:
    return templates.TemplateResponse(request, "home.html", {"config": config})
