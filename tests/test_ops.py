"""Operations endpoints: health 503 when sync is stale, metrics parse, admin sync guarded and
only a hint for the worker."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from dashboards.app import create_app
from reviewbot.clock import utcnow
from reviewbot.config import Secrets
from reviewbot.service.coordination import CYCLE, make_lock
from reviewbot.service.worker import Worker
from reviewbot.store import make_engine, session_scope
from reviewbot.store.ops import last_cycle, record_cycle, set_last_sync_success
from reviewbot.store.tables import ActionLog, Change, Verdict
from tests.conftest import make_config


@pytest.fixture
def config(sandbox_config_data, sqlite_url):
    # Gerrit on a port nobody listens on: an admin-triggered cycle fails its sync
    # step quickly, which is all these tests need from it.
    return make_config(sandbox_config_data, database={"url": sqlite_url},
                       gerrit={**sandbox_config_data["gerrit"], "url": "http://127.0.0.1:9",
                               "retries": 0, "timeout": 1})


def client_for(config, engine, **secrets) -> TestClient:
    return TestClient(create_app(config, secrets=Secrets(**secrets), engine=engine))


# --- /healthz ------------------------------------------------------------------------


def test_health_is_503_before_any_successful_sync(config, engine):
    response = client_for(config, engine).get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "no successful sync yet"
    assert response.json()["database"] == "ok"


def test_health_is_ok_after_a_recent_sync(config, engine):
    with session_scope(engine) as session:
        set_last_sync_success(session, utcnow() - timedelta(seconds=10))
    response = client_for(config, engine).get("/healthz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert 9 <= body["last_sync_age_seconds"] < 60
    assert body["stale_after_seconds"] == 3 * config.worker.poll_seconds


def test_health_goes_503_when_the_last_sync_is_older_than_three_poll_intervals(config, engine):
    limit = 3 * config.worker.poll_seconds
    with session_scope(engine) as session:
        set_last_sync_success(session, utcnow() - timedelta(seconds=limit - 5))
    assert client_for(config, engine).get("/healthz").status_code == 200
    with session_scope(engine) as session:
        set_last_sync_success(session, utcnow() - timedelta(seconds=limit + 5))
    response = client_for(config, engine).get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"].startswith("sync is stale")


def test_health_is_503_when_the_database_is_unreachable(config, engine, tmp_path):
    dead = make_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'x.db'}")
    app = create_app(config, secrets=Secrets(), engine=dead)
    response = TestClient(app).get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


# --- /metrics ------------------------------------------------------------------------

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
_SAMPLE = re.compile(rf"^({_NAME})(\{{(?:{_LABEL})(?:,{_LABEL})*\}})? (-?[0-9.e+]+|NaN|[+-]Inf)$")


def parse_exposition(text: str) -> dict[str, dict[str, float]]:
    """A strict reader of the Prometheus text format: every line must be valid, every
    sample's family declared by TYPE before it, each family declared once."""
    assert text.endswith("\n")
    types: dict[str, str] = {}
    samples: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            assert re.match(rf"^# HELP {_NAME} .+$", line), line
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in {"counter", "gauge", "histogram", "summary", "untyped"}, line
            assert name not in types, f"family {name} declared twice"
            types[name] = kind
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a valid sample line: {line!r}"
        name, labels, value = match.group(1), match.group(2) or "", match.group(3)
        assert name in types, f"sample {name} before its TYPE"
        if types[name] == "counter":
            assert name.endswith("_total"), f"counter {name} should end in _total"
            assert float(value) >= 0
        samples.setdefault(name, {})[labels] = float(value)
    return samples


