"""`reviewbot demo`: sandbox, first cycle, web and worker come up, serve a queue, stop cleanly."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from datetime import date, datetime
from pathlib import Path

import httpx
import pytest

from reviewbot.clock import utcnow
from reviewbot.sandbox import CORES
from tests.browser_support import browser_paths, chromium_driver
from tests.conftest import ROOT
from tests.service_support import free_port


def _demo_config(tmp_path: Path) -> Path:
    text = (ROOT / "config" / "sandbox.toml").read_text()
    text = text.replace('url = "sqlite:///data/sandbox/reviewbot.db"',
                        f'url = "sqlite:///{tmp_path / "demo.db"}"')
    text = text.replace('data_dir = "data/sandbox"', f'data_dir = "{tmp_path}"')
    path = tmp_path / "sandbox.toml"
    path.write_text(text)
    return path


def test_demo_serves_the_queue_and_stops_on_ctrl_c(tmp_path):
    # SIGTERM takes the same path (one handler for both); the worker test covers SIGTERM.
    signum = signal.SIGINT
    web, gerrit = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWBOT_")}
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "reviewbot"), "--config", str(_demo_config(tmp_path)),
         "demo", "--changes", "40", "--port", str(web), "--gerrit-port", str(gerrit),
         "--activity-seconds", "0.5", "--poll-seconds", "1"],
        cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    base = f"http://127.0.0.1:{web}"
    try:
        deadline = time.monotonic() + 60
        page = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                page = httpx.get(f"{base}/queue", timeout=5, follow_redirects=True)
                break
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(0.2)
        assert page is not None and page.status_code == 200, "".join(lines)
        # A core reviewer's queue has rows (some core's does, whatever the seed).
        rows = 0
        for core, _name in CORES:
            page = httpx.get(f"{base}/queue", params={"reviewer": core}, timeout=5)
            assert page.status_code == 200, page.text
            rows = max(rows, len(re.findall(r"<tr[ >]", page.text)) - 1)  # minus the header
        assert rows > 0, "the queue page has rows"
        # The generated cycle is moved so that today falls inside it: no wait is longer
        # than the cycle (the config's Ocata dates would make every wait ~10 years long).
        ocata = date(2017, 2, 20) - date(2016, 10, 6)
        uploads = []
        for core, _name in CORES:
            data = httpx.get(f"{base}/api/v1/queue", params={"reviewer": core, "limit": 1000},
                             timeout=5).json()
            for item in data["items"]:
                uploads.append(datetime.fromisoformat(item["uploaded"]))
                assert item["score"] <= 3 * ocata.days + 30, item
        assert uploads, "the queues have items"
        now = utcnow()  # read after the queues: the sandbox keeps uploading meanwhile
        assert all(now - ocata <= up <= now for up in uploads), sorted(uploads)
        assert any(" is inside the cycle" in line for line in lines), "".join(lines)
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        # The demo wrote the configuration it runs and says how the CLI reads it.
        written = tmp_path / "demo.toml"
        said = f"reviewbot --config {written} report"
        assert any(said in line for line in lines), "".join(lines)
        cli = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "reviewbot"), "--config", str(written), "report",
             "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert cli.returncode == 0, cli.stderr
        web_report = httpx.get(f"{base}/api/v1/report", timeout=30).json()
        cli_report = json.loads(cli.stdout)
        for key in ("cycle_start", "cycle_end", "feature_freeze", "milestones"):
            assert cli_report[key] == web_report[key], key
        assert date.fromisoformat(cli_report["cycle_start"]) <= now.date() <= \
            date.fromisoformat(cli_report["cycle_end"]), "the CLI reads the moved cycle"
        assert sum(p["open"] + p["merged"] for p in cli_report["priorities"]) > 0
        # The sandbox keeps moving and the worker keeps cycling.
        deadline = time.monotonic() + 20
        while sum(" cycle duration=" in line for line in lines) < 2:
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.2)
        proc.send_signal(signum)
        code = proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(5)
    output = "".join(lines)
    assert code == 0, output
    assert "worker stopped" in output
    assert "Traceback" not in output


def test_demo_moves_the_cycle_so_today_is_three_weeks_before_feature_freeze(ocata_config):
    from reviewbot.service.demo import cycle_moved_to

    today = date(2026, 11, 27)
    moved, offset = cycle_moved_to(ocata_config, today)
    old, new = ocata_config.cycle, moved.cycle
    assert new.start <= today <= new.end
    assert (new.feature_freeze - today).days == 21
    assert new.end - new.start == old.end - old.start
    assert {k: v - new.start for k, v in new.milestones.items()} == \
        {k: v - old.start for k, v in old.milestones.items()}
    assert all(e.joined + offset == m.joined for e, m in zip(ocata_config.core_history,
                                                             moved.core_history, strict=True))
    assert ocata_config.cycle.start == old.start, "the loaded config is left alone"


def test_the_demo_config_file_is_the_config_it_runs_and_check_config_accepts_it(tmp_path,
                                                                                capsys):
    from reviewbot.cli import main
    from reviewbot.config import load_config
    from reviewbot.service.demo import _pointed_at, cycle_moved_to, write_demo_config

    source = _demo_config(tmp_path)
    loaded = load_config(source)
    running, offset = cycle_moved_to(_pointed_at(loaded, 18080), date(2026, 11, 27))
    written = write_demo_config(source, running, "line one\nline two")
    assert written == tmp_path / "demo.toml"
    text = written.read_text()
    assert text.startswith("# line one\n# line two\n")
    assert main(["--config", str(written), "check-config"]) == 0, capsys.readouterr()
    again = load_config(written)
    assert again.cycle == running.cycle and again.cycle != loaded.cycle
    assert again.core_history == running.core_history
    assert again.gerrit.url == "http://127.0.0.1:18080"
    # Everything else is the source file's own: priorities, gate, write-back, store.
    for section in ("priorities", "gate", "writeback", "standing", "database", "worker"):
        assert getattr(again, section) == getattr(loaded, section), section
    assert again.gerrit.model_copy(update={"url": loaded.gerrit.url}) == loaded.gerrit
    # Never over the file the demo was started with.
    with pytest.raises(SystemExit, match="would be overwritten"):
        write_demo_config(written, running, "x")


def test_generated_history_stops_at_now():
    from reviewbot.sandbox import SandboxGerrit, generate_cycle

    start, now = datetime(2026, 8, 31), datetime(2026, 11, 27, 12)
    sb = SandboxGerrit()
    generate_cycle(sb, changes=80, seed=7, start=start, end=now, not_after=now)
    dates = [m.date for c in sb.changes.values() for m in c.messages]
    assert dates and max(dates) <= now and min(dates) >= start
    assert any(c.status == "NEW" for c in sb.changes.values())


PAGES = ["/", "/queue", "/queue?reviewer={core}", "/changes", "/changes/{change}?reviewer={core}",
         "/priorities", "/reviewers", "/reviewers/{noncore}", "/actions"]


@pytest.mark.browser
def test_demo_pages_fit_1300_and_800_pixel_windows_in_chromium(tmp_path):
    """No page scrolls sideways, and the queue's score and reasons are on screen."""
    browser_paths()  # skips (fails under CI) before starting the demo without a browser
    from selenium.webdriver.common.by import By

    web, gerrit = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWBOT_")}
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "reviewbot"), "--config", str(_demo_config(tmp_path)),
         "demo", "--changes", "80", "--port", str(web), "--gerrit-port", str(gerrit),
         "--activity-seconds", "60", "--poll-seconds", "60"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{web}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert time.monotonic() < deadline and proc.poll() is None, "demo did not start"
            try:
                httpx.get(f"{base}/healthz", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        core = max((c for c, _ in CORES), key=lambda c: httpx.get(
            f"{base}/api/v1/queue", params={"reviewer": c}, timeout=5).json()["total"])
        change = httpx.get(f"{base}/api/v1/queue", params={"reviewer": core},
                           timeout=5).json()["items"][0]["number"]
        noncore = httpx.get(f"{base}/api/v1/reviewers", timeout=30).json()["reviewers"][0]
        urls = [base + p.format(core=core, change=change, noncore=noncore["username"])
                for p in PAGES]
        with chromium_driver() as driver:
            for width in (1300, 800):
                driver.set_window_size(width, 1000)
                for url in urls:
                    driver.get(url)
                    inner, scroll = driver.execute_script(
                        "return [window.innerWidth, document.documentElement.scrollWidth]")
                    assert scroll <= inner, f"{url} is {scroll} px wide in a {inner} px window"
                driver.get(f"{base}/queue?reviewer={core}")
                inner = driver.execute_script("return window.innerWidth")
                for selector in ("table.queue .score", "table.queue ul.reasons", "ul.votes li"):
                    cell = driver.find_element(By.CSS_SELECTOR, selector)
                    right = driver.execute_script(
                        "return arguments[0].getBoundingClientRect().right", cell)
                    assert cell.is_displayed() and right <= inner, (width, selector, right)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
