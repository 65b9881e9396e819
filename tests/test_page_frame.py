"""Every page's frame: the footer says when data was last synced (a warning once that is older
than 3 poll intervals) and the nav marks the page you are on."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from dashboards.app import create_app
from dashboards.freshness import ago, freshness
from reviewbot.clock import utcnow
from reviewbot.store import session_scope
from reviewbot.store.ops import set_last_sync_success
from tests.conftest import make_config
from tests.store_builder import add_account, add_change, add_core, set_verdict

PAGES = ["/", "/queue", "/queue?reviewer=alice", "/changes", "/changes/100", "/priorities",
         "/reviewers", "/reviewers/carol", "/actions", "/changes/999"]
NAV = {"/queue": "Queue", "/changes": "Changes", "/priorities": "Priorities",
       "/reviewers": "Reviewers", "/actions": "Actions log"}


@pytest.fixture
def client_at(engine, sandbox_config_data):
    """A client over a small store whose last successful sync was `age` ago (None: never)."""
    with session_scope(engine) as s:
        add_account(s, 1, "alice")
        add_account(s, 7, "carol")
        add_core(s, "glance-core", 1)
        add_change(s, 100, 7, subject="A change")
        set_verdict(s, 100, "open")
    config = make_config(sandbox_config_data, worker={"poll_seconds": 300})  # stale after 15 min

    def make(age: timedelta | None) -> tuple[TestClient, datetime | None]:
        synced = None
        if age is not None:
            synced = (utcnow() - age).replace(microsecond=0)
            with session_scope(engine) as s:
                set_last_sync_success(s, synced)
        return TestClient(create_app(config, engine=engine)), synced

    return make


def _footer(text: str) -> str:
    return text[text.index("<footer>"):]


def test_every_page_footer_says_when_data_was_synced(client_at):
    client, synced = client_at(timedelta(minutes=3, seconds=20))
    exact = synced.strftime("%Y-%m-%d %H:%M:%S UTC")
    for path in PAGES:
        page = client.get(path)
        footer = _footer(page.text)
        assert "synced <time" in footer and ">3 min ago</time>" in footer, path
        assert exact in footer, path
        assert f'datetime="{synced.isoformat()}Z"' in footer, path
        assert "out of date" not in footer and 'role="alert"' not in footer, path


def test_the_footer_warns_once_the_sync_is_older_than_three_poll_intervals(client_at):
    client, _ = client_at(timedelta(minutes=14))
    assert "Data may be out of date" not in client.get("/queue").text
    client, synced = client_at(timedelta(minutes=16))
    for path in PAGES:
        footer = _footer(client.get(path).text)
        assert 'class="sync stale" role="alert"' in footer, path
        assert "Data may be out of date" in footer and ">16 min ago</time>" in footer, path
        assert "longer than 3 poll intervals (15 min)" in footer, path
        assert synced.strftime("%Y-%m-%d %H:%M:%S UTC") in footer, path


def test_the_footer_warns_when_no_sync_ever_succeeded(client_at):
    client, _ = client_at(None)
    footer = _footer(client.get("/").text)
    assert "Data may be out of date" in footer and "no sync from Gerrit has succeeded yet" in footer


def test_the_nav_marks_the_page_you_are_on(client_at):
    client, _ = client_at(timedelta(minutes=1))
    for path in PAGES:
        page = client.get(path).text
        current = re.findall(r'<a href="([^"]+)" aria-current="page">([^<]+)</a>', page)
        section = next((href for href in NAV if path.split("?")[0] == href
                        or path.startswith(href + "/")), None)
        expected = [(section, NAV[section])] if section else []
        assert current == expected, (path, current)
        home = '<a class="brand" href="/" aria-current="page">' in page
        assert home == (path == "/"), path


def test_ages_read_in_the_largest_whole_unit():
    assert [ago(s) for s in (0, 59, 60, 199, 3599, 3600, 86399, 86400, 5 * 86400)] == [
        "just now", "just now", "1 min ago", "3 min ago", "59 min ago", "1 h ago", "23 h ago",
        "1 day ago", "5 days ago"]
    now = datetime(2017, 1, 20, 12)
    assert not freshness(now - timedelta(seconds=45), now, 15).stale
    assert freshness(now - timedelta(seconds=46), now, 15).stale
    assert freshness(now - timedelta(seconds=46), now, 15).limit == "45 s"
