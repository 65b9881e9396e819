"""CLI: `reviewbot web` serves the app and binds $PORT as Procfile platforms expect."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx

from tests.conftest import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_web_binds_the_port_from_the_environment(tmp_path):
    config = (ROOT / "config" / "sandbox.toml").read_text().replace(
        'url = "sqlite:///data/sandbox/reviewbot.db"', f'url = "sqlite:///{tmp_path}/r.db"')
    path = tmp_path / "c.toml"
    path.write_text(config)
    port = _free_port()
    env = {**os.environ, "PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "reviewbot.cli", "--config", str(path), "web"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, "reviewbot web exited"
                assert time.monotonic() < deadline, "reviewbot web never answered on $PORT"
                time.sleep(0.2)
        assert page.status_code == 200 and "Ocata" in page.text
    finally:
        proc.terminate()
        proc.wait(15)
