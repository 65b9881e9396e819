"""Stable branches end to end: synced from the sandbox Gerrit over HTTP, gated per branch
policy, and queued for the right core group, with the branch on every queue row."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import tomli_w
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dashboards.app import create_app
from reviewbot.cli import main
from reviewbot.config import Config, Secrets
from reviewbot.evaluate.verdicts import evaluate_store
from reviewbot.gerrit.client import GerritClient
from reviewbot.store import session_scope
from reviewbot.store.queue_reads import find_reviewer
from reviewbot.sync.rest import sync_once
from reviewbot.views.queue_view import queue_for
from tests.conftest import make_config

T0 = datetime(2017, 1, 9, 9, 0)
STABLE = "stable/newton"


class Gerrit:
    def __init__(self) -> None:
        from reviewbot.sandbox import SandboxGerrit

        sb = SandboxGerrit()
        self.sb = sb
        for user in ("alice", "bob", "carol", "sally", "sam"):
            sb.add_account(user, password="pw")
        sb.add_group("glance-core", ["carol"])
        sb.add_group("glance-stable-maint", ["sally", "sam"])
        g = "openstack/glance"
        # master, not a priority, a non-core +1: open for the project cores.
        self.master = sb.add_change(g, "master", "Tidy logs", "alice", message="Tidy\n",
                                    created=T0)
        sb.review(self.master, "bob", labels={"Code-Review": 1}, when=T0 + timedelta(hours=1))
        # A backport nobody has +1'd: open all the same, for the stable team.
        self.backport = sb.add_change(g, STABLE, "Fix leak (backport)", "alice",
                                      message="Fix leak\n\nCloses-Bug: #1\n", created=T0)
        # On the stable branch carol's +1 is not a core's vote, and changes nothing.
        self.other_backport = sb.add_change(g, STABLE, "Fix doc (backport)", "bob",
                                            message="Fix doc\n", created=T0)
        sb.review(self.other_backport, "carol", labels={"Code-Review": 1},
                  when=T0 + timedelta(hours=2))
        # A stable-maint +2 is a core's +2 on its branch: "needs a second core".
        sb.review(self.other_backport, "sam", labels={"Code-Review": 2},
                  when=T0 + timedelta(hours=3))


@pytest.fixture
def gerrit() -> Iterator[Gerrit]:
    g = Gerrit()
    with g.sb.running() as url:
        g.url = url
        yield g


def stable_config(sandbox_config_data: dict, gerrit: Gerrit, db_url: str) -> Config:
    return make_config(
        sandbox_config_data,
        gerrit={**sandbox_config_data["gerrit"], "url": gerrit.url, "retries": 0,
                "branches": ["master", STABLE]},
        database={"url": db_url},
        branch_policy=[{"pattern": "stable/*", "gate": False,
                        "core_group": "glance-stable-maint"}])


def test_stable_changes_skip_the_gate_and_go_to_the_stable_team(
    gerrit: Gerrit, store_engine: Engine, store_url: str, sandbox_config_data: dict,
    tmp_path: Path, capsys,
) -> None:
    config = stable_config(sandbox_config_data, gerrit, store_url)
    client = GerritClient(gerrit.url, timeout=5, retries=0)
    sync_once(client, store_engine, config)
    now = T0 + timedelta(days=2)
    verdicts = {v.number: v for v in evaluate_store(store_engine, config, now=now).all}
    assert (verdicts[gerrit.backport].gate.state, verdicts[gerrit.backport].gate.reason) == (
        "open", "stable/newton: no non-core gate on stable/* branches; core reviewers review "
        "it directly.")
    assert verdicts[gerrit.master].gate.state == "open"

    path = tmp_path / "c.toml"
    path.write_text(tomli_w.dumps(config.model_dump(mode="json", exclude_none=True)))
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")

    def queue(who: str, *extra: str) -> dict:
        assert main(["--config", str(path), "queue", who, "--json", *extra]) == 0
        return json.loads(capsys.readouterr().out)

    # The stable-maint member, outside glance-core, has a core queue of stable changes.
    for extra in ((), ("--as-of", stamp)):
        sally = queue("sally", *extra)
        assert sally["kind"] == "core" and "glance-stable-maint" in sally["note"]
        assert [(i["number"], i["branch"]) for i in sally["items"]] == [
            (gerrit.other_backport, STABLE), (gerrit.backport, STABLE)]
        assert sally["items"][0]["score"] - sally["items"][1]["score"] == 20
        assert "has a core +2 (sam), needs a second core: +20" in sally["items"][0]["reasons"]
        # The project core's queue holds master changes only.
        carol = queue("carol", *extra)
        assert [(i["number"], i["branch"]) for i in carol["items"]] == [
            (gerrit.master, "master")]

    # Why the backport is not in carol's queue.
    assert main(["--config", str(path), "why", str(gerrit.backport), "--reviewer", "carol",
                 "--json"]) == 0
    why = json.loads(capsys.readouterr().out)["why_not"]
    assert (why["failed"], why["message"]) == (
        "branch", f"Change {gerrit.backport} targets stable/newton, whose core reviewers are "
        "the members of glance-stable-maint; carol is not one of them.")

    # The owner view: the backport is in sally's queue, and says why not in carol's.
    assert main(["--config", str(path), "where", str(gerrit.backport), "--json"]) == 0
    places = {p["reviewer"]: p for p in json.loads(capsys.readouterr().out)["queues"]}
    assert places["sally"]["position"] == 2
    assert (places["carol"]["position"], places["carol"]["failed"]) == (None, "branch")

    # The human queue output and the /queue page name the branch.
    assert main(["--config", str(path), "queue", "sally"]) == 0
    assert f"openstack/glance ({STABLE})" in capsys.readouterr().out
    web = TestClient(create_app(config, secrets=Secrets(), engine=store_engine))
    page = web.get("/queue", params={"reviewer": "sally"})
    assert page.status_code == 200 and f"openstack/glance ({STABLE})" in page.text
    with session_scope(store_engine) as session:
        answer = queue_for(session, config, find_reviewer(session, "sally"), None, now=now)
    assert [row.summary.branch for row in answer.rows] == [STABLE, STABLE]
    assert [row.item.score for row in answer.rows] == [26, 6]
