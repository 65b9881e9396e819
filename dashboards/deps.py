"""Web dependencies: config, store sessions, templates and the error page, overridable in tests."""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reviewbot.clock import parse_as_of, utcnow
from reviewbot.config import Config, Secrets, UnknownTeam
from reviewbot.numbers import CHANGE_NUMBER_MAX
from reviewbot.views.bidi import isolate

T = TypeVar("T")


def site_notices(request: Request) -> dict:
    """Notices every page shows above its content (one primary-key read per page)."""
    state = getattr(request.app.state, "reviewbot", None)
    notices: list[str] = []
    if state is not None and state.config.launchpad.enabled:
        from reviewbot.store.launchpad_cache import staleness

        # The request's own session when it has one: a second connection per request
        # would break the pool sizing (dashboards.admission).
        session = getattr(request.state, "db_session", None)
        if session is not None:
            reason = staleness(session)
        else:
            with Session(state.engine) as own:
                reason = staleness(own)
        if reason:
            notices.append(
                f"Launchpad data is stale ({reason}); Launchpad matchers use the last facts "
                "fetched, every other matcher is current."
            )
    return {"notices": notices}


def sync_freshness(request: Request) -> dict:
    """Every page's footer: when the last sync succeeded, a warning when that is too long ago."""
    from dashboards.freshness import freshness
    from reviewbot.store.ops import last_sync_success

    state = getattr(request.app.state, "reviewbot", None)
    if state is None:
        return {"sync": None}
    try:
        with Session(state.engine) as session:
            synced = last_sync_success(session)
    except Exception:  # the footer must never break a page (e.g. no schema)
        return {"sync": None}
    return {"sync": freshness(synced, utcnow(), state.config.worker.poll_seconds)}


templates = Jinja2Templates(
    directory=Path(__file__).resolve().parent / "templates",
    context_processors=[site_notices, sync_freshness, lambda r: team_switcher(r)],
)


def _isolated(value: object) -> object:
    # Every {{ value }} of every template: user text with directional controls becomes one
    # isolated run (reviewbot.views.bidi). Markup (the app's own SVG) is left as built.
    if isinstance(value, str) and not isinstance(value, Markup):
        return isolate(value)
    return value


templates.env.finalize = _isolated


@dataclass
class AppState:
    config: Config
    secrets: Secrets
    engine: Engine


def app_state(request: Request) -> AppState:
    return request.app.state.reviewbot


# async: FastAPI runs a sync dependency in a worker thread, and under load every hop to a
# thread waits its turn for the GIL; these two only read an attribute.
async def get_state(request: Request) -> AppState:
    return app_state(request)


# --- teams: every page and API route that reads the config takes `?team=` ---------------

TEAM_COOKIE = "reviewbot_team"  # the team picked last in this browser (the switcher)
TeamQuery = Annotated[str | None, Query(
    description="the team (a `[[team]]` name of the config); default: the team picked "
                "last in this browser, else the only (or first) team",
    max_length=64)]


def team_config(request: Request, state: AppState, team: str | None = None,
                change_team: str | None = None) -> Config:
    """The config narrowed to the request's team: `?team=`, else the team of the change
    the URL names (`change_team`), else the team cookie, else the only (first) team. An
    unknown `?team=` is a 404 naming the known teams; an unknown cookie (a team since
    removed from the config) falls back to the default."""
    whole = state.config
    try:
        config = whole.for_team(team or change_team or request.cookies.get(TEAM_COOKIE)
                                or None)
    except UnknownTeam as exc:
        if team:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        config = whole.for_team()
    request.state.team_config = config
    if team and whole.several_teams:
        request.state.team_chosen = config.team_name  # TeamCookie remembers it
    return config


def _change_team(request: Request, state: AppState, number: object) -> str | None:
    """The team whose project holds change `number` (None: not a stored change)."""
    from sqlalchemy import select
    from sqlmodel import col

    from reviewbot.store.tables import Change

    try:
        wanted = int(str(number))
    except ValueError:
        return None
    if not 1 <= wanted <= CHANGE_NUMBER_MAX:
        return None
    query = select(col(Change.project)).where(col(Change.number) == wanted)
    # The request's own session when it has one: a second connection per request would
    # break the pool sizing (dashboards.admission).
    session = getattr(request.state, "db_session", None)
    if session is not None:
        project = session.execute(query).scalar_one_or_none()
    else:
        with Session(state.engine) as own:
            project = own.execute(query).scalar_one_or_none()
    return state.config.for_project(project).team_name if project else None


def request_config(request: Request) -> Config:
    """The team config this request chose (the app's default team when it chose none)."""
    chosen = getattr(request.state, "team_config", None)
    return chosen if chosen is not None else app_state(request).config.for_team()


def per_team(request: Request, name: str, make: Callable[[Config], T]) -> T:
    """One `make(team config)` per app and team (caches built for one config), made on
    first use."""
    config = request_config(request)
    with _per_team_lock:
        made = getattr(request.app.state, f"per_team_{name}", None)
        if made is None:
            made = {}
            setattr(request.app.state, f"per_team_{name}", made)
        if config.team_name not in made:
            made[config.team_name] = make(config)
        return made[config.team_name]


_per_team_lock = threading.Lock()


