"""SQLite and PostgreSQL answer alike: one synced cycle, stored in both, gives the same gate
reasons, change pages, queues and report, word for word and in the same order."""

from __future__ import annotations

import json
import logging
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from dashboards.app import create_app
from reviewbot.config import Secrets
from reviewbot.sandbox import SandboxGerrit, generate_cycle
from reviewbot.service.cycle import run_cycle
from reviewbot.store import open_store
from tests.conftest import _fresh_postgres, make_config

AS_OF = "2017-01-20"


def _answers(store_url: str, gerrit_url: str, data: dict) -> dict:
    config = make_config(data, database={"url": store_url},
                         gerrit={**data["gerrit"], "url": gerrit_url},
                         writeback={"enabled": False})
    engine = open_store(store_url)
    try:
        summary = run_cycle(config, Secrets(), engine)
        assert not summary.failed_steps, summary.log_line()
        out: dict = {}
        with engine.connect() as conn:
            for number, state, reason, reasons in conn.execute(text(
                    "SELECT change_number, gate_state, gate_reason, reasons FROM verdict")):
                out[("verdict", number)] = (state, reason,
                                            json.loads(reasons) if isinstance(reasons, str)
                                            else reasons)
        client = TestClient(create_app(config, engine=engine))
        numbers = sorted(n for kind, n in out if kind == "verdict")
        for number in numbers:
            for query in (f"?as_of={AS_OF}&reviewer=mkoval", ""):
                answer = client.get(f"/api/v1/changes/{number}{query}").json()
                answer.pop("evaluated_at", None)
                out[("change", number, query)] = answer
            page = client.get(f"/changes/{number}?as_of={AS_OF}").text
            # The footer says when this store was synced: the one part that differs.
            out[("page", number)] = re.sub(r"<footer>.*</footer>", "", page, flags=re.S)
        for who in ("mkoval", "pnatarajan", "zangstrom"):
            out[("queue", who)] = client.get(
                f"/api/v1/queue?reviewer={who}&as_of={AS_OF}").json()
        out["report"] = client.get(f"/api/v1/report?as_of={AS_OF}").json()
        out["report.md"] = client.get(f"/report.md?as_of={AS_OF}").text
        return out
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_sqlite_and_postgresql_give_the_same_reasons_pages_queues_and_report(
        request, tmp_path, sandbox_config_data, caplog):
    pg_url = request.getfixturevalue("postgres_database")
    _fresh_postgres(pg_url)
    caplog.set_level(logging.WARNING)
    sandbox = SandboxGerrit()
    generate_cycle(sandbox, changes=150, seed=5)
    with sandbox.running() as gerrit_url:
        lite = _answers(f"sqlite:///{tmp_path / 'r.db'}", gerrit_url, sandbox_config_data)
        pg = _answers(pg_url, gerrit_url, sandbox_config_data)
    assert len([k for k in lite if k[0] == "verdict"]) >= 100
    assert lite.keys() == pg.keys()
    differing = [k for k in lite if lite[k] != pg[k]]
    assert not differing, [(k, lite[k], pg[k]) for k in differing[:2]]
