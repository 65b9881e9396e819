"""Cycle rollover: `cycle-start` archives the outgoing cycle, drafts the next one from an
.rst, takes the bot's own old priority hashtags off (dry run first) over real HTTP to the
sandbox Gerrit, and the past cycle's report stays readable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import tomli_w
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dashboards.app import create_app
from reviewbot.actions.rollover import OldHashtag, old_priority_hashtags, plan_rollover
from reviewbot.cli import main
from reviewbot.config import Secrets
from reviewbot.evaluate.verdicts import stored_verdicts
from reviewbot.store import session_scope
from reviewbot.store.actions import recent_actions
from reviewbot.store.cycles import all_cycles
from reviewbot.store.tables import Cycle
from tests.conftest import make_config
from tests.test_writeback import BOT, BOT_PASSWORD, IMPORT, client_for, cycle

T0 = datetime(2017, 1, 9, 9, 0)

PIKE_RST = """\
======================
Pike Review Priorities
======================

.. list-table::
   :header-rows: 1

   * - Priority Item
     - Owner(s)
     - Spec(s)
   * - WSGI deployment
     - `Matthew Treinish`_
     - `wsgi`_

.. _Matthew Treinish: https://launchpad.net/~treinish
.. _wsgi: https://blueprints.launchpad.net/glance/+spec/wsgi-deploy

Important dates
---------------

.. list-table::
   :header-rows: 1

   * - Milestone
     - Week of
     - What
   * - R-22
     - March 27
     - Glance spec proposal freeze
   * - R-20
     - April 10
     - Milestone 1
   * - R-5
     - July 24
     - P-3 milestone; **Glance feature freeze**
   * - R-3
     - August 7
     - RC1
   * - R-0
     - August 28
     - Final release
