"""Webhook: shared-secret auth, event parsing, hints the web records and the leading worker
drains (one refresh per change, however many events), never a Gerrit call from the web."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from dashboards.app import create_app
from reviewbot.clock import utcnow
from reviewbot.config import Secrets
from reviewbot.service.cycle import run_cycle
from reviewbot.service.worker import Worker
from reviewbot.store import open_store
from reviewbot.store.tables import (
    Change,
    CurrentVote,
    JudgedChange,
    Message,
    StoredReview,
    SyncHint,
    Verdict,
    VoteEventRow,
)
from reviewbot.sync.webhooks import ChangeHint, IgnoredEvent, MalformedEvent, parse_event
from tests.conftest import make_config
from tests.service_support import bot_secrets, running_sandbox, service_config, wait_for

SECRET = "hook-s3cret-value"


def event(kind: str = "comment-added", number=1, project="openstack/glance", **extra) -> dict:
    body = {
        "type": kind,
        "change": {"project": project, "branch": "master", "number": number,
                   "id": "I" + "0" * 40, "subject": "x", "status": "NEW"},
        "patchSet": {"number": 1, "revision": "a" * 40},
        "eventCreatedOn": 1486000000,
    }
    body.update(extra)
    return body


@pytest.fixture
def config(sandbox_config_data, sqlite_url):
    return make_config(sandbox_config_data, database={"url": sqlite_url},
                       gerrit={**sandbox_config_data["gerrit"], "url": "http://127.0.0.1:9",
                               "retries": 0, "timeout": 1})


# --- parsing (pure) ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["patchset-created", "comment-added", "change-merged",
                                  "change-abandoned", "hashtags-changed", "wip-state-changed"])
def test_every_handled_event_type_names_its_change(config, kind):
    hint = parse_event(json.dumps(event(kind, number=4242)).encode(), config)
    assert hint == ChangeHint(kind, 4242, "openstack/glance")


def test_webhooks_plugin_project_object_and_string_numbers_are_read(config):
    body = event(number="77")
    body["change"].pop("project")
    body["project"] = {"name": "openstack/glance_store"}
    hint = parse_event(json.dumps(body).encode(), config)
    assert hint == ChangeHint("comment-added", 77, "openstack/glance_store")


def test_unknown_event_types_and_other_projects_are_ignored(config):
    assert isinstance(parse_event(json.dumps(event("ref-updated")).encode(), config),
                      IgnoredEvent)
    other = parse_event(json.dumps(event(project="openstack/nova")).encode(), config)
    assert isinstance(other, IgnoredEvent) and "not configured" in other.reason


@pytest.mark.parametrize("body, problem", [
    (b"not json", "not JSON"),
    (b"[1, 2]", "JSON object"),
    (b'{"change": {"number": 1}}', "'type' is missing"),
    (json.dumps({"type": "comment-added"}).encode(), "'change' object is missing"),
    (json.dumps(event(number="1; DROP TABLE")).encode(), "not a number"),
    (json.dumps(event(number=True)).encode(), "must be a number"),
    (json.dumps(event(number=-3)).encode(), "positive"),
    (json.dumps(event(project=None)).encode(), "change.project is missing"),
])
def test_malformed_events_are_named(config, body, problem):
    with pytest.raises(MalformedEvent, match=problem):
        parse_event(body, config)


# --- HTTP: authentication ----------------------------------------------------------------


def app_client(config, engine, secret: str | None = SECRET) -> TestClient:
    return TestClient(create_app(config, secrets=Secrets(webhook_secret=secret), engine=engine))


def test_hooks_are_503_when_no_secret_is_configured(config, engine):
    response = app_client(config, engine, secret=None).post("/api/v1/hooks/gerrit",
                                                            json=event())
    assert response.status_code == 503


@pytest.mark.parametrize("headers, params", [
    ({}, {}),
    ({"Authorization": "Bearer wrong"}, {}),
    ({"Authorization": f"Bearer {SECRET}x"}, {}),
    ({"Authorization": f"Basic {SECRET}"}, {}),
    ({"X-Reviewbot-Secret": SECRET[:-1]}, {}),
    ({}, {"secret": ""}),
    ({}, {"secret": SECRET.upper()}),
])
def test_hooks_without_the_right_secret_are_401(config, engine, headers, params):
    response = app_client(config, engine).post("/api/v1/hooks/gerrit", json=event(),
                                               headers=headers, params=params)
    assert response.status_code == 401
    assert SECRET not in response.text


@pytest.mark.parametrize("headers, params", [
    ({"Authorization": f"Bearer {SECRET}"}, {}),
    ({"X-Reviewbot-Secret": SECRET}, {}),
    ({}, {"secret": SECRET}),
])
def test_each_documented_way_of_sending_the_secret_is_accepted(config, engine, headers, params):
    client = app_client(config, engine)
    response = client.post("/api/v1/hooks/gerrit", json=event("ref-updated"),
                           headers=headers, params=params)
    assert response.status_code == 202
    assert response.json()["status"] == "ignored"


def test_malformed_authenticated_events_are_400(config, engine):
    response = app_client(config, engine).post(
        "/api/v1/hooks/gerrit", content=b"{oops", headers={"X-Reviewbot-Secret": SECRET})
    assert response.status_code == 400
    assert "not JSON" in response.json()["error"]


# --- refresh against the sandbox -----------------------------------------------------




def _stored(engine) -> dict:
    """Everything sync and evaluate keep about changes (minus evaluation timestamps)."""
    with Session(engine) as session:
        return {
            "changes": sorted(c.model_dump_json() for c in session.exec(select(Change))),
            "messages": sorted(m.id for m in session.exec(select(Message))),
            "votes": sorted((v.message_id, v.label, v.value)
                            for v in session.exec(select(VoteEventRow))),
            "current": sorted((v.change_number, v.label, v.account_id, v.value)
                              for v in session.exec(select(CurrentVote))),
            "verdicts": sorted((v.change_number, v.gate_state, v.gate_reason)
                               for v in session.exec(select(Verdict))),
        }


@pytest.fixture
def synced(sandbox_config_data, sqlite_url, tmp_path):
    """A sandbox, a store holding one cycle of it, an app with the webhook secret, and the
    number of a change the store holds as gated."""
    with running_sandbox(sandbox_config_data, changes=30) as sb:
        # The tests need a gated change; how many the generator leaves gated depends on how
        # often its cores jump the gate, so make one: a non-core's change in scope that is no
        # priority work, not exempt, and has no votes yet.
        number = sb.add_change("openstack/glance", "master", "Improve help text of cache options",
                               "lnguyen", files=("glance/common/config.py",),
                               created=datetime(2017, 2, 1, 9, 30))
        config = service_config(sandbox_config_data, sb, sqlite_url, data_dir=str(tmp_path))
        engine = open_store(sqlite_url)
        # Two cycles: the second reads back the hashtags the first one wrote, so the
        # store and Gerrit agree before each test.
        for _ in range(2):
            summary = run_cycle(config, bot_secrets(sb), engine)
            assert summary.errors == 0, summary.steps
        with Session(engine) as session:
            verdict = session.get(Verdict, number)
        assert verdict is not None and verdict.gate_state == "gated", (
            f"precondition: change {number} (a non-core's, unreviewed, no priority) should be "
            f"gated after the cycle, got {verdict and (verdict.gate_state, verdict.gate_reason)}")
        app = create_app(config, secrets=bot_secrets(sb, webhook_secret=SECRET), engine=engine)
        yield sb, engine, TestClient(app), number


def _hook(client, number: int, project: str, kind: str = "comment-added"):
    return client.post("/api/v1/hooks/gerrit", json=event(kind, number=number, project=project),
                       headers={"Authorization": f"Bearer {SECRET}"})


def _pending(engine) -> list:
    with Session(engine) as session:
        return list(session.exec(select(SyncHint).order_by(SyncHint.id)))


def _leader(config, sb, engine, **kwargs) -> Worker:
    worker = Worker(config, bot_secrets(sb), engine, poll_seconds=3600, **kwargs)
    assert worker._lead(), "precondition: this worker takes the lead"
    return worker


def _vote_from_a_noncore(sb, number: int) -> str:
    from reviewbot.sandbox.cast import NONCORES

    owner = sb.change(number).owner
    voter = next(r.username for r in NONCORES if sb.account_id(r.username) != owner)
    sb.review(number, voter, labels={"Code-Review": 1}, message="Looks good", when=utcnow())
    return voter


def test_the_web_app_records_hints_and_never_calls_gerrit(synced):
    sb, engine, client, number = synced
    project = sb.change(number).project
    before = len(sb.requests)
    answers = [_hook(client, number, project, kind) for kind in
               ("patchset-created", "comment-added", "comment-added")]
    assert [a.status_code for a in answers] == [202, 202, 202]
    body = answers[-1].json()
    # The 202 says what was queued: a refresh of that change, the third hint waiting.
    assert body["status"] == "queued" and body["type"] == "comment-added"
    assert body["change"] == number and body["full_cycle"] is False
    assert body["pending"] == 3 and body["received"].endswith("Z")
    time.sleep(0.5)  # nothing runs after the response either (no background task)
    assert len(sb.requests) == before, [r.path for r in sb.requests[before:]]
    assert [(h.change_number, h.source) for h in _pending(engine)] == [
        (number, "webhook patchset-created"), (number, "webhook comment-added"),
        (number, "webhook comment-added")]


def test_a_burst_of_hooks_for_one_change_is_one_refresh_by_the_leader(synced, sandbox_config_data):
    sb, engine, client, number = synced
    voter = _vote_from_a_noncore(sb, number)
    project = sb.change(number).project
    for _ in range(5):
        assert _hook(client, number, project).status_code == 202
    config = client.app.state.reviewbot.config
    requests_before = len(sb.requests)
    drained = _leader(config, sb, engine).drain_hints()
    assert drained.hints == 5 and drained.refreshed == [number] and not drained.full_cycle
    # Five hints, one refresh: one request, for that change.
    new = sb.requests[requests_before:]
    assert len(new) == 1 and str(number) in new[0].path
    assert _pending(engine) == []
    with Session(engine) as session:
        vote = session.get(CurrentVote, (number, "Code-Review", sb.account_id(voter)))
        verdict = session.get(Verdict, number)
        judged = session.get(JudgedChange, number)
        change = session.get(Change, number)
        assert vote is not None and vote.value == 1
        assert verdict.gate_state == "open", verdict.gate_reason
        # Its new review was judged right away: standing reads stay on the stored
        # judgements between cycles.
        assert judged is not None and judged.revision == change.revision
        assert session.get(StoredReview, (number, 1, sb.account_id(voter))).value == 1


def test_only_the_leading_worker_drains_hints(synced):
    sb, engine, client, number = synced
    config = client.app.state.reviewbot.config
    assert _hook(client, number, sb.change(number).project).status_code == 202
    leader = _leader(config, sb, engine)
    standby = Worker(config, bot_secrets(sb), engine, poll_seconds=3600)
    assert not standby._lead()
    before = len(sb.requests)
    assert standby.drain_hints() is None
    assert len(_pending(engine)) == 1 and len(sb.requests) == before
    assert leader.drain_hints().refreshed == [number]
    assert _pending(engine) == []


def test_hints_survive_a_restart_and_a_running_worker_drains_them(synced):
    sb, engine, client, number = synced
    config = client.app.state.reviewbot.config
    voter = _vote_from_a_noncore(sb, number)
    assert _hook(client, number, sb.change(number).project).status_code == 202
    engine.dispose()  # the web process goes away; the hint is in the store
    fresh = open_store(config.database.url)
    # poll_seconds=3600 and first_run_delay: only the hint drain can read the change now.
    worker = Worker(config, bot_secrets(sb), fresh, poll_seconds=3600)
    worker.start(first_run_delay=3600)
    try:
        wait_for(lambda: worker.drains, 10, "the running worker to drain the hint")
    finally:
        worker.stop()
        worker.wait_and_shutdown()
    assert worker.drains[0].refreshed == [number] and worker.cycles == []
    with Session(fresh) as session:
        assert session.get(CurrentVote, (number, "Code-Review", sb.account_id(voter)))
    assert _pending(fresh) == []
    fresh.dispose()


def test_a_hint_arriving_during_its_refresh_causes_one_more(synced):
    """A hint recorded after the drain read the table stays: Gerrit may have moved after
    the refresh read it."""
    sb, engine, client, number = synced
    config = client.app.state.reviewbot.config
    project = sb.change(number).project
    assert _hook(client, number, project).status_code == 202
    worker = _leader(config, sb, engine)
    from reviewbot.service import hints

    def refresh_then_hook(n: int):
        error = hints.refresh_hinted_change(config, engine, worker._gerrit(), n)
        assert _hook(client, number, project).status_code == 202  # arrives mid-drain
        return error

    first = hints.drain(engine, refresh=refresh_then_hook, full_cycle=lambda: None)
    assert first.refreshed == [number]
    assert [h.change_number for h in _pending(engine)] == [number]
    assert worker.drain_hints().refreshed == [number]
    assert _pending(engine) == []


def test_admin_sync_asks_the_leader_for_one_whole_cycle(synced):
    sb, engine, client, number = synced
    config = client.app.state.reviewbot.config
    app = create_app(config, secrets=bot_secrets(sb, admin_token="adm1n-token"), engine=engine)
    admin = TestClient(app)
    before = len(sb.requests)
    answer = admin.post("/api/v1/sync", headers={"Authorization": "Bearer adm1n-token"})
    assert answer.status_code == 202
    body = answer.json()
    assert (body["status"], body["type"], body["change"], body["full_cycle"]) == (
        "queued", "sync", None, True)
    assert _hook(client, number, sb.change(number).project).status_code == 202
    assert len(sb.requests) == before  # the web asked nobody
    worker = _leader(config, sb, engine)
    drained = worker.drain_hints()
    # The whole cycle covers the change hint waiting with it.
    assert drained.full_cycle and drained.hints == 2 and drained.refreshed == []
    assert len(worker.cycles) == 1 and worker.cycles[0].errors == 0
    assert _pending(engine) == []


def test_a_forged_event_with_fake_data_changes_nothing(synced):
    sb, engine, client, number = synced
    before = _stored(engine)
    project = sb.change(number).project
    forged = event("comment-added", number=number, project=project,
                   author={"name": "Mallory", "username": "mallory", "accountId": 1},
                   approvals=[{"type": "Code-Review", "value": "2", "by": {"username": "core"}},
                              {"type": "Workflow", "value": "1"}],
                   comment="Patch Set 1: Code-Review+2 Workflow+1\n\nShip it")
    forged["change"].update({"status": "MERGED", "subject": "<script>x</script>",
                             "hashtags": ["review-priority"], "topic": "bp/forged"})
    headers = {"X-Reviewbot-Secret": SECRET}
    assert client.post("/api/v1/hooks/gerrit", json=forged, headers=headers).status_code == 202
    # A change Gerrit does not have, and one in another project.
    assert client.post("/api/v1/hooks/gerrit", json=event(number=999999),
                       headers=headers).status_code == 202
    assert client.post("/api/v1/hooks/gerrit", json=event(number=number, project="evil/x"),
                       headers=headers).json()["status"] == "ignored"
    drained = _leader(client.app.state.reviewbot.config, sb, engine).drain_hints()
    assert drained.hints == 2 and number in drained.refreshed  # both read from Gerrit
    assert _stored(engine) == before