def test_metrics_exposition_parses_and_reports_store_facts(config, engine):
    now = utcnow()
    with session_scope(engine) as session:
        for number, state in [(1, "gated"), (2, "gated"), (3, "priority"), (4, "open")]:
            session.add(Change(number=number, project="openstack/glance", branch="master",
                               status="NEW", owner_id=1, created=now, updated=now))
            session.add(Verdict(change_number=number, gate_state=state, evaluated_at=now))
        session.add(ActionLog(change_number=1, action="add-hashtags", result="applied",
                              created=now, reason='gated "quoted"\nnew line'))
        session.add(ActionLog(change_number=2, action="add-hashtags", result="planned",
                              created=now))
        summary = {"duration": 1.5, "errors": 0, "steps": {"sync": {"seconds": 0.75}},
                   "requests_by_status": {"200": 4, "500": 1, "connection-error": 1},
                   "launchpad": {"hits": 3, "misses": 2}}
        record_cycle(session, summary, sync_ok=True, finished=now)
        record_cycle(session, {**summary, "errors": 1, "failed_steps": ["launchpad"]},
                     sync_ok=False, finished=now)
    response = client_for(config, engine).get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    m = parse_exposition(response.text)
    assert m["reviewbot_changes"]['{gate_state="gated"}'] == 2
    assert m["reviewbot_changes"]['{gate_state="priority"}'] == 1
    assert m["reviewbot_changes"]['{gate_state="exempt"}'] == 0
    assert m["reviewbot_writes_total"]['{result="applied"}'] == 1
    assert m["reviewbot_writes_total"]['{result="planned"}'] == 1
    # Counters accumulate over cycles.
    assert m["reviewbot_gerrit_requests_total"]['{status="200"}'] == 8
    assert m["reviewbot_gerrit_errors_total"]['{status="500"}'] == 2
    assert m["reviewbot_gerrit_errors_total"]['{status="connection-error"}'] == 2
    assert '{status="200"}' not in m["reviewbot_gerrit_errors_total"]
    assert m["reviewbot_sync_duration_seconds"][""] == 0.75
    assert m["reviewbot_launchpad_cache_hits_total"][""] == 6
    assert m["reviewbot_cycles_total"]['{outcome="ok"}'] == 1
    assert m["reviewbot_cycles_total"]['{outcome="error"}'] == 1
    assert m["reviewbot_cycle_step_errors_total"]['{step="launchpad"}'] == 1
    assert abs(m["reviewbot_last_sync_success_timestamp_seconds"][""] - time.time()) < 60


def test_metrics_on_an_empty_store_still_parse(config, engine):
    m = parse_exposition(client_for(config, engine).get("/metrics").text)
    assert m["reviewbot_last_sync_success_timestamp_seconds"][""] == 0


# --- POST /api/v1/sync ---------------------------------------------------------------


def test_admin_sync_is_503_without_a_configured_token(config, engine):
    assert client_for(config, engine).post("/api/v1/sync").status_code == 503


def test_admin_sync_needs_the_bearer_token(config, engine):
    client = client_for(config, engine, admin_token="s3cret-admin")
    assert client.post("/api/v1/sync").status_code == 401
    assert client.post("/api/v1/sync", headers={"Authorization": "Basic eDp5"}).status_code == 401
    wrong = client.post("/api/v1/sync", headers={"Authorization": "Bearer s3cret-admiN"})
    assert wrong.status_code == 403
    assert "s3cret" not in wrong.text


def test_admin_sync_records_a_hint_the_leading_worker_turns_into_a_cycle(config, engine):
    client = client_for(config, engine, admin_token="s3cret-admin")
    response = client.post("/api/v1/sync", headers={"Authorization": "Bearer s3cret-admin"})
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["full_cycle"] is True and body["pending"] == 1
    with session_scope(engine) as session:
        assert last_cycle(session) is None  # the web process runs no cycle
    worker = Worker(config, Secrets(), engine, poll_seconds=3600)
    assert worker._lead()
    drained = worker.drain_hints()
    assert drained.full_cycle and drained.hints == 1
    with session_scope(engine) as session:
        recorded = last_cycle(session)
    # Gerrit is unreachable here, so the sync step failed and was reported as such.
    assert recorded is not None and "sync" in recorded["failed_steps"]
    assert worker.drain_hints() is None  # nothing waits any more
    worker.leadership.release()


