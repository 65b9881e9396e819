"""Schema setup: one transaction, safe to kill half-way, safe to start several processes at once,
and free (one query) when the schema is already current."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine

from reviewbot.store import head_revision, open_store, schema_head, stored_revision
from tests.conftest import ROOT
from tests.test_migrations import _schema_diff

# Opens the store like every command does, but SIGKILLs itself right before the
# Nth CREATE TABLE statement of the schema setup (the fault is in the test, the
# code under test runs unchanged).
KILL_AT_CREATE = textwrap.dedent("""
    import os, signal, sys
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from reviewbot.store import open_store
    url, kill_at = sys.argv[1], int(sys.argv[2])
    seen = 0
    @event.listens_for(Engine, "before_cursor_execute")
    def _maybe_die(conn, cursor, statement, *args):
        global seen
        if statement.lstrip().upper().startswith("CREATE TABLE"):
            seen += 1
            if seen == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
    open_store(url)
    print("finished without being killed")
""")

START_TOGETHER = textwrap.dedent("""
    import sys, time
    from reviewbot.store import open_store
    url, at = sys.argv[1], float(sys.argv[2])
    time.sleep(max(0.0, at - time.time()))
    open_store(url).dispose()
""")


def test_the_quick_head_is_alembics_head():
    assert schema_head() == head_revision()


@pytest.mark.parametrize("kill_at", [1, 3, 6])
def test_a_kill_during_the_first_schema_setup_leaves_a_store_that_starts(store_url, kill_at):
    done = subprocess.run([sys.executable, "-c", KILL_AT_CREATE, store_url, str(kill_at)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stdout + done.stderr
    engine = open_store(store_url)  # raised "table account already exists" before
    try:
        assert stored_revision(engine) == schema_head()
        assert _schema_diff(engine) == []
    finally:
        engine.dispose()


def test_processes_starting_together_on_a_fresh_store_all_succeed(store_url, request):
    from tests.conftest import _fresh_postgres

    for attempt in range(3):
        if attempt:  # a fresh store again
            if store_url.startswith("sqlite"):
                path = store_url[len("sqlite:///"):]
                for suffix in ("", "-wal", "-shm"):
                    subprocess.run(["rm", "-f", path + suffix], check=True)
            else:
                _fresh_postgres(store_url)
        at = time.time() + 3.0  # all four past their imports, then go at once
        procs = [subprocess.Popen([sys.executable, "-c", START_TOGETHER, store_url, str(at)],
                                  cwd=ROOT, stderr=subprocess.PIPE, text=True)
                 for _ in range(4)]
        errors = [p.communicate(timeout=120)[1] for p in procs]
        codes = [p.returncode for p in procs]
        assert codes == [0, 0, 0, 0], "\n".join(errors)
    engine = open_store(store_url)
    try:
        assert _schema_diff(engine) == []
    finally:
        engine.dispose()


def test_a_current_schema_costs_one_query_at_start(store_url):
    open_store(store_url).dispose()
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        engine = open_store(store_url)
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    try:
        assert statements == ["SELECT version_num FROM alembic_version"]
        assert "change" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_current_schema_does_not_import_alembic(store_url):
    open_store(store_url).dispose()
    probe = ("import sys; from reviewbot.store import open_store; open_store(sys.argv[1]); "
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))")
    done = subprocess.run([sys.executable, "-c", probe, store_url], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_an_in_memory_store_gets_its_schema_on_its_own_connection():
    engine = open_store("sqlite://")
    try:
        assert "change" in inspect(engine).get_table_names()
        assert stored_revision(engine) == schema_head()
    finally:
        engine.dispose()
