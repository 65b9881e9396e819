"""Web dependencies: config, store sessions and templates, overridable in tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine
from sqlmodel import Session

from reviewbot.clock import parse_as_of, utcnow
from reviewbot.config import Config, Secrets


def site_notices(request: Request) -> dict:
    """Notices every page shows above its content (one primary-key read per page)."""
    state = getattr(request.app.state, "reviewbot", None)
    notices: list[str] = []
    if state is not None and state.config.launchpad.enabled:
        from reviewbot.store.launchpad_cache import staleness

        with Session(state.engine) as session:
            reason = staleness(session)
        if reason:
            notices.append(
                f"Launchpad data is stale ({reason}); Launchpad matchers use the last facts "
                "fetched, every other matcher is current."
            )
    return {"notices": notices}


templates = Jinja2Templates(
    directory=Path(__file__).resolve().parent / "templates", context_processors=[site_notices]
)


@dataclass
class AppState:
    config: Config
    secrets: Secrets
    engine: Engine


def get_state(request: Request) -> AppState:
    return request.app.state.reviewbot


def get_config(state: Annotated[AppState, Depends(get_state)]) -> Config:
    return state.config


def get_session(state: Annotated[AppState, Depends(get_state)]) -> Iterator[Session]:
    # Read-only pages: no commit needed; the web layer never writes Gerrit data.
    with Session(state.engine, expire_on_commit=False) as session:
        yield session


StateDep = Annotated[AppState, Depends(get_state)]
ConfigDep = Annotated[Config, Depends(get_config)]
SessionDep = Annotated[Session, Depends(get_session)]


def parse_as_of_param(value: str | None) -> datetime:
    """`as_of` query value -> naive UTC (empty: now); a bad value is a 422 naming the problem."""
    if not value:
        return utcnow()
    try:
        return parse_as_of(value)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=f"as_of: {exc}") from None
