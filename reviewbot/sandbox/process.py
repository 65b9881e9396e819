"""Sandbox Gerrit in a child process: for benchmarks, so its CPU and memory aren't the client's.

The in-process `SandboxGerrit.running()` shares the GIL and the heap with the
code under test; a benchmark of sync throughput or peak RSS should run the
sandbox here instead (`reviewbot sandbox` as a subprocess).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator


@contextlib.contextmanager
def sandbox_process(
    changes: int = 5000,
    seed: int = 1,
    *,
    prewarm: bool = True,
    activity: float = 0.0,
    timeout: float = 300.0,
) -> Iterator[str]:
    """Start `reviewbot sandbox --port 0` in a child process; yields its URL.

    With `prewarm`, waits until every change is pre-rendered for the sync
    option set, so the first back-fill measures the client, not rendering.
    """
    cmd = [sys.executable, "-m", "reviewbot.sandbox", "--changes", str(changes),
           "--seed", str(seed), "--port", "0"]
    if not prewarm:
        cmd.append("--no-prewarm")
    if activity > 0:
        cmd += ["--activity", str(activity)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    stdout, stderr = proc.stdout, proc.stderr
    if stdout is None or stderr is None:  # both are PIPEs: Popen always opens them
        raise RuntimeError("sandbox child process started without its output pipes")
    errors: list[str] = []
    threading.Thread(target=lambda: errors.extend(stderr), name="sandbox-process-stderr",
                     daemon=True).start()
    found: dict[str, str] = {}
    ready = threading.Event()

    def read() -> None:
        for line in stdout:
            key, sep, value = line.strip().partition("=")
            if sep and key.startswith("SANDBOX_"):
                found[key] = value
                if "SANDBOX_URL" in found and (not prewarm or "SANDBOX_PREWARMED" in found):
                    ready.set()
        ready.set()  # the child exited

    threading.Thread(target=read, name="sandbox-process-stdout", daemon=True).start()
    try:
        deadline = time.monotonic() + timeout
        while not ready.wait(0.1):
            if time.monotonic() > deadline:
                raise TimeoutError(f"sandbox process not ready after {timeout:.0f}s: "
                                   f"{''.join(errors)[-2000:]}")
        if "SANDBOX_URL" not in found:
            status = proc.wait()
            raise RuntimeError(f"sandbox process exited with status {status}: "
                               f"{''.join(errors)[-2000:]}")
        yield found["SANDBOX_URL"]
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
