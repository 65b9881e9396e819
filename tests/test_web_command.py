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


def _get_on(sock: socket.socket) -> bytes:
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data  # the server closed the connection
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += sock.recv(65536)
    return head


def test_web_runs_worker_processes_and_keeps_idle_connections_open(tmp_path):
    # [web] workers = 2: uvicorn runs two processes, each building the app from the file.
    # keep_alive_seconds: an idle connection still answers after uvicorn's own 5 s default
    # (a proxy or a busy client sending on it then would get the connection reset).
    config = (ROOT / "config" / "sandbox.toml").read_text().replace(
        'url = "sqlite:///data/sandbox/reviewbot.db"', f'url = "sqlite:///{tmp_path}/r.db"')
    path = tmp_path / "c.toml"
    path.write_text(config + "\n[web]\nworkers = 2\nkeep_alive_seconds = 30\n")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "reviewbot.cli", "--config", str(path), "web", "--port",
         str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                assert proc.poll() is None, "reviewbot web exited"
                assert time.monotonic() < deadline, "reviewbot web never answered"
                time.sleep(0.2)
        with sock:
            assert _get_on(sock).startswith(b"HTTP/1.1 503")  # no sync yet: still an answer
            time.sleep(6)
            assert _get_on(sock).startswith(b"HTTP/1.1 503"), "idle connection was closed"
        answers = [httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code
                   for _ in range(6)]
        assert answers == [200] * 6
    finally:
        proc.terminate()
        proc.wait(15)
