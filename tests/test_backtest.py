"""The promotion backtest: where the leaderboard's default order ranked each person some
time before the team made them core.

A year of a generated Glance-like project (the sandbox team promotes steady,
agreeing non-cores at quarterly meetings; the core group's audit log dates each
promotion) is served by the sandbox Gerrit over real HTTP, synced with the
production client (which stores the audit log), evaluated, and backtested from
the store through the function, the CLI, the API and the page.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from dashboards.app import create_app
from reviewbot.cli import main
from reviewbot.config import Secrets
from reviewbot.evaluate.review_judgements import judge_store
from reviewbot.evaluate.verdicts import evaluate_store
from reviewbot.gerrit.client import GerritClient
from reviewbot.sandbox import SandboxGerrit, generate_cycle
from reviewbot.store import open_store, session_scope
from reviewbot.sync.rest import sync_once
from reviewbot.timeline.roster import load_roster
from reviewbot.views.backtest import run_backtest
from reviewbot.views.standing_view import leaderboard
from tests.conftest import ROOT, make_config

HISTORY_START = datetime(2016, 1, 4)
AFTER = datetime(2017, 3, 30)


def _generated() -> SandboxGerrit:
    sb = SandboxGerrit()
    generate_cycle(sb, changes=400, seed=1, start=HISTORY_START)
    return sb


def _promoted(sb: SandboxGerrit) -> list[tuple[str, datetime]]:
    return [(sb.accounts[e.member].username, e.date) for e in sb.groups["glance-core"].audit
            if e.type == "ADD_USER" and e.date > HISTORY_START]


def _synced(sb: SandboxGerrit, store_url: str, data: dict, **overrides):
    with sb.running() as url:
        config = make_config(data, gerrit={**data["gerrit"], "url": url},
                             database={"url": store_url}, **overrides)
        engine = open_store(store_url)
        # The whole history, not just the cycle a first sync reads.
        sync_once(GerritClient(url), engine, config, since=HISTORY_START - timedelta(days=1))
        audit_requests = [r for r in sb.requests if r.path.endswith("/log.audit")]
    evaluate_store(engine, config, now=AFTER)
    return engine, config, audit_requests


@pytest.fixture(scope="module")
def year():
    """The generated year and its promotions (generated once for the module)."""
    sb = _generated()
    promoted = _promoted(sb)
    assert len(promoted) >= 3, promoted
    return sb, promoted


@pytest.fixture
def synced(year, store_url, sandbox_config_data):
    sb, promoted = year
    sb.clear_requests()
    engine, config, audit = _synced(sb, store_url, sandbox_config_data)
    yield engine, config, promoted, audit
    engine.dispose()


def test_promotions_come_from_the_core_groups_audit_log_over_http(synced):
    engine, config, promoted, audit = synced
    assert len(audit) == 1 and audit[0].status == 200
    with session_scope(engine) as session:
        roster = load_roster(session, config)
        result = run_backtest(session, config)
    # Every promotion the team made is found, with the audit log's date and as its source.
    assert [(r.username, r.joined) for r in result.rows] == promoted
    assert {r.source for r in result.rows} == {"audit log"}
    # Judged (as the worker does each cycle), the same ranks: the leaderboards as of each
    # past date then read the settled changes' stored judgements.
    judge_store(engine, config)
    with session_scope(engine) as session:
        judged = run_backtest(session, config)
        board = leaderboard(session, config, as_of=result.rows[-1].as_of, window_days=180)
    assert {r.judgements for r in board} == {"mixed"}
    assert judged.as_json() == result.as_json()
    # The roster knows each promoted person was not core before the meeting, and is since.
    for username, joined in promoted:
        account = roster.account_by_username(username)
        assert not roster.is_core(account, joined - timedelta(seconds=1))
        assert roster.is_core(account, joined)


def test_each_rank_is_one_plus_the_pool_accounts_ahead_on_the_leaderboard(synced):
    engine, config, promoted, _ = synced
    with session_scope(engine) as session:
        result = run_backtest(session, config, lead_days=90, window_days=180, top=5)
        for row in result.rows:
            assert row.as_of == row.joined - timedelta(days=90)
            board = leaderboard(session, config, as_of=row.as_of, window_days=180)
            pool = [r for r in board if r.standing.metrics["reviews"] > 0]
            roster = load_roster(session, config)
            assert all(not roster.is_core(r.standing.account_id, row.as_of) for r in pool)
            assert row.pool == len(pool)
            names = [r.username for r in pool]
            if row.rank is None:
                assert row.username not in names
                assert row.figures["reviews"] is None
            else:
                assert names.index(row.username) + 1 == row.rank
                assert row.figures["reviews"] == pool[row.rank - 1].standing.metrics["reviews"]
    # The first promotion (12 weeks into the history) has nothing 90 days before it: no
    # pool, no rank. The later ones are ranked.
    assert result.rows[0].rank is None and result.rows[0].pool == 0
    assert result.rows[0].note.startswith("nothing to rank yet: the store's history starts")
    assert all(r.note == "" for r in result.rows if r.rank is not None)
    ranked = [r for r in result.rows if r.rank is not None]
    assert len(ranked) >= 2
    s = result.summary
    assert s.promotions == len(result.rows) and s.top == 5
    assert s.hits == sum(1 for r in ranked if r.rank <= 5)
    assert s.share == pytest.approx(s.hits / s.promotions)
    assert s.mrr == pytest.approx(sum(1 / r.rank for r in ranked) / s.promotions, abs=1e-4)
    # The sandbox team promotes steady reviewers who agree with the cores (and now and
    # then a quiet one the numbers would not pick): the readiness order puts most of
    # those it could rank in the top 5.
    found = [r for r in ranked if r.rank <= 5]
    assert 3 * len(found) >= 2 * len(ranked), [(r.username, r.rank) for r in ranked]


def test_backtest_cli_json_api_and_page(synced, tmp_path, capsys):
    engine, config, promoted, _ = synced
    text = (ROOT / "config" / "sandbox.toml").read_text()
    url = engine.url.render_as_string(hide_password=False)
    text = re.sub(r'(?m)^url = "sqlite:.*"$', f'url = "{url}"', text)
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    assert main(["--config", str(cfg), "backtest", "--lead-days", "90", "--window-days",
                 "180", "--top", "5", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"promotions", "summary"}
    assert set(data["summary"]) == {"top", "hits", "promotions", "share", "mrr"}
    assert data["summary"]["promotions"] == len(promoted)
    for row in data["promotions"]:
        assert {"username", "joined", "as_of", "pool", "rank", "readiness", "reviews"} <= set(row)
        assert isinstance(row["pool"], int)
    assert data["promotions"][0]["rank"] is None
    # --from/--to choose promotions by their date.
    last = promoted[-1][1]
    assert main(["--config", str(cfg), "backtest", "--from", f"{last:%Y-%m-%d}",
                 "--json"]) == 0
    only = json.loads(capsys.readouterr().out)
    assert [p["username"] for p in only["promotions"]] == [promoted[-1][0]]
    assert main(["--config", str(cfg), "backtest", "--to", "2015-01-01", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["promotions"] == 0
    assert main(["--config", str(cfg), "backtest"]) == 0
    human = capsys.readouterr().out
    assert "promotions ranked in the top 5" in human and promoted[-1][0] in human
    with pytest.raises(SystemExit, match="--from"):
        main(["--config", str(cfg), "backtest", "--from", "last spring"])

    app = create_app(config, secrets=Secrets(), engine=engine)
    with TestClient(app) as client:
        api = client.get("/api/v1/backtest?lead_days=90&window_days=180&top=5").json()
        assert api == data
        page = client.get("/backtest")
        assert page.status_code == 200
        assert f"{data['summary']['hits']} of {len(promoted)} promotions ranked in the top 5" \
            in page.text
        assert page.text.count("<circle") == len(promoted)  # the SVG chart, one dot each
        assert "<script" not in page.text and "not in pool" in page.text
        for username, _ in promoted:
            assert f"/reviewers/{username}?" in page.text
        assert client.get("/api/v1/backtest?from=soon").status_code == 422
        assert client.get("/api/v1/backtest?top=0").status_code == 422
        assert 'href="/backtest"' in client.get("/reviewers").text


def test_a_refused_audit_log_falls_back_to_core_history_quietly(year, store_url,
                                                               sandbox_config_data):
    sb, promoted = year
    sb.groups["glance-core"].audit_readable = False  # the bot does not own the group
    sb.clear_requests()
    try:
        first, second = promoted[1], promoted[2]
        # The PTL wrote one promotion into the config: that one is measured.
        history = [{"username": first[0], "joined": f"{first[1]:%Y-%m-%d}"}]
        engine, config, audit = _synced(sb, store_url, sandbox_config_data,
                                        core_history=history)
    finally:
        sb.groups["glance-core"].audit_readable = True
    assert [r.status for r in audit] == [403]
    with session_scope(engine) as session:
        roster = load_roster(session, config)
        result = run_backtest(session, config)
    assert [(r.username, r.source) for r in result.rows] == [(first[0], "core_history")]
    assert result.rows[0].joined == datetime.combine(first[1].date(), datetime.min.time())
    # Without the audit log, someone in the group with no [[core_history]] entry is core
    # all along, as DESIGN says for users without entries.
    assert roster.is_core(roster.account_by_username(second[0]), HISTORY_START)
    engine.dispose()


def test_core_history_decides_over_the_audit_log(year, store_url, sandbox_config_data):
    sb, promoted = year
    name, joined = promoted[-1]
    moved = joined - timedelta(days=30)
    engine, config, _ = _synced(sb, store_url, sandbox_config_data, core_history=[
        {"username": name, "joined": f"{moved:%Y-%m-%d}"}])
    with session_scope(engine) as session:
        result = run_backtest(session, config)
    rows = {r.username: r for r in result.rows}
    assert rows[name].source == "core_history"
    assert rows[name].joined.date() == moved.date()
    assert len(result.rows) == len(promoted)  # the others still from the audit log
    engine.dispose()


def _event(kind: str, account: int, date: str) -> dict:
    return {"member": {"_account_id": account, "username": f"u{account}"}, "type": kind,
            "user": {"_account_id": 1}, "date": date}


def test_audit_log_events_become_spells_of_membership():
    from reviewbot.timeline.promotions import audit_spells, parse_audit_log

    raw = [  # newest first, as Gerrit sends it
        _event("ADD_USER", 7, "2016-09-01 10:00:00.000000000"),
        _event("REMOVE_USER", 7, "2016-06-01 10:00:00.000000000"),
        {"member": {"id": "abc", "name": "other-group"}, "type": "ADD_GROUP",
         "user": {"_account_id": 1}, "date": "2016-05-01 10:00:00.000000000"},
        _event("ADD_USER", 7, "2016-01-01 10:00:00.000000000"),
        _event("ADD_USER", 8, "2016-02-01 10:00:00.000000000"),
        _event("ADD_USER", 9, "2016-03-01 10:00:00.000000000"),
    ]
    events, accounts = parse_audit_log(raw, "audit")
    assert [e.account_id for e in events] == [7, 8, 9, 7, 7]  # oldest first, groups skipped
    assert {a.username for a in accounts} == {"u7", "u8", "u9"}
    spells = audit_spells(events, frozenset({7, 8}))
    # 7: core Jan-Jun, left, back in September (still core).
    assert [(s.joined.month, s.left and s.left.month) for s in spells[7]] == [(1, 6), (9, None)]
    assert spells[8][0].left is None
    # 9: the log says member, the group (read now) does not: the group decides, no spells.
    assert 9 not in spells
    assert 9 in audit_spells(events, None)  # membership unknown: the log alone


def test_a_malformed_audit_log_is_named_and_ignored():
    from reviewbot.gerrit.wire import WireError
    from reviewbot.timeline.promotions import parse_audit_log

    with pytest.raises(WireError, match=r"audit\[0\]: field 'date' is not a Gerrit timestamp"):
        parse_audit_log([_event("ADD_USER", 7, "yesterday")], "audit")
    with pytest.raises(WireError, match=r"audit\[0\]: field 'type' is missing"):
        parse_audit_log([{"member": {"_account_id": 7}}], "audit")


def test_gerrit_client_reads_the_group_audit_log_or_says_it_may_not(year):
    from reviewbot.gerrit.errors import GerritForbidden, GerritNotFound

    sb, promoted = year
    with sb.running() as url:
        client = GerritClient(url)
        events = client.group_audit_log("glance-core")
        # Newest first, as Gerrit sends it; each a GroupAuditEventInfo with a dated member.
        dates = [e["date"] for e in events]
        assert dates == sorted(dates, reverse=True)
        assert events[0]["type"] == "ADD_USER"
        assert events[0]["member"]["username"] == promoted[-1][0]
        assert {"member", "type", "user", "date"} <= set(events[0])
        sb.groups["glance-core"].audit_readable = False
        try:
            with pytest.raises(GerritForbidden):
                client.group_audit_log("glance-core")
        finally:
            sb.groups["glance-core"].audit_readable = True
        with pytest.raises(GerritNotFound):
            client.group_audit_log("no-such-group")
