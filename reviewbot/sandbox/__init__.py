"""Sandbox Gerrit: a Gerrit REST emulator over real HTTP for tests, benchmarks and the demo.

from reviewbot.sandbox import SandboxGerrit, generate_cycle
sb = SandboxGerrit()
generate_cycle(sb, changes=200, seed=1)
with sb.running() as url:
    ...  # point the production Gerrit client at `url`

The fake Gerrit: model.py (records), directory.py, changes.py and state.py (the
builder API), server.py (HTTP front), rest_changes.py and rest_accounts.py (REST
endpoints), transport.py, render.py, query.py, pages.py. The scenario: generator.py
(the cycle), cast.py, material.py, meetings.py, activity.py. process.py runs it all
in a child process.
"""

from reviewbot.sandbox.activity import Activity
from reviewbot.sandbox.cast import BOT_PASSWORD, BOT_USERNAME, CORES
from reviewbot.sandbox.generator import generate_cycle
from reviewbot.sandbox.model import LABELS, Account, Change, Message, PatchSet, SandboxError
from reviewbot.sandbox.process import sandbox_process
from reviewbot.sandbox.query_tokens import QueryError
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