def test_a_hint_waits_while_another_process_runs_a_cycle(config, engine):
    client = client_for(config, engine, admin_token="s3cret-admin")
    assert client.post("/api/v1/sync",
                       headers={"Authorization": "Bearer s3cret-admin"}).status_code == 202
    worker = Worker(config, Secrets(), engine, poll_seconds=3600)
    assert worker._lead()
    lock = make_lock(config, CYCLE)  # `reviewbot cycle` from a terminal
    assert lock.try_acquire()
    try:
        assert worker.drain_hints() is None
    finally:
        lock.release()
    assert worker.drain_hints().full_cycle
    worker.leadership.release()


# --- /healthz after `reviewbot sync` (not the worker) ----------------------------------


def test_health_counts_a_successful_reviewbot_sync_run(sandbox_config_data, tmp_path):
    # Before: only the worker's cycle recorded a success, so a deployment syncing with
    # `reviewbot sync` (cron) answered 503 "no successful sync yet" for ever.
    import subprocess
    import sys

    from reviewbot.sandbox import SandboxGerrit
    from reviewbot.store import open_store
    from tests.conftest import ROOT

    sb = SandboxGerrit()
    sb.add_account("alice", name="Alice")
    sb.add_group("glance-core", members=["alice"])
    sb.add_change("openstack/glance", "master", "one change", "alice", created=utcnow())
    store = f"sqlite:///{tmp_path / 'r.db'}"
    with sb.running() as url:
        text = (ROOT / "config" / "sandbox.toml").read_text()
        text = text.replace('url = "sqlite:///data/sandbox/reviewbot.db"', f'url = "{store}"')
        text = text.replace('url = "http://127.0.0.1:8080"', f'url = "{url}"')
        path = tmp_path / "c.toml"
        path.write_text(text)
        started = utcnow()
        done = subprocess.run([sys.executable, "-m", "reviewbot.cli", "--config", str(path),
                               "sync"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    config = make_config(sandbox_config_data, database={"url": store})
    engine = open_store(store)
    response = client_for(config, engine).get("/healthz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert body["last_sync_success"] >= started.isoformat()[:19]
    engine.dispose()


def test_each_app_reports_its_own_store_and_nothing_is_global(config, sandbox_config_data,
                                                              engine, tmp_path):
    from prometheus_client import REGISTRY

    from reviewbot.store import open_store

    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    other = open_store(other_url)
    now = utcnow()
    with session_scope(other) as session:
        session.add(Change(number=7, project="openstack/glance", branch="master",
                           status="NEW", owner_id=1, created=now, updated=now))
        session.add(Verdict(change_number=7, gate_state="gated", evaluated_at=now))
    mine = parse_exposition(client_for(config, engine).get("/metrics").text)
    theirs = parse_exposition(client_for(make_config(sandbox_config_data,
                                                     database={"url": other_url}),
                                         other).get("/metrics").text)
    assert mine["reviewbot_changes"]['{gate_state="gated"}'] == 0
    assert theirs["reviewbot_changes"]['{gate_state="gated"}'] == 1
    # Read at scrape time: a change evaluated after the app started shows on the next scrape.
    with session_scope(engine) as session:
        session.add(Change(number=8, project="openstack/glance", branch="master",
                           status="NEW", owner_id=1, created=now, updated=now))
        session.add(Verdict(change_number=8, gate_state="gated", evaluated_at=now))
    again = parse_exposition(client_for(config, engine).get("/metrics").text)
    assert again["reviewbot_changes"]['{gate_state="gated"}'] == 1
    assert not [m for m in REGISTRY.collect() if m.name.startswith("reviewbot_")]
    other.dispose()
