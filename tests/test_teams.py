"""Teams: several [[team]] blocks in one config, one sync for all, pages and commands per team."""

from __future__ import annotations

import copy
import tomllib

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from reviewbot.config import ConfigError, UnknownTeam, load_config, validate_config
from reviewbot.store.tables import Change, Verdict
from tests.conftest import ROOT
from tests.service_support import bot_secrets, running_sandbox, service_config

CLIENT_PROJECTS = {"openstack/python-glanceclient", "openstack/glance_store"}


def _two_teams() -> dict:
    return {
        "gerrit": {"core_group": "glance-core"},
        "cycle": {"name": "ocata", "start": "2016-10-06", "end": "2017-02-20"},
        "launchpad": {"project": "glance"},
        "team": [
            {"name": "glance", "projects": ["openstack/glance"],
             "priorities": [{"id": "import", "title": "Image Import", "rank": 1,
                             "blueprints": ["image-import-refactor"]}]},
            {"name": "clients", "projects": sorted(CLIENT_PROJECTS),
             "branches": ["master", "stable/ocata"], "core_group": "glanceclient-core",
             "launchpad_projects": ["python-glanceclient", "glance-store"],
             "priorities": [{"id": "goal", "title": "Goal", "rank": 1, "bugs": [1639487]}]},
        ],
    }


# -- config ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["team"][1].update(name="glance"),
         "team[1].name: 'glance' is already the name of team[0]"),
        (lambda d: d["team"][1]["projects"].append("openstack/glance"),
         "team[1].projects: 'openstack/glance' is already listed by team 'glance'"),
        (lambda d: d["team"][1].update(core_groop="x"), "team[1].core_groop: is not a known key"),
        (lambda d: d["team"][0]["priorities"][0].update(bugz=[1]),
         "team[0].priorities[0].bugz: is not a known key"),
        (lambda d: d["team"][1].update(name="Client Libs"),
         "team[1].name: 'Client Libs' is not a team name"),
        (lambda d: d["team"][0].update(projects=[]), "team[0].projects:"),
        (lambda d: d["team"][1]["priorities"].append({"id": "goal", "title": "G", "rank": 2}),
         "team[1].priorities: priority id 'goal' is used twice"),
        (lambda d: d["team"][0]["priorities"][0].update(hashtags=["priority-import"]),
         "team[0].priorities[0].hashtags: 'priority-import' is a hashtag the bot writes"),
        (lambda d: d["gerrit"].update(projects=["openstack/glance"]),
         "gerrit.projects: with [[team]] blocks each team lists its projects"),
        (lambda d: d.update(priorities=[{"id": "x", "title": "X", "rank": 1}]),
         "priorities: with [[team]] blocks each team has its own priorities"),
        (lambda d: d.pop("team"), "gerrit.projects: is required"),
        (lambda d: d.update(digest={"subscribers": [{"username": "a", "email": "a@x.org",
                                                     "team": "nova"}],
                                    "smtp": {"sender": "bot@x.org"}}),
         "digest.subscribers[0].team: unknown team 'nova'; the config's teams are: glance, "
         "clients"),
    ],
)
def test_bad_team_config_names_the_key_path(mutate, expected):
    data = _two_teams()
    mutate(data)
    with pytest.raises(ConfigError) as err:
        validate_config(data)
    assert any(p.startswith(expected) for p in err.value.problems), err.value.problems


def test_each_team_is_a_narrowed_config_and_the_deployment_is_their_union():
    config = validate_config(_two_teams())
    assert config.team_names == ["glance", "clients"] and config.team_name is None
    # One sync serves both: the deployment's scope and core groups are every team's.
    assert config.gerrit.projects == ["openstack/glance", *sorted(CLIENT_PROJECTS)]
    assert config.gerrit.branches == ["master", "stable/ocata"]
    assert config.core_groups == ["glance-core", "glanceclient-core"]

    glance, clients = config.for_team("glance"), config.for_team("clients")
    assert (glance.gerrit.projects, glance.gerrit.branches) == (["openstack/glance"], ["master"])
    assert glance.gerrit.core_group == "glance-core"  # the top-level default
    assert [p.id for p in glance.priorities] == ["import"]
    assert glance.launchpad_projects == ["glance"]
    assert set(clients.gerrit.projects) == CLIENT_PROJECTS
    assert clients.gerrit.core_group == "glanceclient-core"
    assert [p.id for p in clients.priorities] == ["goal"]
    assert clients.launchpad.project == "python-glanceclient"
    assert clients.launchpad_projects == ["python-glanceclient", "glance-store"]
    # Shared sections stay the deployment's; narrowing twice gives the same object.
    assert clients.cycle == config.cycle and clients.deployment is config
    assert config.for_team("clients") is clients and clients.for_team("glance") is glance
    assert config.for_team() is glance  # no name: the first team
    assert config.for_project("openstack/glance_store") is clients
    assert clients.state_key("evaluate.fingerprint") == "evaluate.fingerprint@clients"

    with pytest.raises(UnknownTeam) as err:
        config.for_team("nova")
    assert str(err.value) == "unknown team 'nova'; the config's teams are: glance, clients"