class TeamCookie:
    """Remembers a `?team=` choice in a cookie, so the pages a link leads to stay on the
    team (pure ASGI: it works under every response, streamed or not)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def remember(message: Message) -> None:
            chosen = (scope.get("state") or {}).get("team_chosen")
            if message["type"] == "http.response.start" and chosen:
                headers = MutableHeaders(scope=message)
                headers.append("set-cookie", f"{TEAM_COOKIE}={chosen}; Max-Age=31536000; "
                               "Path=/; HttpOnly; SameSite=Lax")
            await send(message)

        await self.app(scope, receive, remember)


def team_switcher(request: Request) -> dict:
    """The page frame's team switcher: shown only in a deployment of several teams."""
    state = getattr(request.app.state, "reviewbot", None)
    if state is None or not state.config.several_teams:
        return {"teams": []}
    current = request_config(request).team_name
    kept = [(k, v) for k, v in request.query_params.multi_items()
            if k not in ("team", "page", "offset")]
    return {"teams": [(t.name, t.label) for t in state.config.teams], "team": current,
            "team_kept_params": kept}


async def get_config(request: Request, state: Annotated[AppState, Depends(get_state)],
                     team: TeamQuery = None) -> Config:
    # A change's pages default to the change's own team (one primary-key read, only in a
    # deployment of several teams); otherwise only the narrowed copy is read: no thread hop.
    change_team = None
    if not team and state.config.several_teams and "number" in request.path_params:
        change_team = await run_in_threadpool(_change_team, request, state,
                                              request.path_params["number"])
    return team_config(request, state, team, change_team)


def get_session(request: Request,
                state: Annotated[AppState, Depends(get_state)]) -> Iterator[Session]:
    # Read-only pages: no commit needed; the web layer never writes Gerrit data.
    with Session(state.engine, expire_on_commit=False) as session:
        request.state.db_session = session  # the page's notices read through it too
        try:
            yield session
        finally:
            request.state.db_session = None


StateDep = Annotated[AppState, Depends(get_state)]
ConfigDep = Annotated[Config, Depends(get_config)]
SessionDep = Annotated[Session, Depends(get_session)]


# Every integer a URL carries is bounded by what the store's columns (and OFFSET) can take,
# so a value like 2**63 or 2**31 is a 422 naming the parameter, not a database error.
MAX_PAGE = 1_000_000
ChangeNumberPath = Annotated[int, PathParam(ge=1, le=CHANGE_NUMBER_MAX,
                                            description="change number")]
ChangeFilter = Annotated[int | None, Query(ge=1, le=CHANGE_NUMBER_MAX,
                                           description="only this change's entries")]
PageQuery = Annotated[int, Query(ge=1, le=MAX_PAGE, description="page number, from 1")]
OffsetQuery = Annotated[int, Query(ge=0, le=CHANGE_NUMBER_MAX, description="rows to skip")]


def _control_character(text: str) -> str | None:
    for ch in text:
        if unicodedata.category(ch) == "Cc":
            return f"U+{ord(ch):04X}"
    return None


def refuse_control_characters(request: Request) -> None:
    """Any path or query value with a control character (NUL, ESC, CR/LF, DEL...) is a 422.

    No parameter of the app has a use for one; refused here, they never reach a database
    (PostgreSQL cannot store NUL) nor a page.
    """
    values = [(name, value) for name, value in request.path_params.items()
              if isinstance(value, str)]
    values += [(name, value) for name, value in request.query_params.multi_items()]
    for name, value in values:
        for text, what in ((name, "name"), (value, "value")):
            found = _control_character(text)
            if found:
                label = _control_character(name) and repr(name) or name
                raise HTTPException(status_code=422, detail=f"{label}: the parameter {what} "
                                    f"contains a control character ({found}); remove it")


def parse_as_of_param(value: str | None) -> datetime:
    """`as_of` query value -> naive UTC (empty: now); a bad value is a 422 naming the problem."""
    if not value:
        return utcnow()
    try:
        return parse_as_of(value)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=f"as_of: {exc}") from None


def error_page(request: Request, config: Config, status: int, title: str,
               message: str) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "error.html", {"config": config, "title": title, "message": message},
        status_code=status)


def _is_page(request: Request) -> bool:
    # A page is a route declared with response_class=HTMLResponse; everything else (the
    # /api/v1 JSON, exports, hooks, ops) keeps FastAPI's JSON error body, which clients parse.
    route = request.scope.get("route")
    return isinstance(route, APIRoute) and route.response_class is HTMLResponse


def _problem(exc: StarletteHTTPException | RequestValidationError) -> tuple[int, str]:
    if isinstance(exc, RequestValidationError):
        return 422, "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or e['loc'][0]}: {e['msg']}"
            for e in exc.errors())
    return exc.status_code, str(exc.detail)


async def pool_exhausted(request: Request, exc: Exception) -> Response:
    """No database connection within database.pool_timeout: 503, try again shortly.

    With the pool sized from the lanes this does not happen; it bounds the wait if
    something else (a stuck query, an undersized pool_size) holds every connection.
    """
    return JSONResponse(
        {"detail": "the database is busy: no connection free within "
                   f"{app_state(request).config.database.pool_timeout:g} s; retry shortly"},
        status_code=503, headers={"Retry-After": "5"})


async def page_or_json_error(request: Request, exc: Exception) -> Response:
    """The one error answer of the app: the HTML error page on a page, JSON elsewhere.

    Routes just raise (parse_as_of_param, an unknown name, a Query bound); which body the
    caller gets depends only on whether it asked a page or the API.
    """
    # Registered for these two only (create_app); Starlette types a handler's exception
    # as any Exception, so narrow it here.
    if not isinstance(exc, StarletteHTTPException | RequestValidationError):
        raise exc
    if not _is_page(request):
        if isinstance(exc, RequestValidationError):
            return await request_validation_exception_handler(request, exc)
        return await http_exception_handler(request, exc)
    status, message = _problem(exc)
    title = {404: "Not found", 422: "Bad request"}.get(status, "Request failed")
    # The page's notices read the store: off the event loop, like every page.
    return await run_in_threadpool(error_page, request, app_state(request).config, status,
                                   title, message)
