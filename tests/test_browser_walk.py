"""A person's first visit, in a real browser: headless Debian Chromium walks the app over a
sandbox-synced store — home, a core's queue, a change, why-not, the change in (sandbox)
Gerrit, priorities, the leaderboard, a reviewer, /backtest when present, the API docs —
with no console error and no request leaving the machine on any page.

Screenshots of every page are kept as test artifacts in $REVIEWBOT_SCREENSHOTS (default:
a `screenshots` folder in the test's temporary directory).
"""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import uvicorn

from dashboards.app import create_app
from reviewbot.clock import utcnow
from reviewbot.sandbox import SandboxGerrit, generate_cycle
from reviewbot.service.cycle import run_cycle
from reviewbot.service.demo import add_demo_bot, cycle_moved_to
from reviewbot.store import open_store
from tests.browser_support import (
    browser_paths,
    chromium_driver,
    console_errors,
    outside_hosts,
    requested_urls,
)
from tests.conftest import make_config
from tests.service_support import bot_secrets, free_port


@pytest.fixture
def screenshots(tmp_path) -> Path:
    folder = Path(os.environ.get("REVIEWBOT_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def demo_site(sandbox_config_data, sqlite_url, tmp_path):
    """What `make demo` serves: a sandbox cycle moved to today, synced, and the web app."""
    browser_paths()  # skip (fail under CI) before building anything without a browser
    now = utcnow()
    config = make_config(sandbox_config_data, database={"url": sqlite_url},
                         data_dir=str(tmp_path))
    config, _ = cycle_moved_to(config, now.date())
    sb = SandboxGerrit()
    generate_cycle(sb, changes=120, seed=7,
                   start=datetime.combine(config.cycle.start, datetime.min.time()),
                   end=now, not_after=now)
    sb.bot_username, sb.bot_password = add_demo_bot(sb, config)
    with sb.running() as gerrit_url:
        config = config.model_copy(update={
            "gerrit": config.gerrit.model_copy(update={"url": gerrit_url})})
        engine = open_store(sqlite_url)
        for _ in range(2):  # the second cycle reads back what the first one wrote
            assert run_cycle(config, bot_secrets(sb), engine).errors == 0
        app = create_app(config, secrets=bot_secrets(sb), engine=engine)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="error", lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
            time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}", gerrit_url
        finally:
            server.should_exit = True
            thread.join(10)
            engine.dispose()


@pytest.mark.browser
def test_a_first_visit_walks_every_page_without_errors_or_outside_requests(demo_site,
                                                                          screenshots):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as seen
    from selenium.webdriver.support.ui import WebDriverWait

    base, gerrit = demo_site
    visited: list[str] = []

    with chromium_driver(1300, 900) as driver:
        def check(name: str) -> None:
            """The page that is showing: no console error, nothing fetched off the machine,
            a heading, the sync line in the footer; then a full-page screenshot."""
            errors = console_errors(driver)
            assert errors == [], (name, driver.current_url, errors)
            outside = outside_hosts(requested_urls(driver))
            assert outside == [], (name, outside)
            assert driver.find_element(By.TAG_NAME, "h1").text.strip(), name
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(1300, min(max(height, 900), 8000))
            driver.save_screenshot(str(screenshots / f"{len(visited) + 1:02d}-{name}.png"))
            driver.set_window_size(1300, 900)
            visited.append(name)

        def click(text: str) -> None:
            driver.find_element(By.LINK_TEXT, text).click()

        def current_nav() -> str:
            return driver.find_element(By.CSS_SELECTOR, 'nav a[aria-current="page"]').text

        driver.get(base + "/")
        assert "synced" in driver.find_element(By.TAG_NAME, "footer").text
        check("home")

        # The queue: the nav, then the core with the fullest queue from the picker.
        click("Queue")
        rows = driver.find_elements(By.CSS_SELECTOR, "table.cores tbody tr")
        assert rows, "the picker lists the core reviewers"
        best = max(rows, key=lambda r: int(r.find_element(By.CSS_SELECTOR, "td.num").text))
        cores = [r.find_element(By.TAG_NAME, "a").text for r in rows]
        core = best.find_element(By.TAG_NAME, "a").text
        best.find_element(By.TAG_NAME, "a").click()
        assert current_nav() == "Queue"
        assert f"Review queue of {core}" in driver.find_element(By.TAG_NAME, "h1").text
        items = driver.find_elements(By.CSS_SELECTOR, "table.queue tbody tr")
        assert items, "the fullest queue has changes"
        check("queue")

        # A change, from its queue row, then whether it is in another core's queue.
        number = items[0].get_attribute("data-change")
        items[0].find_element(By.CSS_SELECTOR, "a.subject").click()
        assert driver.current_url.startswith(f"{base}/changes/{number}")
        check("change")
        # A core who voted on it (a chip marked core) is the likeliest "why not".
        voters = [li.text.split()[0] for li in driver.find_elements(By.CSS_SELECTOR,
                                                                      "ul.votes li")
                  if li.text.split() and li.text.split()[0] in cores]
        other = next((c for c in voters if c != core), next(c for c in cores if c != core))
        box = driver.find_element(By.CSS_SELECTOR, 'form.pick input[name="reviewer"]')
        box.clear()
        box.send_keys(other)
        box.submit()
        WebDriverWait(driver, 15).until(seen.url_contains(f"reviewer={other}"))
        answer = driver.find_element(By.CSS_SELECTOR, "p.ok, p.note")
        assert answer.text.startswith(("Yes.", f"Not in the queue of {other}")), answer.text
        check("why-not")

        # The same change in Gerrit (the sandbox's page, on this machine).
        link = driver.find_element(By.PARTIAL_LINK_TEXT, gerrit)
        link.click()
        assert driver.find_element(By.TAG_NAME, "h1").text.startswith(f"Change {number}:")
        check("gerrit-change")
        driver.back()

        click("Priorities")
        assert current_nav() == "Priorities"
        assert driver.find_elements(By.CSS_SELECTOR, "table.summary tbody tr")
        assert driver.find_elements(By.CSS_SELECTOR, "svg.burnup")
        check("priorities")

        click("Reviewers")
        assert current_nav() == "Reviewers"
        check("leaderboard")
        driver.find_element(By.CSS_SELECTOR, "main table tbody a").click()  # not a sort link
        assert "/reviewers/" in driver.current_url
        check("reviewer")

        if httpx.get(base + "/backtest", timeout=60).status_code == 200:
            driver.get(base + "/backtest")
            check("backtest")

        # The API docs, from the footer: Swagger UI renders its operations offline.
        driver.find_element(By.CSS_SELECTOR, "footer").find_element(By.LINK_TEXT, "API").click()
        WebDriverWait(driver, 20).until(
            seen.presence_of_element_located((By.CSS_SELECTOR, ".opblock")))
        assert driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
        check("docs")

    assert {"home", "queue", "change", "why-not", "priorities", "leaderboard", "reviewer",
            "docs"} <= set(visited)
    shots = sorted(p.name for p in screenshots.glob("*.png"))
    assert len(shots) >= len(visited) and all((screenshots / s).stat().st_size > 5000
                                              for s in shots)
