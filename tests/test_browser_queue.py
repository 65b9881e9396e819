"""The queue page in a real browser: headless Chromium against a real uvicorn server."""

from __future__ import annotations

import socket
import threading
import time
from datetime import datetime, timedelta

import pytest
import uvicorn

from dashboards.app import create_app
from reviewbot.store import session_scope
from tests.browser_support import browser_paths, chromium_driver
from tests.conftest import make_config
from tests.store_builder import (
    add_account,
    add_change,
    add_core,
    add_current_vote,
    add_vote_event,
    set_verdict,
)

NOW = datetime(2017, 1, 20, 12, 0, 0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.browser
def test_queue_page_renders_rows_in_chromium(engine, sandbox_config_data) -> None:
    browser_paths()  # skips (fails under CI) before building anything without a browser
    with session_scope(engine) as s:
        add_account(s, 1, "alice")
        add_account(s, 7, "carol")
        add_core(s, "glance-core", 1)
        add_change(s, 100, 7, subject="Import: add the taskflow plugin",
                   created=NOW - timedelta(days=1))
        add_change(s, 101, 7, subject="<b>Fix</b> the cache", created=NOW - timedelta(days=6))
        add_current_vote(s, 100, 7, "Verified", 1)
        # 101 is past the gate: a non-core reviewer's +1 on its patch set.
        add_account(s, 8, "dan")
        add_vote_event(s, 101, 1, 8, "Code-Review", 1, NOW - timedelta(days=5))
        add_current_vote(s, 101, 8, "Code-Review", 1)
        set_verdict(s, 100, "priority", priorities=["image-import-refactor"], rank=3,
                    matches=[{"priority": "image-import-refactor",
                              "title": "Image Import Refactor", "rank": 3,
                              "reasons": ["blueprint image-import-refactor (commit footer)"]}])
        set_verdict(s, 101, "open", gate_reason="non-core +1 on patch set 1")
    app = create_app(make_config(sandbox_config_data), engine=engine)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        with chromium_driver() as driver:
            _walk_queue(driver, port)
    finally:
        server.should_exit = True
        thread.join(10)


def _walk_queue(driver, port: int) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"http://127.0.0.1:{port}/queue?reviewer=alice&as_of=2017-01-20T12:00:00Z")
    rows = driver.find_elements(By.CSS_SELECTOR, "table.queue tbody tr")
    assert [r.get_attribute("data-change") for r in rows] == ["100", "101"]
    assert "Image Import Refactor" in rows[0].text
    # The markup in a subject is shown as text, never rendered.
    assert "<b>Fix</b> the cache" in rows[1].text
    assert not driver.find_elements(By.CSS_SELECTOR, "table.queue b")
    # The cookie remembers the reviewer: the bare /queue shows alice's queue again.
    driver.get(f"http://127.0.0.1:{port}/queue")
    assert "Review queue of alice" in driver.find_element(By.TAG_NAME, "h1").text
