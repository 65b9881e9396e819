"""CLI export-dashboard and queue: the .dash file parses back, queries are sane."""

from __future__ import annotations

import configparser
import json
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from reviewbot.cli import main
from reviewbot.store import open_store, session_scope
from reviewbot.views.dashboard_export import dash_text, dashboard_url, sections
from tests.conftest import ROOT, make_config
from tests.store_builder import (
    T0,
    add_account,
    add_change,
    add_core,
    add_current_vote,
    add_vote_event,
    set_verdict,
)

OPERATORS = {"project", "branch", "status", "is", "topic", "message", "hashtag", "file",
             "change", "owner", "label", "reviewedby"}


def well_formed(query: str) -> None:
    assert query.count('"') % 2 == 0, query
    depth = 0
    for ch in re.sub(r'"[^"]*"', "", query):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        assert depth >= 0, query
    assert depth == 0, query
    for op in re.findall(r'(?:^|[\s(])([a-z]+):', re.sub(r'"[^"]*"', '""', query)):
        assert op in OPERATORS, (op, query)


@pytest.mark.parametrize("writeback", [False, True])
def test_dash_file_parses_back_with_a_section_per_priority(sandbox_config_data: dict,
                                                            writeback: bool) -> None:
    config = make_config(sandbox_config_data, writeback={"enabled": writeback})
    parser = configparser.ConfigParser()
    parser.read_string(dash_text(config))
    assert parser["dashboard"]["title"] == "Ocata review priorities"
    sections = [s for s in parser.sections() if s.startswith("section ")]
    assert len(sections) == len(config.priorities) + 1
    assert sections[0] == 'section "Priority 1: OpenStack \'Community\' Goal"'
    for name in sections:
        well_formed(parser[name]["query"])
    well_formed(parser["dashboard"]["foreach"])
    first = parser[sections[0]]["query"]
    if writeback:
        assert first.startswith("hashtag:priority-community-goal ")
        assert "NOT hashtag:needs-noncore-review" in parser[sections[-1]]["query"]
    else:
        assert "topic:goal-remove-incubated-oslo-code" in first and "topic:bug/1639487" in first
        assert "owner:proposal-bot" in parser[sections[-1]]["query"]  # gate.exempt
    rolling = parser['section "Priority 4: Rolling Upgrades"']["query"]
    if not writeback:
        assert 'file:"^glance/db/sqlalchemy/alembic_migrations/.*"' in rolling


def test_dashboard_url_carries_title_foreach_and_sections(sandbox_config_data: dict) -> None:
    config = make_config(sandbox_config_data)
    url = dashboard_url(config)
    assert url.startswith("http://127.0.0.1:8080/dashboard/?title=Ocata%20review%20priorities")
    pairs = [unquote(p).split("=", 1)[0] for p in url.split("?", 1)[1].split("&")]
    assert pairs[:2] == ["title", "foreach"]
    assert len(pairs) == 2 + len(config.priorities) + 1