def test_a_config_without_teams_is_its_one_team_unchanged():
    config = load_config(ROOT / "config" / "sandbox.toml")
    assert config.team_names == ["default"] and not config.several_teams
    assert config.for_team() is config and config.for_team("default") is config
    assert config.state_key("evaluate.fingerprint") == "evaluate.fingerprint"
    with pytest.raises(UnknownTeam, match="teams are: default"):
        config.for_team("glance")


def test_glance_config_covers_its_four_repositories_and_launchpad_projects():
    config = load_config(ROOT / "config" / "glance-teams.toml")
    assert config.team_names == ["glance"] and config.team_name == "glance"
    # A deployment of one team is that team: every step reads it as before.
    assert config.gerrit.projects == ["openstack/glance", "openstack/python-glanceclient",
                                      "openstack/glance_store", "openstack/glance-specs"]
    assert config.launchpad.project == "glance"
    assert config.launchpad_projects == ["glance", "python-glanceclient", "glance-store"]
    ocata = load_config(ROOT / "config" / "glance-ocata.toml")
    assert config.priorities == ocata.priorities and config.cycle == ocata.cycle


def test_sandbox_teams_config_declares_two_teams():
    config = load_config(ROOT / "config" / "sandbox-teams.toml")
    assert config.team_names == ["glance", "clients"]
    assert set(config.for_team("clients").gerrit.projects) == CLIENT_PROJECTS


# -- one deployment of two teams against the sandbox Gerrit, over real HTTP ----------------

def _teams_data() -> dict:
    return tomllib.loads((ROOT / "config" / "sandbox-teams.toml").read_text())


def _change_queries(sb) -> list:
    with sb.lock:
        return [r for r in sb.requests if r.method == "GET"
                and r.path.rstrip("/").endswith("/changes") and "q" in r.params]


def _deployment(sb, store_url: str):
    from reviewbot.store import open_store

    data = _teams_data()
    config = service_config(data, sb, store_url)
    return config, open_store(store_url)


def _cycle(sb, config, engine):
    from reviewbot.gerrit.client import GerritClient
    from reviewbot.service.cycle import run_cycle

    client = GerritClient.from_config(config, bot_secrets(sb))
    return run_cycle(config, bot_secrets(sb), engine, client=client)


def _numbers_of(team, engine) -> set[int]:
    with Session(engine) as session:
        return set(session.exec(select(Change.number).where(
            Change.project.in_(team.gerrit.projects))).all())


def _projects_in(data) -> set[str]:
    """Every `project` value anywhere in a JSON answer."""
    found: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "project" and isinstance(value, str):
                found.add(value)
            else:
                found |= _projects_in(value)
    elif isinstance(data, list):
        for value in data:
            found |= _projects_in(value)
    return found


@pytest.fixture(scope="module")
def two_teams(tmp_path_factory):
    """A sandbox cycle synced and cycled once for config/sandbox-teams.toml (SQLite)."""
    data = _teams_data()
    url = f"sqlite:///{tmp_path_factory.mktemp('teams') / 'store.db'}"
    with running_sandbox(data, changes=90, seed=17) as sb:
        config, engine = _deployment(sb, url)
        summary = _cycle(sb, config, engine)
        assert not summary.failed_steps, summary.steps
        yield sb, config, engine, url
        engine.dispose()


