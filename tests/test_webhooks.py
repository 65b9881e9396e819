"""Webhook: shared-secret auth, event parsing, and refresh of just the named change."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from dashboards.app import create_app
from reviewbot.config import Secrets
from reviewbot.webhooks import ChangeHint, IgnoredEvent, MalformedEvent, parse_event
from tests.conftest import make_config

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
