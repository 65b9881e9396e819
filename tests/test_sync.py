"""Sync against the sandbox Gerrit: first run, incremental polls, idempotency, cursor safety."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from reviewbot.gerrit.client import GerritClient
from reviewbot.gerrit.errors import GerritError, GerritProtocolError
from reviewbot.sandbox import SandboxGerrit
from reviewbot.store.snapshots import load_changes
from reviewbot.store.state import get_state
from reviewbot.store.tables import Change, GroupMember, Message, VoteEventRow
from reviewbot.sync.rest import CURSOR_KEY, refresh_change, sync_once
from reviewbot.timeline.roster import load_roster
from tests.conftest import make_config

T0 = datetime(2016, 11, 1, 9, 0, 0)
NOW = datetime(2017, 1, 10)


def build(sb: SandboxGerrit) -> None:
    for user in ("alice", "bob", "carol", "zuul"):
        sb.add_account(user, name=user.title(), email=f"{user}@example.org")
    sb.add_group("glance-core", members=["carol"])
    sb.add_group("Service Users", members=["zuul"])
    for i in range(7):
        n = sb.add_change("openstack/glance", "master", f"change {i}", "alice",
                          created=T0 + timedelta(hours=i))
        sb.review(n, "zuul", labels={"Verified": 1}, when=T0 + timedelta(hours=i, minutes=10))
        sb.review(n, "bob", labels={"Code-Review": 1}, comments=1,
                  when=T0 + timedelta(hours=i, minutes=20))
    # Out of scope: other project, other branch.
    sb.add_change("openstack/nova", "master", "elsewhere", "alice", created=T0)
    sb.add_change("openstack/glance", "stable/newton", "backport", "alice", created=T0)


@pytest.fixture
def sandbox():
    sb = SandboxGerrit()
    build(sb)
    with sb.running() as url:
        sb.url = url
        yield sb


def config_for(sb: SandboxGerrit, data: dict, **gerrit):
    section = {**data["gerrit"], "url": sb.url, "projects": ["openstack/glance"],
               "branches": ["master"], "page_size": 3, "slack_seconds": 5,
               "core_group": "glance-core", **gerrit}
    return make_config({**data, "gerrit": section})


def client_for(sb: SandboxGerrit, retries: int = 0) -> GerritClient:
    client = GerritClient(sb.url, retries=retries, timeout=1)
    client.backoff_base = 0.001
    return client


def stored(engine, table) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(table)).scalar_one()


def sandbox_messages(sb: SandboxGerrit) -> int:
    return sum(len(c.messages) for c in sb.changes.values()
               if c.project == "openstack/glance" and c.branch == "master" and not c.private)


def test_first_run_then_incremental_then_idempotent(sandbox, sandbox_config_data, store_engine):
    config = config_for(sandbox, sandbox_config_data)
    client = client_for(sandbox)
    first = sync_once(client, store_engine, config, now=NOW)
    assert first.changes == 7 and first.seen == 7  # out-of-scope changes never stored
    assert first.messages == sandbox_messages(sandbox) == 21
    assert first.votes == 14
    assert first.pages == 3 and first.query_requests == 3
    assert 'after:"2016-10-06 00:00:00"' in sandbox.requests[-1].params["q"][0]
    assert "(project:openstack/glance) (branch:master)" in sandbox.requests[-1].params["q"][0]
    with Session(store_engine) as s:
        assert get_state(s, CURSOR_KEY) == "2016-11-01 15:20:00.000000000"

    sandbox.clear_requests()
    rerun = sync_once(client, store_engine, config, now=NOW)
    assert (rerun.changes, rerun.messages, rerun.votes, rerun.current_votes) == (0, 0, 0, 0)
    queries = [r for r in sandbox.requests if r.path == "/changes/"]
    assert len(queries) == 1  # nothing new: one page, within the slack window
    assert 'after:"2016-11-01 15:19:55"' in queries[0].params["q"][0]

    later = T0 + timedelta(days=3)
    sandbox.review(1003, "carol", labels={"Code-Review": 2}, message="LGTM", when=later)
    sandbox.review(1003, "bob", labels={"Code-Review": -1}, when=later + timedelta(minutes=1))
    step = sync_once(client, store_engine, config, now=NOW)
    assert (step.changes, step.messages, step.votes) == (1, 2, 2)
    assert stored(store_engine, Message) == 23
    with Session(store_engine) as s:
        snap = load_changes(s, numbers=[1003])[0]
    assert {(v.account_id, v.label, v.value) for v in snap.current_votes} >= {
        (sandbox.account_id("carol"), "Code-Review", 2),
        (sandbox.account_id("bob"), "Code-Review", -1),
    }
    bob_events = [(e.patch_set, e.value) for e in snap.vote_events
                  if e.account_id == sandbox.account_id("bob") and e.label == "Code-Review"]
    assert bob_events == [(1, 1), (1, -1)]  # the changed vote is a second event


def test_full_ignores_cursor_and_since_overrides(sandbox, sandbox_config_data, engine):
    config = config_for(sandbox, sandbox_config_data)
    client = client_for(sandbox)
    sync_once(client, engine, config, now=NOW)
    full = sync_once(client, engine, config, full=True, now=NOW)
    assert full.seen == 7 and full.changes == 0 and full.reconciled
    since = sync_once(client, engine, config, since=T0 + timedelta(hours=5), now=NOW)
    assert since.seen == 2 and since.since.startswith("2016-11-01 14:00:00")


FAULTS = [
    pytest.param({"kind": "status", "status": 503, "count": 9}, "HTTP 503", id="5xx"),
    pytest.param({"kind": "rate_limit", "retry_after": 0, "count": 9}, "HTTP 429", id="429"),
    pytest.param({"kind": "slow", "delay": 1.5, "count": 2}, "timed out", id="slow"),
    pytest.param({"kind": "reset", "count": 2}, "connection failed", id="reset"),
    # A damaged body is read again once (retries=1): damaged twice, the page fails.
    pytest.param({"kind": "truncate", "count": 2}, "not valid JSON", id="truncated"),
    pytest.param({"kind": "garbage", "count": 2}, "prefix", id="garbage"),
    pytest.param({"kind": "no_prefix", "count": 2}, "prefix", id="no-prefix"),
    pytest.param({"kind": "disconnect", "count": 2}, "truncated", id="disconnect"),
]


@pytest.mark.parametrize(("fault", "problem"), FAULTS)
def test_cursor_stays_on_a_failed_page_and_next_poll_recovers(
    sandbox, sandbox_config_data, engine, caplog, fault, problem
):
    config = config_for(sandbox, sandbox_config_data)
    client = client_for(sandbox, retries=1)
    sync_once(client, engine, config, now=NOW)
    with Session(engine) as s:
        cursor = get_state(s, CURSOR_KEY)
    later = T0 + timedelta(days=3)
    for i, number in enumerate((1001, 1002, 1004, 1005)):
        sandbox.review(number, "carol", labels={"Code-Review": 2},
                       when=later + timedelta(minutes=i))
    # The second page of the poll fails; the first page may be stored.
    sandbox.inject_fault(**fault, path_contains="S=3")
    caplog.clear()
    with caplog.at_level(logging.ERROR), pytest.raises(GerritError):
        sync_once(client, engine, config, now=NOW)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "/changes/" in errors[0].getMessage() and problem in errors[0].getMessage()
    with Session(engine) as s:
        assert get_state(s, CURSOR_KEY) == cursor

    sandbox.clear_faults()
    recovered = sync_once(client, engine, config, now=NOW)
    assert recovered.cursor > cursor
    assert stored(engine, Message) == sandbox_messages(sandbox) == 25
    assert stored(engine, VoteEventRow) == 14 + 4
    again = sync_once(client, engine, config, now=NOW)
    assert again.messages == 0 and again.votes == 0


def test_unexpected_field_type_rejects_the_page(sandbox, sandbox_config_data, engine, caplog):
    config = config_for(sandbox, sandbox_config_data)
    client = client_for(sandbox, retries=2)
    sandbox.change(1002).topic = 12345  # Gerrit would send a string
    sandbox.change(1002).cache.clear()
    with caplog.at_level(logging.ERROR), pytest.raises(GerritProtocolError) as bad:
        sync_once(client, engine, config, now=NOW)
    # One error naming the page, the change and where in it, as pydantic's `loc` does.
    assert re.search(r"/changes/.*: \[\d+\] \(change 1002\)\.topic: Input should be a valid "
                     r"string, got '12345'", str(bad.value)), str(bad.value)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "(change 1002).topic" in errors[0].getMessage()
    # The same URL would bring the same JSON: a wrong shape is not read again.
    pages = [r.params.get("S") for r in sandbox.requests if r.path.endswith("/changes/")]
    assert len(pages) == len(set(map(str, pages)))
    with Session(engine) as s:
        assert get_state(s, CURSOR_KEY) is None
        assert s.get(Change, 1002) is None


def test_unknown_core_group_is_kept_as_unknown(sandbox, sandbox_config_data, store_engine,
                                               caplog):
    config = config_for(sandbox, sandbox_config_data)
    client = client_for(sandbox)
    sync_once(client, store_engine, config, now=NOW)
    with Session(store_engine) as s:
        roster = load_roster(s, config)
    carol = sandbox.account_id("carol")
    assert roster.core_known and roster.core_now == {carol}
    assert roster.bots == {sandbox.account_id("zuul")}

    sandbox.groups["glance-core"].visible = False  # members now read back empty
    with caplog.at_level(logging.WARNING):
        summary = sync_once(client, store_engine, config, now=NOW)
    assert summary.groups_unknown == ["glance-core"]
    assert any("glance-core" in r.getMessage() and "unknown" in r.getMessage()
               for r in caplog.records)
    with Session(store_engine) as s:
        roster = load_roster(s, config)
        assert not roster.core_known  # never "nobody is core"
        assert roster.core_now == {carol}  # the last known members stay
        assert s.exec(select(func.count()).select_from(GroupMember)).scalar_one() == 2


def test_never_visible_core_group_is_unknown(sandbox, sandbox_config_data, engine):
    sandbox.add_group("hidden-core", members=["carol"], visible=False)
    config = config_for(sandbox, sandbox_config_data, core_group="hidden-core")
    sync_once(client_for(sandbox), engine, config, now=NOW)
    with Session(engine) as s:
        roster = load_roster(s, config)
    assert not roster.core_known and roster.core_now == frozenset()


def group_requests(sb: SandboxGerrit) -> list[str]:
    return [r.path for r in sb.requests if r.path.startswith(("/groups/", "/a/groups/"))]


def bots_after_sync(client, engine, config) -> frozenset[int]:
    sync_once(client, engine, config, now=NOW)
    with Session(engine) as s:
        return load_roster(s, config).bots


def test_service_users_bot_is_read_from_account_tags(sandbox, sandbox_config_data,
                                                      store_engine):
    config = config_for(sandbox, sandbox_config_data, bot_accounts=[])  # group only
    assert config.gerrit.bot_group == "Service Users"  # the default
    summary = sync_once(client_for(sandbox), store_engine, config, now=NOW)
    with Session(store_engine) as s:
        assert load_roster(s, config).bots == {sandbox.account_id("zuul")}
    # Only the core group is read over REST: pages + version + core group (+ its audit
    # log, read once because its members changed: this is the first sync).
    assert [p for p in group_requests(sandbox) if "Service" in p] == []
    assert group_requests(sandbox) == ["/groups/glance-core/members/",
                                       "/groups/glance-core/log.audit"]
    assert summary.requests == summary.query_requests + 3


def test_account_removed_from_service_users_stops_being_a_bot(sandbox, sandbox_config_data,
                                                              store_engine):
    config = config_for(sandbox, sandbox_config_data, bot_accounts=[])
    client = client_for(sandbox)
    zuul = sandbox.account_id("zuul")
    assert bots_after_sync(client, store_engine, config) == {zuul}

    sandbox.remove_group_member("Service Users", "zuul")
    # Membership is learnt from the accounts the query returns: zuul acts again.
    sandbox.review(1003, "zuul", labels={"Verified": -1}, when=T0 + timedelta(days=1))
    assert bots_after_sync(client, store_engine, config) == frozenset()

    sandbox.add_group_member("Service Users", "zuul")
    sandbox.review(1004, "zuul", labels={"Verified": 1}, when=T0 + timedelta(days=2))
    assert bots_after_sync(client, store_engine, config) == {zuul}
    assert [p for p in group_requests(sandbox) if "Service" in p] == []


def test_account_tags_are_type_checked():
    from reviewbot.gerrit.wire import WireError, rest_account

    with pytest.raises(WireError, match="change 5 owner: tags: Input should be a valid list"):
        rest_account({"_account_id": 7, "username": "z", "tags": "SERVICE_USER"},
                     "change 5 owner")
    assert rest_account({"_account_id": 7, "tags": ["SERVICE_USER"]}, "w").service_user
    assert rest_account({"_account_id": 7, "username": "z"}, "w").service_user is False
    assert rest_account({"_account_id": 7}, "w").service_user is None  # id-only: unknown


def test_other_bot_group_is_still_read_over_rest(sandbox, sandbox_config_data, store_engine):
    sandbox.add_account("ci-robot")
    sandbox.add_group("ci-bots", members=["ci-robot"])
    config = config_for(sandbox, sandbox_config_data, bot_group="ci-bots", bot_accounts=[])
    assert bots_after_sync(client_for(sandbox), store_engine, config) == {
        sandbox.account_id("ci-robot")}
    assert sorted(group_requests(sandbox)) == [
        "/groups/ci-bots/members/", "/groups/glance-core/log.audit",
        "/groups/glance-core/members/"]
    with Session(store_engine) as s:  # zuul's SERVICE_USER tag is not used for another group
        rows = s.exec(select(GroupMember.group_name).distinct()).scalars().all()
    assert sorted(rows) == ["ci-bots", "glance-core"]


def test_reconciliation_marks_deleted_and_private_changes(sandbox, sandbox_config_data,
                                                          store_engine):
    config = config_for(sandbox, sandbox_config_data, reconcile_every=3)
    client = client_for(sandbox)
    sync_once(client, store_engine, config, now=NOW)
    sandbox.delete_change(1002)
    sandbox.make_private(1003)
    first = sync_once(client, store_engine, config, now=NOW)
    assert not first.reconciled  # every 3rd poll (the first run counts)
    sandbox.clear_requests()
    second = sync_once(client, store_engine, config, now=NOW)
    assert second.reconciled and second.marked_missing == 2
    cheap = [r for r in sandbox.requests if "status:open" in (r.params.get("q") or [""])[0]]
    assert cheap and all("o" not in r.params for r in cheap)  # no heavy options
    with Session(store_engine) as s:
        assert s.get(Change, 1002).missing_since == NOW
        visible = {c.number for c in load_changes(s, status=["NEW"])}
    assert 1002 not in visible and 1003 not in visible

    sandbox.make_private(1003, False)
    back = sync_once(client, store_engine, config, full=True, now=NOW)
    assert back.reconciled
    with Session(store_engine) as s:
        assert s.get(Change, 1003).missing_since is None
        assert s.get(Change, 1002).missing_since == NOW


def test_refresh_change_reads_one_change(sandbox, sandbox_config_data, engine):
    config = config_for(sandbox, sandbox_config_data)
    client = client_for(sandbox)
    sync_once(client, engine, config, now=NOW)
    sandbox.review(1004, "carol", labels={"Code-Review": -2}, message="no",
                   when=T0 + timedelta(days=5))
    counts = refresh_change(client, engine, config, 1004)
    assert (counts.changes, counts.messages, counts.votes) == (1, 1, 1)
    assert refresh_change(client, engine, config, 1004).rows == 0
    sandbox.delete_change(1005)
    refresh_change(client, engine, config, 1005, now=NOW)
    with Session(engine) as s:
        assert s.get(Change, 1005).missing_since == NOW
        assert get_state(s, CURSOR_KEY) == "2016-11-01 15:20:00.000000000"  # untouched
    assert refresh_change(client, engine, config, 1008).rows == 0  # another branch


def test_sync_command_prints_json_summary(sandbox, tmp_path, capsys):
    import json

    from reviewbot.cli import main
    from tests.conftest import ROOT

    text = (ROOT / "config" / "sandbox.toml").read_text()
    text = text.replace('url = "http://127.0.0.1:8080"', f'url = "{sandbox.url}"')
    text = text.replace('url = "sqlite:///data/sandbox/reviewbot.db"',
                        f'url = "sqlite:///{tmp_path}/cli.db"')
    text = text.replace("slack_seconds = 5", "slack_seconds = 5\nretries = 0")
    config = tmp_path / "reviewbot.toml"
    config.write_text(text)
    assert main(["--config", str(config), "sync", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["changes"] == 7 and first["messages"] == 21 and first["votes"] == 14
    assert first["requests"] >= 2 and first["seconds"] >= 0
    assert main(["--config", str(config), "sync", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["changes"], again["messages"], again["votes"]) == (0, 0, 0)

    assert main(["--config", str(config), "sync", "--since", "yesterday"]) == 2
    sandbox.inject_fault("status", status=500, count=50)
    assert main(["--config", str(config), "sync"]) == 1
    sandbox.clear_faults()

    dump = tmp_path / "dump.json"
    dump.write_text((ROOT / "tests" / "fixtures" / "ssh" / "gerrit_reviews_page_2").read_text())
    capsys.readouterr()
    assert main(["--config", str(config), "import", str(dump), "--json"]) == 0
    imported = json.loads(capsys.readouterr().out)
    assert imported["changes"] == 2 and imported["messages"] == 21
    assert main(["--config", str(config), "import", str(tmp_path / "nope.json")]) == 1
    assert "no such file" in capsys.readouterr().err