def test_one_sync_serves_both_teams_with_one_query_per_poll(store_url):
    with running_sandbox(_teams_data(), changes=60, seed=17) as sb:
        config, engine = _deployment(sb, store_url)
        sb.clear_requests()
        summary = _cycle(sb, config, engine)
        assert not summary.failed_steps, summary.steps
        queries = _change_queries(sb)
        with sb.lock:
            groups = {r.path for r in sb.requests if "/groups/" in r.path}
        # One query (all its pages share the one `q`) covering every team's projects.
        assert len({q.params["q"][0] for q in queries}) == 1
        assert len(queries) == summary.steps["sync"].detail["pages"]
        # The summary counts both teams' writes; the recorded detail has each team's too.
        applied = summary.steps["apply"].detail
        assert summary.writes > 0 and applied["applied"] == summary.writes
        assert summary.writes == applied["glance.applied"] + applied["clients.applied"]
        q = queries[0].params["q"][0]
        for project in config.gerrit.projects:
            assert f"project:{project}" in q
        # Both teams' core groups were read.
        assert any("glance-core" in p for p in groups)
        assert any("glanceclient-core" in p for p in groups)

        # A second poll is one more query, not one per team.
        sb.clear_requests()
        _cycle(sb, config, engine)
        assert len({q.params["q"][0] for q in _change_queries(sb)}) == 1

        # Every change was judged by its own team's rules: the clients team's changes
        # carry only its priority, the glance team's only glance priorities.
        glance, clients = config.for_team("glance"), config.for_team("clients")
        with Session(engine) as session:
            rows = session.exec(select(Change.project, Verdict.priorities)
                                .join(Verdict, Verdict.change_number == Change.number)).all()
        by_team = {"glance": set(), "clients": set()}
        for project, priorities in rows:
            team = config.for_project(project).team_name
            by_team[team] |= set(priorities or [])
        assert by_team["clients"] and by_team["clients"] <= {p.id for p in clients.priorities}
        assert by_team["glance"] and by_team["glance"] <= {p.id for p in glance.priorities}
        engine.dispose()


def test_evaluating_one_team_keeps_the_other_teams_verdicts(two_teams):
    from reviewbot.evaluate.verdicts import evaluate_store

    _sb, config, engine, _url = two_teams

    def verdicts_by_team() -> dict[str, int]:
        with Session(engine) as session:
            rows = session.exec(select(Change.project)
                                .join(Verdict, Verdict.change_number == Change.number)).all()
        counts = {"glance": 0, "clients": 0}
        for project in rows:
            counts[config.for_project(project).team_name] += 1
        return counts

    before = verdicts_by_team()
    assert before["glance"] and before["clients"]
    evaluate_store(engine, config.for_team("glance"), full=True)
    evaluate_store(engine, config.for_team("clients"), full=True)
    assert verdicts_by_team() == before


def test_each_team_queue_and_report_show_only_its_projects(two_teams):
    from dashboards.app import create_app

    _sb, config, engine, _url = two_teams
    with TestClient(create_app(config, engine=engine)) as web:
        seen = {}
        for team in ("glance", "clients"):
            own = set(config.for_team(team).gerrit.projects)
            queue = web.get("/api/v1/queue", params={"reviewer": "tlind", "team": team})
            assert queue.status_code == 200, queue.text
            report = web.get("/api/v1/report", params={"team": team})
            assert report.status_code == 200, report.text
            projects = _projects_in(queue.json()) | _projects_in(report.json())
            assert projects and projects <= own, (team, projects)
            assert [p["id"] for p in report.json()["priorities"]] == [
                p.id for p in config.for_team(team).priorities]
            seen[team] = projects
        assert seen["glance"].isdisjoint(seen["clients"])

        # No team (and none remembered): the first. An unknown team: 404 naming the known.
        web.cookies.clear()
        default = web.get("/api/v1/report").json()
        assert [p["id"] for p in default["priorities"]] == [
            p.id for p in config.for_team("glance").priorities]
        wrong = web.get("/api/v1/queue", params={"reviewer": "tlind", "team": "nova"})
        assert wrong.status_code == 404
        assert wrong.json()["detail"] == ("unknown team 'nova'; the config's teams are: "
                                          "glance, clients")
        page = web.get("/priorities", params={"team": "nova"})
        assert page.status_code == 404 and "glance, clients" in page.text

        # /metrics: the deployment's, each team's trend series labelled with its team.
        metrics = web.get("/metrics").text
        for team in ("glance", "clients"):
            assert f'reviewbot_trend_changes_created{{team="{team}",week_start="' in metrics


