"""`reviewbot demo`: sandbox, first cycle, web and worker come up, serve a queue, stop cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx

from reviewbot.sandbox import CORES
from tests.conftest import ROOT
from tests.service_support import free_port


def _demo_config(tmp_path: Path) -> Path:
    text = (ROOT / "config" / "sandbox.toml").read_text()
    text = text.replace('url = "sqlite:///data/sandbox/reviewbot.db"',
                        f'url = "sqlite:///{tmp_path / "demo.db"}"')
    text = text.replace('data_dir = "data/sandbox"', f'data_dir = "{tmp_path}"')
    path = tmp_path / "demo.toml"
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
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
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
