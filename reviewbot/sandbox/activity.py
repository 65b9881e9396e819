"""Sandbox live activity: votes and uploads "now", so the demo's queues move while one watches.

Started by `SandboxGerrit.start_activity` (`reviewbot sandbox --activity N`, the
demo). Seeded like the cycle, and keeps to the same review gate: cores mostly
leave a gated change to non-cores (`waits_for_gate`).
"""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta

from reviewbot.clock import utcnow
from reviewbot.sandbox.cast import CORE_GATE_JUMPS, CORES, NEW_CORE_GATE_JUMP, NONCORES, gate_opened
from reviewbot.sandbox.material import (
    CORE_MINUS,
    CORE_PLUS2,
    GOAL_BUG,
    GOAL_TOPIC,
    MINUS_TEXT,
    PLUS_TEXT,
    PRIORITY_WORK,
    ZUUL_OK,
)
from reviewbot.sandbox.model import Change
from reviewbot.sandbox.state import State


def waits_for_gate(sb: State, change: Change) -> bool:
    """Whether a core keeping to the gate leaves `change` alone for now: not priority work
    (as config/sandbox.toml declares it), not the proposal bot's, and the gate not yet
    opened on its current patch set."""
    if sb.accounts[change.owner].username == "proposal-bot" or change.topic == GOAL_TOPIC:
        return False
    body = change.current.body or ""
    if f"#{GOAL_BUG}" in body or any(f"blueprint {bp}" in body for bp, _, _ in PRIORITY_WORK):
        return False
    return not gate_opened(sb, change)


class Activity:
    """Keeps adding votes and uploads 'now' so the demo's queues move while someone watches."""

    def __init__(self, sb: State, every_seconds: float = 3.0, seed: int = 0) -> None:
        self.sb = sb
        self.every = every_seconds
        self.rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.steps = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sandbox-activity", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.step(utcnow())

    def step(self, now: datetime) -> str:
        """One random event on a random open change; returns what happened (for logs/tests)."""
        rng, sb = self.rng, self.sb
        with sb.lock:
            open_changes = [c for c in sb.changes.values() if c.status == "NEW" and not c.wip]
            if not open_changes:
                return "nothing open"
            change = rng.choice(open_changes)
            owner = sb.accounts[change.owner].username
            roll = rng.random()
            reviewers = [r for r in NONCORES if r.username != owner]
            cores = [u for u, _ in CORES if u != owner]
            if roll < 0.45:
                r = rng.choice(reviewers)
                value = 1 if rng.random() < 0.7 else -1
                message = rng.choice(PLUS_TEXT if value > 0 else MINUS_TEXT)
                if sb.is_core(sb.account_id(r.username)) and waits_for_gate(sb, change):
                    # Promoted to core since: keeps to the gate as the other cores do.
                    self.steps += 1
                    return f"{r.username} (core now) waits for the gate on {change.number}"
                sb.review(change.number, r.username, labels={"Code-Review": value},
                          message=message, when=now)
                what = f"{r.username} Code-Review{value:+d} on {change.number}"
            elif roll < 0.70:
                core = rng.choice(cores)
                jumps = CORE_GATE_JUMPS.get(core, NEW_CORE_GATE_JUMP)
                if waits_for_gate(sb, change) and rng.random() >= jumps:
                    # Keeping to the gate: the core turns to a change that is ready instead,
                    # and with none ready reviews nothing this step (voting on the gated
                    # change anyway would be a gate jump the roll above said not to make).
                    ready = [
                        c for c in open_changes
                        if sb.accounts[c.owner].username != core and not waits_for_gate(sb, c)
                    ]
                    if not ready:
                        self.steps += 1
                        return f"{core} waits for the gate on {change.number}; nothing ready"
                    change = rng.choice(ready)
                value = 2 if rng.random() < 0.6 else -1
                sb.review(
                    change.number,
                    core,
                    labels={"Code-Review": value},
                    message=rng.choice(CORE_PLUS2 if value > 0 else CORE_MINUS),
                    when=now,
                )
                what = f"{core} Code-Review{value:+d} on {change.number}"
            else:
                uploader = owner if owner != "proposal-bot" else "proposal-bot"
                ps = sb.upload_patch_set(change.number, uploader, when=now)
                sb.review(
                    change.number,
                    "zuul",
                    labels={"Verified": 1},
                    message=ZUUL_OK,
                    when=now + timedelta(seconds=1),
                    tag="autogenerated:zuul:check",
                )
                what = f"{uploader} uploaded patch set {ps} of {change.number}"
            self.steps += 1
            return what