"""


class Gerrit:
    """Changes of the Ocata cycle, some carrying hashtags the bot does not own."""

    def __init__(self) -> None:
        from reviewbot.sandbox import SandboxGerrit

        sb = SandboxGerrit()
        self.sb = sb
        for user in ("alice", "bob", "carol"):
            sb.add_account(user, password="pw")
        sb.add_account(BOT, password=BOT_PASSWORD)
        sb.add_group("glance-core", ["carol"])
        sb.add_group("Service Users", [BOT])
        g = "openstack/glance"
        # Ocata priority work still open at the rollover; a person's own hashtag on it.
        self.open_priority = sb.add_change(g, "master", "Add import API", "alice",
                                           message=IMPORT, hashtags=["ocata-rc"], created=T0)
        # Merged during Ocata while tagged: its hashtags are history and stay.
        self.merged = sb.add_change(g, "master", "Import core", "alice", message=IMPORT,
                                    created=T0)
        sb.merge(self.merged, "carol", when=T0 + timedelta(days=2))
        # Someone's own tag that merely looks like a bot priority tag.
        self.foreign = sb.add_change(g, "master", "Tidy logs", "bob", message="Tidy logs\n",
                                     hashtags=["priority-someone-elses"], created=T0)

    def hashtags(self, number: int) -> list[str]:
        with self.sb.lock:
            return sorted(self.sb.change(number).hashtags)

    def hashtag_writes(self) -> list[dict]:
        with self.sb.lock:
            return [{"change": int(r.path.split("/")[3]), **json.loads(r.body)}
                    for r in self.sb.requests
                    if r.method == "POST" and r.path.endswith("/hashtags")]


@pytest.fixture
def gerrit() -> Iterator[Gerrit]:
    g = Gerrit()
    with g.sb.running() as url:
        g.url = url
        yield g


def ocata_data(sandbox_config_data: dict, gerrit: Gerrit, db_url: str) -> dict:
    return {**sandbox_config_data,
            "gerrit": {**sandbox_config_data["gerrit"], "url": gerrit.url, "retries": 0},
            "database": {"url": db_url},
            "writeback": {"enabled": True, "dry_run": False}}


def pike_data(ocata: dict) -> dict:
    return {**ocata,
            "cycle": {"name": "pike", "start": date(2017, 3, 27), "end": date(2017, 8, 28),
                      "feature_freeze": date(2017, 7, 24)},
            "priorities": [{"id": "wsgi-deployment", "title": "WSGI deployment", "rank": 1,
                            "blueprints": ["wsgi-deploy"]}]}


def write(path: Path, data: dict) -> str:
    path.write_text(tomli_w.dumps(make_config(data).model_dump(mode="json", exclude_none=True)))
    return str(path)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


def test_rollover_dry_run_then_removes_only_the_bots_old_hashtags_once(
    gerrit: Gerrit, store_engine: Engine, store_url: str, sandbox_config_data: dict,
    tmp_path: Path, capsys, monkeypatch,
) -> None:
    monkeypatch.setenv("REVIEWBOT_GERRIT_USERNAME", BOT)
    monkeypatch.setenv("REVIEWBOT_GERRIT_PASSWORD", BOT_PASSWORD)
    ocata = ocata_data(sandbox_config_data, gerrit, store_url)
    # The Ocata cycle as the worker ran it: the bot tagged its priority change.
    cycle(store_engine, make_config(ocata), client_for(gerrit), now=T0 + timedelta(days=3))
    assert gerrit.hashtags(gerrit.open_priority) == [
        "ocata-rc", "priority-image-import-refactor", "review-priority"]
    gerrit.sb.set_hashtags(gerrit.merged, "carol", add=["priority-image-import-refactor"],
                           when=T0 + timedelta(days=1))

    gerrit.sb.clear_requests()

    # 1. While the config still names Ocata: archive it, draft Pike from the .rst.
    rst = tmp_path / "pike-priorities.rst"
    rst.write_text(PIKE_RST)
    ocata_path = write(tmp_path / "ocata.toml", ocata)
    status, out, err = run(capsys, "--config", ocata_path, "cycle-start", "pike", "--from",
                           str(rst))
    assert status == 0, err
    assert 'name = "pike"' in out and "start = 2017-03-27" in out
    assert "feature_freeze = 2017-07-24" in out and "rc = 2017-08-07" in out
    assert "release = 2017-08-28" in out and '"P-1" = 2017-04-10' in out
    assert 'id = "wsgi-deployment"' in out and 'blueprints = ["wsgi-deploy"]' in out
    assert "archived cycle 'ocata'" in err
    with session_scope(store_engine) as session:
        [ocata_row] = all_cycles(session)
        assert (ocata_row.name, ocata_row.ended) == ("ocata", None)
        assert "image-import-refactor" in [p["id"] for p in ocata_row.priorities]
    assert gerrit.hashtag_writes() == []  # nothing is written before the config moves on

    # 2. The config names Pike: a dry run prints the diff and logs it, writes nothing.
    pike_path = write(tmp_path / "pike.toml", pike_data(ocata))
    gerrit.sb.clear_requests()
    status, out, err = run(capsys, "--config", pike_path, "cycle-start", "pike")
    assert status == 0, err
    assert f"change {gerrit.open_priority} (openstack/glance): -priority-image-import-refactor" \
        in out
    assert "past cycle ocata" in out and "dry run (pass --apply to write)" in out
    assert gerrit.hashtag_writes() == []
    with session_scope(store_engine) as session:
        rows = recent_actions(session, limit=10, change=gerrit.open_priority)
        assert rows[0].result == "planned"
        assert rows[0].detail["remove"] == ["priority-image-import-refactor"]
        assert rows[0].reason.startswith("remove priority-image-import-refactor: priority "
                                         "'Image Import Refactor' of the past cycle ocata")
        ended = {r.name: r.ended for r in all_cycles(session)}
        assert ended["ocata"] is not None and ended["pike"] is None
    # The Pike verdicts match Pike's priorities only.
    verdicts = {v.number: v for v in stored_verdicts(store_engine).all}
    assert verdicts[gerrit.open_priority].priority_ids == []

    # 3. --apply writes exactly the removal; a person's hashtags and closed changes stay.
    status, out, err = run(capsys, "--config", pike_path, "cycle-start", "pike", "--apply")
    assert status == 0, err
    assert gerrit.hashtag_writes() == [{"change": gerrit.open_priority, "add": [],
                                        "remove": ["priority-image-import-refactor"]}]
    assert gerrit.hashtags(gerrit.open_priority) == ["ocata-rc", "review-priority"]
    assert gerrit.hashtags(gerrit.merged) == ["priority-image-import-refactor"]
    assert gerrit.hashtags(gerrit.foreign) == ["needs-noncore-review", "priority-someone-elses"]
    with session_scope(store_engine) as session:
        assert recent_actions(session, limit=1, change=gerrit.open_priority)[0].result \
            == "applied"

    # 4. A second run finds nothing left to do.
    gerrit.sb.clear_requests()
    status, out, err = run(capsys, "--config", pike_path, "cycle-start", "pike", "--apply")
    assert status == 0, err
    assert gerrit.hashtag_writes() == []
    assert "0 of 0 hashtag writes applied" in out
    status, out, err = run(capsys, "--config", pike_path, "cycle-start", "pike", "--json")
    assert status == 0, err
    again = json.loads(out)
    assert (again["past"], again["plans"], again["planned"]) == (["ocata"], [], 0)
    status, out, _ = run(capsys, "--config", pike_path, "cycles", "--json")
    assert [(c["name"], c["present"], c["ended"] is not None) for c in json.loads(out)] == [
        ("pike", True, False), ("ocata", False, True)]

    # 5. The Ocata report stays readable, as of its end, with Ocata's priorities.
    status, out, err = run(capsys, "--config", pike_path, "report", "--cycle", "ocata", "--json")
    assert status == 0, err
    report = json.loads(out)
    assert report["cycle"] == "ocata" and report["as_of"].startswith("2017-02-20T23:59:59")
    by_id = {p["id"]: p for p in report["priorities"]}
    assert (by_id["image-import-refactor"]["open"],
            by_id["image-import-refactor"]["merged"]) == (1, 1)
    status, out, _ = run(capsys, "--config", pike_path, "report", "--json")
    assert [p["id"] for p in json.loads(out)["priorities"]] == ["wsgi-deployment"]
    status, out, err = run(capsys, "--config", pike_path, "report", "--cycle", "newton")
    assert status == 2 and "unknown cycle 'newton'" in err and "pike, ocata" in err

    # The same past report on the web: the page, the API and a 404 for an unknown cycle.
    web = TestClient(create_app(make_config(pike_data(ocata)), secrets=Secrets(),
                                engine=store_engine))
    api = web.get("/api/v1/report", params={"cycle": "ocata"}).json()
    assert api["cycle"] == "ocata" and api["priorities"] == report["priorities"]
    page = web.get("/priorities", params={"cycle": "ocata"})
    assert page.status_code == 200 and "A past cycle" in page.text
    assert "Image Import Refactor" in page.text
    assert web.get("/api/v1/report", params={"cycle": "newton"}).status_code == 404


def test_cycle_start_errors_name_the_problem(
    sandbox_config_data: dict, sqlite_url: str, tmp_path: Path, capsys,
) -> None:
    config = write(tmp_path / "c.toml", {**sandbox_config_data,
                                         "database": {"url": sqlite_url}})
    status, _out, err = run(capsys, "--config", config, "cycle-start", "pike", "--from",
                            str(tmp_path / "missing.rst"))
    assert status == 2 and "missing.rst: cannot read (No such file or directory)" in err

    status, _out, err = run(capsys, "--config", config, "cycle-start", "pike")
    assert status == 2 and "the config names cycle 'ocata', not 'pike'" in err

    bad = tmp_path / "bad.rst"
    bad.write_text(PIKE_RST.replace("     - July 24\n", "     - Jully 24\n"))
    status, _out, err = run(capsys, "--config", config, "cycle-start", "pike", "--from",
                            str(bad))
    line = PIKE_RST.splitlines().index("   * - R-5") + 1
    assert status == 2
    assert err.strip() == (f"{bad}: line {line}: 'Jully 24' is not a date (expected e.g. "
                           "'November 7', 'Nov 07-11' or '2016-11-07')")

    short = tmp_path / "short.rst"
    short.write_text(PIKE_RST.replace("   * - R-3\n     - August 7\n", "   * - R-3\n"))
    status, _out, err = run(capsys, "--config", config, "cycle-start", "pike", "--from",
                            str(short))
    line = PIKE_RST.splitlines().index("   * - R-3") + 1
    assert status == 2
    assert f"line {line}: schedule row has 2 cells, the header (line" in err


def test_old_hashtags_are_the_past_cycles_names_the_bot_no_longer_owns(
        sandbox_config_data: dict) -> None:
    config = make_config(sandbox_config_data)  # ocata, prefix "priority-"
    past = Cycle(name="newton", start=date(2016, 4, 1), end=date(2016, 10, 5),
                 priorities=[{"id": "image-import-refactor", "title": "Import"},
                             {"id": "Py35", "title": "Python 3.5"}],
                 priority_hashtag_prefix="prio-", recorded=T0)
    reused = Cycle(name="mitaka", start=date(2015, 10, 1), end=date(2016, 4, 1),
                   priorities=[{"id": "image-import-refactor", "title": "Import"}],
                   priority_hashtag_prefix="priority-", recorded=T0)
    old = old_priority_hashtags(config, [past, reused])
    # A name the present cycle owns again (same prefix and id) is the present's, not old.
    assert old == {"prio-image-import-refactor": OldHashtag("newton", "image-import-refactor",
                                                            "Import"),
                   "prio-py35": OldHashtag("newton", "Py35", "Python 3.5")}
    plan = plan_rollover(7, "openstack/glance", 2, ["PRIO-py35", "prio-other", "ocata-rc"],
                         old, "ocata")
    assert plan is not None and plan.remove == ("PRIO-py35",) and plan.add == ()
    assert plan_rollover(8, "openstack/glance", 1, ["prio-other"], old, "ocata") is None
