"""Evaluate end to end: stored changes in, stored verdicts out; the CLI's --json shape."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from reviewbot.cli import main
from reviewbot.evaluate.verdicts import evaluate_store, run_evaluation
from reviewbot.store import session_scope
from reviewbot.store.tables import (
    Account,
    Change,
    CurrentVote,
    GroupMember,
    Message,
    PatchSet,
    Verdict,
    VoteEventRow,
)
from reviewbot.store.verdicts import load_verdict, load_verdicts
from tests.rules.factory import config

T0 = datetime(2017, 1, 10)
NOW = datetime(2017, 1, 20)
CONFIG_DATA = {
    "priorities": [{"id": "image-import-refactor", "title": "Image Import Refactor", "rank": 3,
                    "blueprints": ["image-import-refactor"]}],
    "gate": {"exempt": {"owners": ["proposal-bot"]}},
}
CFG = config(**CONFIG_DATA)


def _change(number: int, **fields: object) -> Change:
    values = dict(number=number, project="openstack/glance", branch="master",
                  subject=f"Change {number}", status="NEW", owner_id=1, created=T0,
                  updated=T0, current_patch_set=1, commit_message="Fix\n\nChange-Id: I1\n",
                  files=["glance/api/v2/images.py"])
    values.update(fields)
    return Change(**values)


def seed(engine) -> None:
    """Owner 1, non-core alice (10), core carol (20), proposal-bot (40)."""
    with session_scope(engine) as s:
        s.add_all([Account(id=1, username="owen"), Account(id=10, username="alice"),
                   Account(id=20, username="carol"), Account(id=40, username="proposal-bot"),
                   GroupMember(group_name="glance-core", account_id=20)])
        s.add_all([
            _change(1, commit_message="Import\n\nImplements: blueprint image-import-refactor\n"),
            _change(2),  # non-core +1 on the current patch set: open
            _change(3, current_patch_set=2),  # +1 only on patch set 1: gated
            _change(4, owner_id=40),  # exempt
            _change(5, status="MERGED", topic="bp/image-import-refactor"),
            _change(6, wip=True),
            _change(7, branch="stable/newton"),  # outside the configured branches
            _change(8, commit_message=None, files=None),
        ])
        s.flush()
        for n in (1, 2, 3, 4, 5, 6, 7, 8):
            s.add(PatchSet(change_number=n, number=1, created=T0, uploader_id=1))
        s.add(PatchSet(change_number=3, number=2, created=T0 + timedelta(days=1), uploader_id=1))
        s.add(CurrentVote(change_number=2, label="Code-Review", account_id=10, value=1))
        s.add(Message(id="m3", change_number=3, patch_set=1, author_id=10,
                      date=T0 + timedelta(hours=1), text="Patch Set 1: Code-Review+1"))
        s.flush()
        s.add(VoteEventRow(message_id="m3", change_number=3, patch_set=1, account_id=10,
                           label="Code-Review", value=1, date=T0 + timedelta(hours=1)))


def test_evaluate_stores_verdicts_with_reasons(store_engine):
    seed(store_engine)
    result = run_evaluation(store_engine, CFG, NOW)
    states = {v.number: v.gate.state for v in result.all}
    assert states == {1: "priority", 2: "open", 3: "gated", 4: "exempt", 5: "closed",
                      6: "wip", 8: "gated"}
    with session_scope(store_engine) as s:
        rows = load_verdicts(s)
        assert sorted(rows) == [1, 2, 3, 4, 5, 6, 8]
        assert rows[1].priorities == ["image-import-refactor"] and rows[1].rank == 3
        assert rows[1].matches[0]["reasons"] == [
            "blueprint image-import-refactor (commit footer)"]
        assert rows[3].gate_reason == (
            "Not a cycle priority; waiting for a non-core +1 on patch set 2 (the last "
            "non-core +1 was on patch set 1, before the new upload).")
        # Merged priority work keeps its tag for the reports.
        assert rows[5].priorities == ["image-import-refactor"]
        assert "no commit message synced" in " ".join(rows[8].reasons)
        assert rows[2].evaluated_at == NOW


def test_evaluate_twice_is_idempotent_and_prunes_changes_that_left(store_engine):
    seed(store_engine)
    run_evaluation(store_engine, CFG, NOW)
    with session_scope(store_engine) as s:
        first = {n: (v.gate_state, v.gate_reason, v.reasons) for n, v in load_verdicts(s).items()}
    run_evaluation(store_engine, CFG, NOW + timedelta(hours=1))
    with session_scope(store_engine) as s:
        again = load_verdicts(s)
        assert {n: (v.gate_state, v.gate_reason, v.reasons) for n, v in again.items()} == first
        assert len(list(s.execute(select(Verdict)).scalars())) == len(first)
        s.get(Change, 2).branch = "stable/newton"
    run_evaluation(store_engine, CFG, NOW)
    with session_scope(store_engine) as s:
        assert load_verdict(s, 2) is None


def test_reevaluating_one_change_leaves_the_others(store_engine):
    seed(store_engine)
    run_evaluation(store_engine, CFG, NOW)
    with session_scope(store_engine) as s:
        s.add(CurrentVote(change_number=3, label="Code-Review", account_id=10, value=1))
    result = evaluate_store(store_engine, CFG, numbers=[3], now=NOW)
    assert [(v.number, v.gate.state) for v in result.all] == [(3, "open")]
    with session_scope(store_engine) as s:
        assert len(load_verdicts(s)) == 7
        s.get(Change, 3).project = "openstack/nova"
    assert evaluate_store(store_engine, CFG, numbers=[3], now=NOW).all == []
    with session_scope(store_engine) as s:
        assert load_verdict(s, 3) is None and len(load_verdicts(s)) == 6


def _write_config(tmp_path: Path, db_url: str) -> Path:
    path = tmp_path / "reviewbot.toml"
    path.write_text(f"""
