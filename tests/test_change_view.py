"""One change as the page, the API and `why` show it: the stored verdict while it is about
the change as stored, judged afresh once a sync moved the change past it."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import select

from dashboards.app import create_app
from reviewbot.evaluate.verdicts import evaluate_store
from reviewbot.store import session_scope
from reviewbot.store.tables import Change
from tests.conftest import make_config
from tests.store_builder import add_account, add_change, add_core, add_current_vote, add_vote_event

T = datetime(2017, 1, 20, 12, 0)


def test_a_change_synced_after_its_verdict_is_judged_afresh(engine, sandbox_config_data):
    config = make_config(sandbox_config_data)
    with session_scope(engine) as s:
        add_account(s, 1, "carol")
        add_account(s, 7, "owen")
        add_account(s, 9, "nora")
        add_core(s, "glance-core", 1)
        add_change(s, 380002, 7, created=T - timedelta(days=3))
    evaluate_store(engine, config, now=T)
    client = TestClient(create_app(config, engine=engine))

    stored = client.get("/api/v1/changes/380002").json()
    assert stored["gate_state"] == "gated" and stored["evaluated_at"] is not None

    # A sync writes nora's +1 (a non-core) and moves the change's revision; no evaluate yet.
    with session_scope(engine) as s:
        add_current_vote(s, 380002, 9, "Code-Review", 1)
        add_vote_event(s, 380002, 1, 9, "Code-Review", 1, T + timedelta(hours=1))
        change = s.exec(select(Change).where(Change.number == 380002)).one()
        change.revision += 1
        change.updated = T + timedelta(hours=1)
    fresh = client.get("/api/v1/changes/380002").json()
    assert fresh["gate_state"] == "open", fresh["gate_reason"]
    assert fresh["evaluated_at"] is None, "judged now, stored nowhere"

    # The next evaluate stores that verdict; the answer comes from the store again.
    evaluate_store(engine, config, now=T + timedelta(hours=2))
    again = client.get("/api/v1/changes/380002").json()
    assert again["gate_state"] == "open" and again["evaluated_at"] is not None
