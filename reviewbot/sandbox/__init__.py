"""Sandbox Gerrit: a Gerrit REST emulator over real HTTP for tests, benchmarks and the demo.

from reviewbot.sandbox import SandboxGerrit, generate_cycle
sb = SandboxGerrit()
generate_cycle(sb, changes=200, seed=1)
with sb.running() as url:
    ...  # point the production Gerrit client at `url`
"""

from reviewbot.sandbox.generator import (
    BOT_PASSWORD,
    BOT_USERNAME,
    CORES,
    Activity,
    generate_cycle,
)
from reviewbot.sandbox.model import LABELS, Account, Change, Message, PatchSet, SandboxError
from reviewbot.sandbox.process import sandbox_process
from reviewbot.sandbox.query import QueryError
from reviewbot.sandbox.server import FAULT_KINDS, SYNC_OPTIONS, RecordedRequest, SandboxGerrit

__all__ = [
    "BOT_PASSWORD",
    "BOT_USERNAME",
    "CORES",
    "FAULT_KINDS",
    "LABELS",
    "Account",
    "Activity",
    "Change",
    "Message",
    "PatchSet",
    "QueryError",
    "RecordedRequest",
    "SandboxError",
    "SYNC_OPTIONS",
    "SandboxGerrit",
    "generate_cycle",
    "sandbox_process",
]