def test_the_change_list_shows_only_the_teams_changes(two_teams):
    from dashboards.app import create_app

    _sb, config, engine, _url = two_teams
    with TestClient(create_app(config, engine=engine)) as web:
        listed = {}
        for team in ("glance", "clients"):
            answer = web.get("/api/v1/changes", params={"team": team, "state": "all"})
            assert answer.status_code == 200, answer.text
            listed[team] = {item["project"] for item in answer.json()["items"]}
            assert listed[team] and listed[team] <= set(config.for_team(team).gerrit.projects)
            page = web.get("/changes", params={"team": team})
            assert page.status_code == 200
        assert listed["clients"] == listed["clients"] & CLIENT_PROJECTS
        assert listed["glance"].isdisjoint(CLIENT_PROJECTS)


def test_the_action_log_shows_only_the_teams_writes(two_teams):
    from dashboards.app import create_app

    _sb, config, engine, _url = two_teams
    with Session(engine) as session:
        projects = dict(session.exec(select(Change.number, Change.project)).all())
    with TestClient(create_app(config, engine=engine)) as web:
        logged = {}
        for team in ("glance", "clients"):
            answer = web.get("/api/v1/actions", params={"team": team, "page_size": 50})
            assert answer.status_code == 200, answer.text
            logged[team] = {projects[item["change"]] for item in answer.json()["items"]}
            assert logged[team] <= set(config.for_team(team).gerrit.projects), team
        assert logged["glance"] and logged["clients"]  # both teams' cycles logged writes


def test_pages_take_the_team_and_the_frame_switches_between_teams(two_teams):
    from dashboards.app import create_app

    _sb, config, engine, _url = two_teams
    with TestClient(create_app(config, engine=engine)) as web:
        page = web.get("/priorities", params={"team": "clients"})
        assert page.status_code == 200
        assert '<select name="team">' in page.text
        assert '<option value="clients" selected>Glance client libraries</option>' in page.text
        assert "Image Import Refactor" not in page.text  # the glance team's priority
        # The choice is remembered: the next page without ?team= stays on the team.
        assert "reviewbot_team=clients" in page.headers["set-cookie"]
        again = web.get("/queue", params={"reviewer": "tlind"})
        assert '<option value="clients" selected>' in again.text
        items = web.get("/api/v1/queue", params={"reviewer": "tlind"}).json()["items"]
        assert items and {i["project"] for i in items} <= CLIENT_PROJECTS
        # ?team= wins over the remembered one.
        glance = web.get("/priorities", params={"team": "glance"})
        assert "Image Import Refactor" in glance.text

    # One team: no switcher, and ?team= takes its one name.
    one = load_config(ROOT / "config" / "sandbox.toml")
    with TestClient(create_app(one, engine=engine)) as web:
        page = web.get("/priorities")
        assert page.status_code == 200 and 'name="team"' not in page.text
        assert web.get("/priorities", params={"team": "default"}).status_code == 200
        assert web.get("/api/v1/report", params={"team": "clients"}).status_code == 404


def test_commands_take_the_team(two_teams, tmp_path, capsys):
    import json

    import tomli_w

    from reviewbot.cli import main

    sb, config, _engine, url = two_teams
    data = _teams_data()
    data["gerrit"]["url"] = sb.test_url
    data["database"] = {"url": url}
    path = tmp_path / "teams.toml"
    path.write_text(tomli_w.dumps(data))

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["--config", str(path), *argv])
        out, err = capsys.readouterr()
        return code, out, err

    for team in ("glance", "clients"):
        own = set(config.for_team(team).gerrit.projects)
        # --team before or after the subcommand.
        code, out, _ = run("--team", team, "queue", "tlind", "--json")
        assert code == 0
        assert _projects_in(json.loads(out)) <= own
        code, out, _ = run("report", "--format", "json", "--team", team)
        assert code == 0
        report = json.loads(out)
        assert [p["id"] for p in report["priorities"]] == [
            p.id for p in config.for_team(team).priorities]
        assert _projects_in(report) <= own

    # No --team with several: the first team, and stderr says so.
    code, out, err = run("queue", "tlind", "--json")
    assert code == 0 and "showing team 'glance'" in err
    # A command that writes a team's verdicts needs --team.
    code, _, err = run("evaluate")
    assert code == 2 and "--team: the config has several teams (glance, clients)" in err
    code, out, _ = run("--team", "clients", "evaluate", "--json")
    assert code == 0
    shown = json.loads(out)
    assert {v["number"] for v in shown["changes"] + shown["not_gated"]} == _numbers_of(
        config.for_team("clients"), two_teams[2])
    # Unknown team: exit 2 naming the known ones; deployment-wide commands take none.
    code, _, err = run("queue", "tlind", "--team", "nova")
    assert code == 2
    assert "unknown team 'nova'; the config's teams are: glance, clients" in err
    code, _, err = run("--team", "glance", "sync")
    assert code == 2 and "`reviewbot sync` serves every team" in err
    code, out, _ = run("check-config")
    assert code == 0 and "team clients: 1 priorities" in out


