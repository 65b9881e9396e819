"""Web: the FastAPI app factory; routes come from the explicit ROUTER_MODULES list."""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from dashboards.admission import Admission
from dashboards.deps import (
    AppState,
    TeamCookie,
    page_or_json_error,
    pool_exhausted,
    refuse_control_characters,
)
from dashboards.metrics import metrics_registry
from dashboards.routes import docs
from dashboards.security import SecurityHeaders
from reviewbot import __version__
from reviewbot.config import Config, Secrets
from reviewbot.views.answers.operations import BadRequestOut

HERE = Path(__file__).resolve().parent

# One module per area of the site; each exposes `router` (an APIRouter).
ROUTER_MODULES = [
    "dashboards.routes.home",
    "dashboards.routes.queue",  # /queue, /api/v1/queue
    "dashboards.routes.changes",  # /changes, /changes/{n}, /api/v1/changes[/{n}]
    "dashboards.routes.where",  # /changes/{n}/where, /api/v1/changes/{n}/where
    "dashboards.routes.actions",  # /actions, /api/v1/actions
    "dashboards.routes.priorities",  # /priorities, /report.md, /report.csv, /api/v1/report
    "dashboards.routes.reviewers",
    "dashboards.routes.backtest",  # /backtest, /api/v1/backtest
    "dashboards.routes.ops",  # /healthz, /metrics, POST /api/v1/sync (records a hint)
    "dashboards.routes.hooks",  # POST /api/v1/hooks/gerrit (records a hint)
    "dashboards.routes.docs",  # /docs (assets under /static/api-docs, no CDN)
]


def create_app(config: Config, *, secrets: Secrets | None = None, engine=None) -> FastAPI:
    """Build the app for one validated config. Tests pass their own engine."""
    from reviewbot.store import open_store

    app = FastAPI(
        title="reviewbot",
        version=__version__,
        description="Cycle priorities, the non-core +1 gate, core queues, reviewer standing.",
        docs_url=None,  # dashboards.routes.docs serves /docs without a CDN
        redoc_url=None,  # ReDoc's bundle always fetches a logo from its CDN
        dependencies=[Depends(refuse_control_characters)],
        # The routes' own 422s carry one sentence, FastAPI's a list: both documented.
        responses={422: {"model": BadRequestOut, "description": "a bad parameter, named"}},
    )
    app.state.reviewbot = AppState(
        config=config,
        secrets=secrets or Secrets.from_env(),
        engine=engine if engine is not None else open_store(
            config.database.url, pool_size=config.web_pool_size,
            pool_timeout=config.database.pool_timeout),
    )
    # /metrics: a registry of this app's own, read from the store at scrape time.
    app.state.metrics_registry = metrics_registry(app.state.reviewbot.engine, config)
    # Mounted before /static, which would otherwise answer for it.
    app.mount(docs.ASSETS_URL, StaticFiles(directory=docs.ASSETS_DIR), name="api-docs")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(StarletteHTTPException, page_or_json_error)
    app.add_exception_handler(RequestValidationError, page_or_json_error)
    app.add_exception_handler(SQLAlchemyTimeoutError, pool_exhausted)
    app.add_middleware(Admission, config=config)
    app.add_middleware(TeamCookie)  # remembers a `?team=` choice (deployments of several)
    # Added last, so outermost: every answer gets the headers, shared ones (Admission) too.
    app.add_middleware(SecurityHeaders)
    for name in ROUTER_MODULES:
        app.include_router(importlib.import_module(name).router)
    return app


def app_from_environment() -> FastAPI:
    """The app for the config named by $REVIEWBOT_CONFIG (uvicorn's factory, one per worker
    process when `web.workers` > 1)."""
    from reviewbot.config import load_config

    return create_app(load_config())
