"""Web: notices every page carries — Launchpad data gone stale is said, not hidden."""

from __future__ import annotations

from fastapi.testclient import TestClient

from dashboards.app import create_app
from reviewbot.store import session_scope
from reviewbot.store.launchpad_cache import STALE_KEY
from reviewbot.store.state import set_state
from tests.conftest import make_config


def _config(data: dict, enabled: bool):
    return make_config(data, launchpad={**data["launchpad"], "enabled": enabled})


def test_stale_launchpad_data_is_announced_on_every_page(engine, sandbox_config_data):
    with session_scope(engine) as session:
        set_state(session, STALE_KEY, "Launchpad answered 503 Service Unavailable")
    with TestClient(create_app(_config(sandbox_config_data, True), engine=engine)) as client:
        for path in ("/", "/queue", "/changes", "/priorities", "/reviewers", "/actions"):
            page = client.get(path)
            assert page.status_code == 200, path
            assert "Launchpad data is stale (Launchpad answered 503" in page.text, path


def test_no_notice_when_launchpad_is_fresh_or_disabled(engine, sandbox_config_data):
    with TestClient(create_app(_config(sandbox_config_data, True), engine=engine)) as client:
        assert "Launchpad data is stale" not in client.get("/").text
    with session_scope(engine) as session:
        set_state(session, STALE_KEY, "timed out")
    with TestClient(create_app(_config(sandbox_config_data, False), engine=engine)) as client:
        assert "Launchpad data is stale" not in client.get("/").text
