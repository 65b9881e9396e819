"""Test support for the browser tests: headless Debian Chromium through Selenium, or a skip.

Without chromium and chromium-driver the browser tests skip with a one-line reason saying
how to enable them, so `make test` passes on a machine with only Python; under CI
(`CI=true`, set by .ci/run, which installs both) a missing browser is a failure instead,
so CI can never skip them silently.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest

ENABLE = "install Debian chromium and chromium-driver, as .ci/run does"
# A browser that phones home would make "no request to an outside host" untestable.
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--hide-scrollbars")


def browser_paths() -> tuple[str, str]:
    """(chromium, chromedriver), or skip (fail under CI) saying how to get them."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    missing = " and ".join(n for n, p in (("chromium", chromium), ("chromedriver", driver))
                           if not p)
    reason = f"browser test skipped: {missing} not found; {ENABLE}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI must run the browser tests: {missing} not found; {ENABLE}")
    pytest.skip(reason)


@contextmanager
def chromium_driver(width: int = 1300, height: int = 1000) -> Iterator:
    """A headless Chromium driven by Selenium, logging console messages and every request."""
    chromium, driver_path = browser_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.set_window_size(width, height)
        yield driver
    finally:
        driver.quit()


def console_errors(driver) -> list[str]:
    """Console messages at SEVERE level since the last call (the log is drained)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def requested_urls(driver) -> list[str]:
    """Every URL the page asked the network for since the last call (the log is drained)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def outside_hosts(urls: list[str]) -> list[str]:
    """The URLs that leave the machine (anything but loopback, data: and about:)."""
    return [u for u in urls if urlsplit(u).scheme in ("http", "https", "ws", "wss")
            and urlsplit(u).hostname not in ("127.0.0.1", "localhost", "::1")]