[gerrit]
projects = ["openstack/glance"]
core_group = "glance-core"
[database]
url = "{db_url}"
[cycle]
name = "ocata"
start = 2016-10-06
end = 2017-02-20
[[priorities]]
id = "image-import-refactor"
title = "Image Import Refactor"
rank = 3
blueprints = ["image-import-refactor"]
[gate.exempt]
owners = ["proposal-bot"]
""")
    return path


def test_cli_evaluate_json_shape(engine, sqlite_url, tmp_path, capsys):
    seed(engine)
    path = _write_config(tmp_path, sqlite_url)
    assert main(["--config", str(path), "evaluate", "--json", "--as-of", "2017-01-20"]) == 0
    data = json.loads(capsys.readouterr().out)
    changes = {c["number"]: c for c in data["changes"]}
    assert set(changes) == {1, 2, 3, 4, 8}
    for c in data["changes"]:
        assert isinstance(c["number"], int)
        assert c["gate"] in ("priority", "exempt", "open", "gated")
        assert isinstance(c["priorities"], list) and isinstance(c["reasons"], list)
        assert all(isinstance(r, str) for r in c["reasons"])
    assert changes[1]["priorities"] == ["image-import-refactor"]
    assert changes[2]["reasons"] == ["Open for core review: non-core +1 from alice on patch set 1."]
    assert {c["number"]: c["gate"] for c in data["not_gated"]} == {5: "closed", 6: "wip"}


def test_cli_why_explains_in_words(engine, sqlite_url, tmp_path, capsys):
    seed(engine)
    path = _write_config(tmp_path, sqlite_url)
    assert main(["--config", str(path), "why", "3"]) == 0
    out = capsys.readouterr().out
    assert "Change 3 (openstack/glance, master) by owen" in out
    assert "none of the configured priorities matches" in out
    assert ("Gate: gated. Not a cycle priority; waiting for a non-core +1 on patch set 2 "
            "(the last non-core +1 was on patch set 1, before the new upload).") in out
    assert main(["--config", str(path), "why", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["gate_state"] == "priority" and data["priorities"][0]["reasons"] == [
        "blueprint image-import-refactor (commit footer)"]
    assert main(["--config", str(path), "why", "999"]) == 1
    assert "change 999 is not in the store" in capsys.readouterr().err


def test_cli_why_with_reviewer_answers_from_the_core_queue(engine, sqlite_url, tmp_path, capsys):
    seed(engine)
    path = _write_config(tmp_path, sqlite_url)
    assert main(["--config", str(path), "evaluate", "--as-of", "2017-01-20"]) == 0
    capsys.readouterr()
    assert main(["--config", str(path), "why", "2", "--reviewer", "carol", "--json",
                 "--as-of", "2017-01-20"]) == 0
    assert json.loads(capsys.readouterr().out)["why_not"]["in_queue"] is True
    assert main(["--config", str(path), "why", "3", "--reviewer", "carol",
                 "--as-of", "2017-01-20"]) == 0
    out = capsys.readouterr().out
    assert "Core queue (carol): " in out
    assert main(["--config", str(path), "why", "3", "--reviewer", "nobody"]) == 1
    assert "unknown user 'nobody'" in capsys.readouterr().err


def test_evaluate_as_of_answers_for_that_date_and_leaves_the_present_alone(
        engine, sqlite_url, tmp_path, capsys):
    seed(engine)
    with session_scope(engine) as s:  # as Gerrit keeps it: updated is the newest event
        s.get(Change, 3).updated = T0 + timedelta(days=1)
    path = _write_config(tmp_path, sqlite_url)
    assert main(["--config", str(path), "evaluate", "--json"]) == 0
    present = json.loads(capsys.readouterr().out)
    assert present["stored"] is True

    def gates(as_of: str) -> dict[int, str]:
        assert main(["--config", str(path), "evaluate", "--json", "--as-of", as_of]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["stored"] is False and data["as_of"].startswith(as_of[:10])
        return {c["number"]: c["gate"] for c in data["changes"] + data["not_gated"]}

    # Before alice's +1 on patch set 1 (T0 + 1h), at it, and after patch set 2 (T0 + 1d).
    assert gates("2017-01-10T00:30:00Z")[3] == "gated"
    assert gates("2017-01-10T02:00:00Z")[3] == "open"
    assert gates("2017-01-12")[3] == "gated"
    assert gates("2017-01-09") == {}  # nothing existed yet
    # The stored present is what it was.
    assert main(["--config", str(path), "evaluate", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["changes"] == present["changes"] and again["evaluated"] == 0
    with session_scope(engine) as s:
        assert all(v.evaluated_at != datetime(2017, 1, 10, 2) for v in load_verdicts(s).values())


def test_evaluate_touches_only_changes_that_moved(store_engine):
    seed(store_engine)
    first = run_evaluation(store_engine, CFG, NOW)
    assert first.full and first.evaluated == 8 - 1  # change 7 is outside the branches
    quiet = run_evaluation(store_engine, CFG, NOW + timedelta(hours=1))
    assert not quiet.full and quiet.evaluated == 0
    assert quiet.summary().startswith("evaluated 0 changed of 5 open")
    with session_scope(store_engine) as s:  # a sync wrote change 3's rows
        s.add(CurrentVote(change_number=3, label="Code-Review", account_id=10, value=1))
        s.get(Change, 3).revision += 1
    moved = run_evaluation(store_engine, CFG, NOW + timedelta(hours=2))
    assert [(v.number, v.gate.state) for v in moved.all] == [(3, "open")]
    # A new rule changes every verdict's basis: everything is evaluated again.
    wider = config(**{**CONFIG_DATA, "gate": {"exempt": {"owners": ["proposal-bot", "owen"]}}})
    everything = run_evaluation(store_engine, wider, NOW + timedelta(hours=3))
    assert everything.full and everything.evaluated == 7
    with session_scope(store_engine) as s:
        assert load_verdict(s, 2).gate_state == "exempt"


def test_cli_why_as_of_answers_for_that_date(engine, sqlite_url, tmp_path, capsys):
    seed(engine)
    with session_scope(engine) as s:  # as Gerrit keeps it: updated is the newest event
        s.get(Change, 3).updated = T0 + timedelta(days=1)
    path = _write_config(tmp_path, sqlite_url)
    assert main(["--config", str(path), "why", "3", "--json", "--as-of",
                 "2017-01-10T02:00:00Z"]) == 0
    then = json.loads(capsys.readouterr().out)
    assert (then["status"], then["current_patch_set"], then["gate_state"]) == ("NEW", 1, "open")
    assert main(["--config", str(path), "why", "3", "--json", "--as-of", "2017-01-09"]) == 0
    before = json.loads(capsys.readouterr().out)
    assert before["status"] == "NOT YET CREATED" and before["gate_state"] == "closed"
    assert main(["--config", str(path), "why", "3", "--as-of", "2017-01-10T02:00:00Z"]) == 0
    assert "As of 2017-01-10 02:00 UTC: open, patch set 1." in capsys.readouterr().out
