"""Store migrations: they build exactly the schema the code declares, and step back."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from reviewbot.store import _MIGRATIONS, open_store, session_scope
from reviewbot.store.state import get_state, set_state


def _schema_diff(engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_server_default": True})
        return compare_metadata(context, SQLModel.metadata)


def _migrate(engine, direction: str, revision: str) -> None:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        getattr(command, direction)(cfg, revision)


def test_migrations_build_exactly_the_tables_the_code_declares(store_url):
    engine = open_store(store_url)
    try:
        assert _schema_diff(engine) == []
    finally:
        engine.dispose()


def test_stepping_back_from_review_judgements_and_up_again(store_url):
    engine = open_store(store_url)
    try:
        with session_scope(engine) as session:
            set_state(session, "reviews.fingerprint", "x")
            set_state(session, "cursor", "kept")
        _migrate(engine, "downgrade", "0001")
        with session_scope(engine) as session:
            # The judging state goes with its tables; other sync facts stay.
            assert get_state(session, "reviews.fingerprint") is None
            assert get_state(session, "cursor") == "kept"
        _migrate(engine, "upgrade", "head")
        assert _schema_diff(engine) == []
    finally:
        engine.dispose()


def test_alembic_from_the_command_line_finds_the_schema_current(tmp_path):
    """The contributor's commands (README, "Changing the store schema") work: upgrade a
    fresh store, then autogenerate's comparison reports nothing to do."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    alembic = [sys.executable, "-m", "alembic", "-c", "reviewbot/alembic.ini",
               "-x", f"url=sqlite:///{tmp_path / 'dev.db'}"]
    up = subprocess.run([*alembic, "upgrade", "head"], cwd=ROOT, capture_output=True,
                        text=True, timeout=120)
    assert up.returncode == 0, up.stderr
    assert "-> 0008_answer_indexes" in up.stderr  # the migrations ran, logged
    check = subprocess.run([*alembic, "check"], cwd=ROOT, capture_output=True, text=True,
                           timeout=120)
    assert check.returncode == 0, check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr
