"""Web: queue, changes and actions pages and JSON, escaping, 404/422 (FastAPI TestClient)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from dashboards.app import create_app
from reviewbot.store import session_scope
from tests.conftest import make_config
from tests.store_builder import (
    add_account,
    add_action,
    add_change,
    add_core,
    add_current_vote,
    add_vote_event,
    set_verdict,
)

NOW = datetime(2017, 1, 20, 12, 0, 0)
AS_OF = "2017-01-20T12:00:00Z"
EVIL = "<script>alert('x')</script>"


def build(engine, *, core_known: bool = True) -> None:
    with session_scope(engine) as s:
        add_account(s, 1, "alice", "Alice Core")
        add_account(s, 2, "bob", "Bob Core")
        add_account(s, 7, "carol", EVIL)
        add_account(s, 9, "zuul")
        add_account(s, 11, "dan")
        if core_known:
            add_core(s, "glance-core", 1, 2)
        add_change(s, 100, 7, subject="Import: add the taskflow plugin",
                   patch_sets=[NOW - timedelta(days=4), NOW - timedelta(days=2)])
        add_change(s, 101, 7, subject=EVIL, topic=EVIL, created=NOW - timedelta(days=5))
        add_change(s, 102, 7, subject="Gated change", created=NOW - timedelta(days=9))
        add_change(s, 103, 1, subject="Alice's own change", created=NOW - timedelta(days=9))
        add_current_vote(s, 100, 9, "Verified", 1)
        add_current_vote(s, 100, 2, "Code-Review", 2)
        add_current_vote(s, 101, 7, "Code-Review", 0)
        add_current_vote(s, 101, 11, "Code-Review", 1)
        add_vote_event(s, 101, 1, 11, "Code-Review", 1, NOW - timedelta(days=4))
        add_vote_event(s, 100, 1, 2, "Code-Review", -1, NOW - timedelta(days=3))
        add_vote_event(s, 100, 2, 2, "Code-Review", 2, NOW - timedelta(days=1))
        add_vote_event(s, 100, 2, 9, "Verified", 1, NOW - timedelta(days=1, hours=2))
        set_verdict(s, 100, "priority", priorities=["image-import-refactor"], rank=3,
                    gate_reason="A cycle priority: never gated.",
                    matches=[{"priority": "image-import-refactor",
                              "title": "Image Import Refactor", "rank": 3,
                              "reasons": ["blueprint image-import-refactor (commit footer)"]}])
        set_verdict(s, 101, "open", gate_reason=f"Non-core +1 by {EVIL} on patch set 1.")
        set_verdict(s, 102, "gated", gate_reason="Not a cycle priority; waiting for a non-core "
                    "+1 on patch set 1.")
        set_verdict(s, 103, "open")
        for i in range(60):
            add_action(s, 100, "add-hashtags", "applied", NOW + timedelta(minutes=i),
                       reason=f"priority {EVIL}", detail={"hashtags": ["review-priority"]},
                       patch_set=2)


@pytest.fixture
def config(sandbox_config_data: dict):
    return make_config(sandbox_config_data)


@pytest.fixture
def client(engine, config):
    build(engine)
    with TestClient(create_app(config, engine=engine)) as c:
        yield c


def test_api_queue_shape_order_and_reasons(client: TestClient) -> None:
    data = client.get(f"/api/v1/queue?reviewer=alice&as_of={AS_OF}").json()
    assert data["reviewer"] == "alice" and data["core"] is True
    assert [(i["number"], i["priority"]) for i in data["items"]] == [
        (100, "image-import-refactor"), (101, None)]
    first = data["items"][0]
    assert first["score"] == 2 * 3 + 10 + 20  # 2 days, CI passed, bob's core +2
    assert any("bob" in r and "+20" in r for r in first["reasons"])
    assert first["gerrit_url"] == "http://127.0.0.1:8080/c/openstack/glance/+/100"
    assert first["ci"] == "passed" and first["age"] == "2 days"
    assert {(v["by"], v["core"]) for v in first["votes"]} == {("zuul", False), ("bob", True)}


def test_api_queue_as_of_changes_the_scores(client: TestClient) -> None:
    later = client.get("/api/v1/queue?reviewer=alice&as_of=2017-01-23").json()
    assert later["items"][0]["score"] == 4 * 3 + 30  # 4 full days by 2017-01-23 00:00


def test_api_queue_errors(client: TestClient) -> None:
    missing = client.get("/api/v1/queue?reviewer=nobody")
    assert missing.status_code == 404 and "nobody" in missing.json()["detail"]
    bad = client.get("/api/v1/queue?reviewer=alice&as_of=yesterday")
    assert bad.status_code == 422 and "as_of" in bad.json()["detail"]
    assert client.get("/api/v1/queue").status_code == 422
    noncore = client.get("/api/v1/queue?reviewer=carol")
    assert noncore.status_code == 200
    assert noncore.json()["items"] == [] and "not a core reviewer" in noncore.json()["note"]


def test_queue_page_rows_cookie_and_escaping(client: TestClient) -> None:
    page = client.get(f"/queue?reviewer=alice&as_of={AS_OF}")
    assert page.status_code == 200
    html = page.text
    assert 'data-change="100"' in html and 'data-change="101"' in html
    assert 'data-change="102"' not in html  # gated
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "Image Import Refactor" in html and "/changes/100?reviewer=alice" in html
    assert page.cookies.get("reviewbot_reviewer") == "alice"
    again = client.get("/queue")  # the cookie remembers the reviewer
    assert "Review queue of alice" in again.text
    assert 'href="/queue?reviewer="' in again.text  # a way back to the list of cores
    picker = client.get("/queue?reviewer=")
    assert "Core reviewers' queue" in picker.text and "/queue?reviewer=alice" in picker.text
    assert "Core reviewers' queue" in client.get("/queue").text  # the choice was forgotten


def test_queue_page_picker_and_errors(engine, config) -> None:
    build(engine)
    with TestClient(create_app(config, engine=engine)) as c:
        picker = c.get("/queue")
        assert picker.status_code == 200 and "/queue?reviewer=alice" in picker.text
        assert c.get("/queue?reviewer=nobody").status_code == 404
        assert "is not a date" in c.get("/queue?reviewer=alice&as_of=soon").text
        assert c.get("/queue?reviewer=alice&as_of=soon").status_code == 422
        noncore = c.get("/queue?reviewer=carol")
        assert noncore.status_code == 200 and "not a core reviewer" in noncore.text


def test_unknown_core_membership_is_said(engine, config) -> None:
    build(engine, core_known=False)
    with TestClient(create_app(config, engine=engine)) as c:
        data = c.get("/api/v1/queue?reviewer=alice").json()
        assert data["core"] is None and data["core_known"] is False
        assert "Core membership is unknown" in data["note"]
        assert "Core membership is unknown" in c.get("/queue?reviewer=alice").text


def test_change_api_and_page(client: TestClient) -> None:
    data = client.get(f"/api/v1/changes/100?reviewer=alice&as_of={AS_OF}").json()
    assert data["gate_state"] == "priority"
    assert data["priorities"][0]["reasons"] == ["blueprint image-import-refactor (commit footer)"]
    ps1, = [p for p in data["patch_sets"] if p["number"] == 1]
    assert ps1["votes"] == [{"by": "bob", "account_id": 2, "label": "Code-Review", "value": -1,
                             "removed": False, "date": "2017-01-17T12:00:00", "core": True,
                             "bot": False}]
    assert data["why_not"]["in_queue"] is True and data["why_not"]["position"] == 1
    gated = client.get("/api/v1/changes/102?reviewer=alice").json()["why_not"]
    assert gated["failed"] == "gate" and "waiting for a non-core +1" in gated["message"]
    own = client.get("/api/v1/changes/103?reviewer=alice").json()["why_not"]
    assert own["failed"] == "owner"
    page = client.get("/changes/101?reviewer=alice")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text


def test_change_errors(client: TestClient) -> None:
    assert client.get("/api/v1/changes/999").status_code == 404
    assert "not in the store" in client.get("/api/v1/changes/999").json()["detail"]
    assert client.get("/api/v1/changes/abc").status_code == 422
    assert client.get("/changes/999").status_code == 404
    assert client.get("/changes/abc").status_code == 422
    assert client.get("/api/v1/changes/100?reviewer=nobody").status_code == 404
    assert client.get("/api/v1/changes/100?as_of=never").status_code == 422


def test_pages_answer_bad_input_with_the_error_page(client: TestClient) -> None:
    for path, named in (("/queue?reviewer=alice&as_of=soon", "as_of: "),
                        ("/changes/100?as_of=never", "as_of: "),
                        ("/changes?gate=bogus", "gate: "),
                        ("/actions?page=0", "page: "),
                        ("/changes/abc", "number: &#39;abc&#39; is not a change number")):
        page = client.get(path)
        assert page.status_code == 422, path
        assert page.headers["content-type"].startswith("text/html"), path
        assert f'<p class="error">{named}' in page.text, path
    missing = client.get("/changes/999")
    assert missing.headers["content-type"].startswith("text/html")
    assert "not in the store" in missing.text


def test_api_answers_bad_input_with_json(client: TestClient) -> None:
    for path in ("/api/v1/queue?reviewer=alice&as_of=soon", "/api/v1/changes/100?as_of=never"):
        bad = client.get(path)
        assert bad.status_code == 422 and bad.json()["detail"].startswith("as_of: "), path
    assert client.get("/api/v1/changes?state=bogus").json()["detail"].startswith("state: ")
    assert client.get("/api/v1/actions?page=0").json()["detail"][0]["loc"] == ["query", "page"]


def test_changes_list_filters_by_gate_state(client: TestClient) -> None:
    gated = client.get("/api/v1/changes?state=gated").json()
    assert [i["number"] for i in gated["items"]] == [102]
    assert client.get("/api/v1/changes?state=bogus").status_code == 422
    page = client.get("/changes?gate=open")
    assert page.status_code == 200
    assert "/changes/101" in page.text and "/changes/102" not in page.text
    assert "&lt;script&gt;" in page.text and "<script>alert" not in page.text
    assert client.get("/changes?gate=bogus").status_code == 422


def test_actions_log_newest_first_and_paged(client: TestClient) -> None:
    first = client.get("/api/v1/actions").json()
    assert first["total"] == 60 and len(first["items"]) == 50
    times = [i["created"] for i in first["items"]]
    assert times == sorted(times, reverse=True)
    second = client.get("/api/v1/actions?page=2").json()
    assert len(second["items"]) == 10 and second["items"][-1]["created"] == NOW.isoformat()
    page = client.get("/actions")
    assert page.status_code == 200 and "older →" in page.text
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text
    assert client.get("/actions?page=0").status_code == 422


def test_openapi_lists_the_json_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/queue", "/api/v1/changes/{number}", "/api/v1/actions"} <= set(paths)
    assert client.get("/static/style.css").status_code == 200


def test_change_page_answers_as_of_a_date(client: TestClient) -> None:
    # Change 100: patch set 2 came on 01-18; bob's -1 on patch set 1 (01-17) was unanswered
    # then; on 01-01 the change did not exist yet.
    then = client.get("/api/v1/changes/100?as_of=2017-01-17T12:00:00Z").json()
    assert then["current_patch_set"] == 1 and then["as_of"].startswith("2017-01-17")
    assert then["review_state"] == "waiting_on_author"
    assert {(v["by"], v["value"]) for v in then["current_votes"]} == {("bob", -1)}
    assert [p["number"] for p in then["patch_sets"]] == [1]
    now = client.get("/api/v1/changes/100").json()
    assert now["current_patch_set"] == 2 and now["as_of"] is None
    before = client.get("/api/v1/changes/100?as_of=2017-01-01").json()
    assert before["status"] == "NOT YET CREATED" and before["patch_sets"] == []
    page = client.get("/changes/100?as_of=2017-01-17T12:00:00Z")
    assert page.status_code == 200 and "As it stood on 2017-01-17 12:00 UTC" in page.text
    assert "waiting on author" in page.text


def test_a_non_core_reviewer_page_links_to_their_first_crack_queue(client: TestClient) -> None:
    page = client.get(f"/reviewers/dan?as_of={AS_OF}")
    assert page.status_code == 200
    assert 'href="/queue?reviewer=dan&amp;as_of=2017-01-20T12%3A00%3A00Z"' in page.text
    assert "Changes waiting for your first review" in page.text
    queue = client.get(f"/queue?reviewer=dan&as_of={AS_OF}")
    assert queue.status_code == 200 and "first\n    non-core review" in queue.text
    data = client.get(f"/api/v1/queue?reviewer=dan&as_of={AS_OF}").json()
    assert data["kind"] == "first-crack" and data["core"] is False
    # The gated changes, longest wait first (same upload: lower number); 101 is past the gate.
    assert [i["number"] for i in data["items"]] == [102, 103]
    assert "no non-core +1 on patch set 1 yet" in data["items"][0]["reasons"][0]