@pytest.mark.parametrize("name", ["sandbox.toml", "glance-teams.toml", "sandbox-teams.toml"])
def test_a_config_read_back_from_its_dump_is_the_same(name):
    # Tools (the demo, tests) copy a config through model_dump: what validation derived
    # (the teams' projects, a single team's priorities) must read back unchanged.
    config = load_config(ROOT / "config" / name)
    again = validate_config(config.model_dump(mode="json"))
    assert again.model_dump() == config.model_dump()
    assert again.team_names == config.team_names and again.team_name == config.team_name
    if config.several_teams:
        data = copy.deepcopy(config.model_dump(mode="json"))
        data["gerrit"]["projects"].append("openstack/nova")  # not a team's: refused
        with pytest.raises(ConfigError, match="gerrit.projects: with"):
            validate_config(data)


def test_a_change_is_shown_with_its_own_teams_rules(two_teams, tmp_path, capsys):
    import json

    import tomli_w

    from dashboards.app import create_app
    from reviewbot.cli import main

    sb, config, engine, url = two_teams
    glance_only = {"mkoval", "pnatarajan", "esokolova"}  # glance-core, not glanceclient-core

    def votes(answer: dict) -> list[dict]:
        return [v for ps in answer["patch_sets"] for v in ps["votes"]]

    with Session(engine) as session:
        numbers = session.exec(select(Change.number).where(
            Change.project.in_(sorted(CLIENT_PROJECTS)))).all()
    with TestClient(create_app(config, engine=engine)) as web:
        web.cookies.set("reviewbot_team", "glance")  # even when the glance team was picked
        answers = {n: web.get(f"/api/v1/changes/{n}").json() for n in numbers}
        # A change by a glance-only core, reviewed by glance-only cores: not core votes in
        # the clients team (its own), core votes when asked as the glance team.
        number = next(n for n, a in answers.items()
                      if any(v["by"] in glance_only for v in votes(a)))
        assert not any(v["core"] for v in votes(answers[number]) if v["by"] in glance_only)
        as_glance = web.get(f"/api/v1/changes/{number}", params={"team": "glance"}).json()
        assert any(v["core"] for v in votes(as_glance) if v["by"] in glance_only)
        page = web.get(f"/changes/{number}")
        assert page.status_code == 200
        assert '<option value="clients" selected>' in page.text

    data = _teams_data()
    data["gerrit"]["url"] = sb.test_url
    data["database"] = {"url": url}
    path = tmp_path / "teams.toml"
    path.write_text(tomli_w.dumps(data))
    assert main(["--config", str(path), "why", str(number), "--json"]) == 0
    out, err = capsys.readouterr()
    assert "showing team" not in err  # no note: the change's own team is no guess
    assert json.loads(out)["number"] == number


def test_each_subscriber_gets_the_digest_of_their_team():
    data = _two_teams()
    data["digest"] = {"enabled": True, "smtp": {"sender": "bot@example.org"}, "subscribers": [
        {"username": "mkoval", "email": "m@example.org"},
        {"username": "tlind", "email": "t@example.org", "team": "clients"}]}
    config = validate_config(data)
    assert [s.username for s in config.for_team("glance").digest.subscribers] == ["mkoval"]
    assert [s.username for s in config.for_team("clients").digest.subscribers] == ["tlind"]