def test_export_dashboard_command_writes_the_file(tmp_path: Path, capsys) -> None:
    config_file = tmp_path / "c.toml"
    sandbox = (Path(__file__).resolve().parent.parent / "config" / "sandbox.toml").read_text()
    config_file.write_text(sandbox.replace("data/sandbox/reviewbot.db", str(tmp_path / "r.db")))
    out = tmp_path / "dashboards" / "ocata.dash"
    assert main(["--config", str(config_file), "export-dashboard", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip().startswith("http://127.0.0.1:8080/dashboard/?")
    configparser.ConfigParser().read_string(out.read_text())


def test_export_dashboard_prints_the_file_and_writes_nothing_by_default(
        tmp_path: Path, capsys, monkeypatch, ocata_config) -> None:
    config_file = ROOT / "config" / "glance-ocata.toml"
    monkeypatch.chdir(tmp_path)
    before = {p: p.stat().st_mtime_ns for p in (ROOT / "dashboards").rglob("*")}
    assert main(["--config", str(config_file), "export-dashboard"]) == 0
    out, err = capsys.readouterr()
    assert out == dash_text(ocata_config)
    assert err.strip() == f"Gerrit dashboard URL: {dashboard_url(ocata_config)}"
    assert list(tmp_path.iterdir()) == [], "nothing written into the current directory"
    after = {p: p.stat().st_mtime_ns for p in (ROOT / "dashboards").rglob("*")}
    assert after == before, "nothing written into the web app's dashboards/ folder"


def test_priority_owners_are_never_owner_terms(ocata_config) -> None:
    # The shipped Glance config: write-back off, so panes are built from the matchers.
    assert not ocata_config.writeback.enabled
    assert any(p.owners for p in ocata_config.priorities)
    panes = sections(ocata_config)
    owners = {o for p in ocata_config.priorities for o in p.owners}
    for title, query in panes:
        for owner in owners:
            assert f"owner:{owner}" not in query, (title, owner)
    # Only the gate's exemptions match change owners by name.
    gate = panes[-1][1]
    assert ocata_config.gate.exempt.owners
    for owner in ocata_config.gate.exempt.owners:
        assert f"owner:{owner}" in gate


def _dash_creator() -> Path:
    tool = Path(sys.executable).parent / "gerrit-dash-creator"
    if not tool.exists():
        pytest.skip("gerrit-dash-creator not installed: pip install -e '.[test]' installs it")
    return tool


@pytest.mark.parametrize("config_name", ["sandbox.toml", "glance-ocata.toml"])
def test_gerrit_dash_creator_accepts_the_file_and_builds_our_url(tmp_path, config_name):
    from reviewbot.config import load_config

    tool = _dash_creator()
    config = load_config(ROOT / "config" / config_name)
    dash = tmp_path / "ocata.dash"
    dash.write_text(dash_text(config))
    check = subprocess.run([str(tool), "--check-only", str(dash)], capture_output=True,
                           text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    built = subprocess.run([str(tool), str(dash)], capture_output=True, text=True, timeout=60,
                           cwd=tmp_path)
    assert built.returncode == 0, built.stdout + built.stderr
    theirs, ours = built.stdout.strip(), dashboard_url(config)
    base = config.gerrit_web_base + "/dashboard/?"
    assert theirs.startswith(base) and ours.startswith(base)
    # Same panes, same queries, same order; only the percent-encoding style differs.
    assert parse_qsl(urlsplit(theirs).query) == parse_qsl(urlsplit(ours).query)


def test_queue_command_text_and_json(tmp_path: Path, capsys) -> None:
    db = tmp_path / "r.db"
    config_file = tmp_path / "c.toml"
    sandbox = (Path(__file__).resolve().parent.parent / "config" / "sandbox.toml").read_text()
    config_file.write_text(sandbox.replace("data/sandbox/reviewbot.db", str(db)))
    engine = open_store(f"sqlite:///{db}")
    with session_scope(engine) as s:
        add_account(s, 1, "alice")
        add_account(s, 7, "carol")
        add_core(s, "glance-core", 1)
        add_account(s, 8, "dan")
        add_change(s, 100, 7, subject="Add import plugin", created=T0)
        add_current_vote(s, 100, 8, "Code-Review", 1)
        add_vote_event(s, 100, 1, 8, "Code-Review", 1, T0 + timedelta(hours=1))
        set_verdict(s, 100, "open", gate_reason="carol's friend +1'd patch set 1.")
    engine.dispose()
    as_of = (T0 + timedelta(days=3)).strftime("%Y-%m-%d")
    assert main(["--config", str(config_file), "queue", "alice", "--as-of", as_of,
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["reviewer"] == "alice"
    assert [(i["number"], i["priority"], i["score"]) for i in data["items"]] == [(100, None, 6)]
    assert main(["--config", str(config_file), "queue", "alice", "--as-of", as_of]) == 0
    text = capsys.readouterr().out
    assert "Add import plugin" in text and "score    6" in text
    assert main(["--config", str(config_file), "queue", "nobody"]) == 1
    assert "unknown user 'nobody'" in capsys.readouterr().err
    assert main(["--config", str(config_file), "queue", "carol"]) == 0
    assert "not a core reviewer" in capsys.readouterr().err