def test_a_team_looks_up_launchpad_in_its_own_projects_own_first(engine, tmp_path):
    from datetime import datetime

    from reviewbot.store.tables import LaunchpadRecord
    from reviewbot.sync.launchpad import enrich
    from tests.launchpad_server import glance_ocata
    from tests.test_launchpad import add_change

    now = datetime(2017, 1, 10, 12, 0, 0)
    server = glance_ocata()
    server.add_project("python-glanceclient", "Glance Client")
    server.add_blueprint("python-glanceclient", "client-import-support", priority="Medium")
    # Tasks in both of the clients team's projects: its own (listed first) decides.
    server.add_bug(1700002, title="Client and server", tasks=[
        ("glance", "High", "Triaged"), ("python-glanceclient", "Low", "New")])
    add_change(engine, 501, "Client import\n\nImplements: blueprint client-import-support\n"
               "Partial-Bug: #1700002\n", project="openstack/python-glanceclient")
    # Only a glance blueprint and only a glance task: found in the team's second project.
    add_change(engine, 502, "Use the import API\n\nImplements: blueprint image-import-refactor"
               "\nCloses-Bug: #1654321\n", project="openstack/glance_store")
    data = _two_teams()
    data["team"][1]["launchpad_projects"] = ["python-glanceclient", "glance"]
    with server.running() as root:
        data["launchpad"] = {"enabled": True, "service_root": root, "project": "glance",
                             "cache_ttl": 3600, "timeout": 5}
        data["data_dir"] = str(tmp_path / "data")
        clients = validate_config(data).for_team("clients")
        summary = enrich(engine, clients, now=now)
    assert summary.errors == 0
    with Session(engine) as session:
        facts = {(r.kind, r.key): r.data for r in session.exec(select(LaunchpadRecord)).all()}
    assert facts[("bug", "1700002")]["importance"] == "Low"
    assert facts[("bug", "1700002")]["target"] == "python-glanceclient"
    assert facts[("bug", "1654321")]["importance"] == "Critical"
    assert facts[("blueprint", "client-import-support")]["priority"] == "Medium"
    assert facts[("blueprint", "image-import-refactor")]["priority"] == "Essential"


def test_teams_on_different_branches_share_one_query_without_crossing_them(sqlite_url):
    from datetime import datetime

    from reviewbot.gerrit.client import GerritClient
    from reviewbot.store import open_store
    from reviewbot.sync.rest import scope_query, sync_once

    data = _teams_data()
    data["team"][1]["branches"] = ["master", "stable/ocata"]
    with running_sandbox(data, changes=20, seed=3) as sb:
        when = datetime(2016, 12, 1)
        server_stable = sb.add_change("openstack/glance", "stable/ocata", "Backport", "tlind",
                                      created=when)
        client_stable = sb.add_change("openstack/python-glanceclient", "stable/ocata",
                                      "Client backport", "tlind", created=when)
        config = service_config(data, sb, sqlite_url)
        assert scope_query(config) == (
            "(((project:openstack/glance) (branch:master)) OR "
            "((project:openstack/python-glanceclient OR project:openstack/glance_store) "
            "(branch:master OR branch:stable/ocata)))")
        engine = open_store(sqlite_url)
        sb.clear_requests()
        sync_once(GerritClient(sb.test_url), engine, config)
        assert len({q.params["q"][0] for q in _change_queries(sb)}) == 1
        with Session(engine) as session:
            stored = set(session.exec(select(Change.number)).all())
        engine.dispose()
    assert client_stable in stored and server_stable not in stored
    assert config.tracks("openstack/glance_store", "stable/ocata")
    assert not config.tracks("openstack/glance", "stable/ocata")


def test_a_team_without_its_own_core_history_reads_the_top_level_one_even_in_a_copy():
    data = _two_teams()
    data["core_history"] = [{"username": "tlind", "joined": "2016-01-01"}]
    data["team"][1]["core_history"] = [{"username": "kmori", "joined": "2016-02-01"}]
    config = validate_config(data)
    assert [e.username for e in config.for_team("glance").core_history] == ["tlind"]
    assert [e.username for e in config.for_team("clients").core_history] == ["kmori"]
    moved = config.model_copy(update={"core_history": []})  # as the demo moves its dates
    assert moved.for_team("glance").core_history == []
    assert [e.username for e in moved.for_team("clients").core_history] == ["kmori"]
