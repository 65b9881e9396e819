"""Launchpad enrichment: the real launchpadlib against a local Launchpad-shaped server."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from reviewbot.store import session_scope
from reviewbot.store.launchpad_cache import last_checked, staleness
from reviewbot.store.snapshots import load_changes
from reviewbot.store.tables import Change, LaunchpadRecord
from reviewbot.sync.launchpad import GIVE_UP_AFTER, enrich, references
from reviewbot.sync.launchpad_source import source_for
from reviewbot.timeline.snapshot import ChangeSnapshot
from tests.conftest import make_config
from tests.launchpad_server import LaunchpadServer, glance_ocata

NOW = datetime(2017, 1, 10, 12, 0, 0)


def add_change(
    engine: Engine,
    number: int,
    message: str,
    *,
    topic: str | None = None,
    status: str = "NEW",
    project: str = "openstack/glance",
    updated: datetime = NOW,
) -> None:
    with session_scope(engine) as session:
        session.add(Change(
            number=number, project=project, branch="master", status=status, owner_id=1,
            topic=topic, created=updated - timedelta(days=3), updated=updated,
            commit_message=message, subject=message.splitlines()[0],
        ))


def lp_config(sandbox_config_data: dict, root: str, tmp_path: Path, **launchpad: object):
    settings = {"enabled": True, "service_root": root, "project": "glance",
                "cache_ttl": 3600, "timeout": 5, "deadline_seconds": 30}
    settings.update(launchpad)
    return make_config(sandbox_config_data, launchpad=settings, data_dir=str(tmp_path / "data"))


def cached(engine: Engine) -> dict[tuple[str, str], dict]:
    with session_scope(engine) as session:
        snaps = load_changes(session, history=False)
    return snaps[0].launchpad if snaps else {}


def records(engine: Engine) -> dict[tuple[str, str], LaunchpadRecord]:
    with session_scope(engine) as session:
        return {(r.kind, r.key): r for r in session.exec(select(LaunchpadRecord)).all()}


@pytest.fixture
def glance_changes(store_engine: Engine) -> Engine:
    """Four open changes citing three blueprints and two bugs, some twice, one missing each.

    On SQLite and (when configured) PostgreSQL."""
    engine = store_engine
    add_change(engine, 101, "Add import API\n\nImplements: blueprint image-import-refactor\n"
               "Closes-Bug: #1654321\n")
    add_change(engine, 102, "Community images\n\nPartially-Implements: bp "
               "Community-Level-V2-Image-Sharing\nRelated-Bug: 1639487\n")
    add_change(engine, 103, "More import work", topic="bp/image-import-refactor")
    add_change(engine, 104, "Fix it\n\nPartial-Bug: #1654321\nImplements: blueprint no-such-bp\n",
               topic="bug/9999999")
    return engine


def test_references_read_footers_and_topics_like_the_rules() -> None:
    change = ChangeSnapshot(
        number=1, project="openstack/glance", branch="master", subject="s", status="NEW",
        wip=False, owner_id=1, created=NOW, updated=NOW, current_patch_set=1,
        topic="bug/42",
        commit_message="s\n\nImplements: blueprint Image-Import-Refactor\nCloses-Bug: #7\n",
    )
    assert sorted(references(change)) == [
        ("blueprint", "image-import-refactor"), ("bug", "42"), ("bug", "7"),
    ]


def test_enrich_caches_blueprint_and_bug_facts_for_the_rules(
    glance_changes: Engine, sandbox_config_data: dict, tmp_path: Path
) -> None:
    server = glance_ocata()
    with server.running() as root:
        config = lp_config(sandbox_config_data, root, tmp_path)
        summary = enrich(glance_changes, config, now=NOW)

    assert (summary.referenced, summary.found, summary.missing, summary.errors) == (6, 4, 2, 0)
    assert not summary.stale and summary.reason is None
    facts = cached(glance_changes)
    assert facts[("blueprint", "image-import-refactor")] == {
        "priority": "Essential", "definition_status": "Approved",
        "implementation_status": "Good progress", "milestone": "ocata-2", "series": "ocata",
        "title": "Image Import Refactor",
    }
    # Case-insensitive names: the footer said Community-Level-V2-Image-Sharing.
    assert facts[("blueprint", "community-level-v2-image-sharing")]["series"] == "ocata"
    # Importance and status come from glance's task, not nova's first one.
    bug = facts[("bug", "1639487")]
    assert (bug["importance"], bug["status"]) == ("High", "In Progress")
    assert bug["tags"] == ["goal", "ocata-rc-potential"]
    assert facts[("bug", "1654321")]["importance"] == "Critical"
    # Missing ones are remembered as not found and are not facts for the rules.
    recs = records(glance_changes)
    assert recs[("blueprint", "no-such-bp")].found is False
    assert recs[("bug", "9999999")].found is False
    assert ("blueprint", "no-such-bp") not in facts and ("bug", "9999999") not in facts
    with session_scope(glance_changes) as session:
        assert staleness(session) is None
        assert last_checked(session) == NOW
    # Every request went to the local server, the right API version, as JSON after the WADL.
    assert all(r.path.startswith("/devel/") for r in server.requests)
    assert [r.accept for r in server.requests[:2]] == [
        "application/vnd.sun.wadl+xml", "application/json"]


def test_each_id_looked_up_once_per_ttl_however_many_changes_cite_it(
    glance_changes: Engine, sandbox_config_data: dict, tmp_path: Path
) -> None:
    server = glance_ocata()
    with server.running() as root:
        config = lp_config(sandbox_config_data, root, tmp_path, cache_ttl=3600)
        enrich(glance_changes, config, now=NOW)
        # image-import-refactor is cited by two changes, bug 1654321 by two.
        spec_asks = [r for r in server.requests if r.query.get("name") ==
                     '"image-import-refactor"']
        assert len(spec_asks) == 1
        assert len(server.requests_to("/devel/bugs/1654321")) == 2  # the bug + its tasks
        # The milestone two blueprints share is fetched once per run.
        assert len(server.requests_to("/+milestone/ocata-2")) == 1

        before = len(server.requests)
        again = enrich(glance_changes, config, now=NOW + timedelta(minutes=59))
        assert len(server.requests) == before  # zero requests within the TTL
        assert (again.cache_hits, again.looked_up) == (6, 0)

        later = enrich(glance_changes, config, now=NOW + timedelta(hours=1, seconds=1))
        assert later.looked_up == 6 and later.cache_hits == 0
        # One Launchpad object per process: no second WADL download.
        assert len([r for r in server.requests if r.path == "/devel/"]) == 2
    assert source_for(config) is source_for(config)


def test_launchpad_503_keeps_the_cycle_going_and_says_data_is_stale(
    glance_changes: Engine, sandbox_config_data: dict, tmp_path: Path
) -> None:
    server = glance_ocata()
    server.fail(503, path_contains="/devel/bugs/1654321")
    with server.running() as root:
        config = lp_config(sandbox_config_data, root, tmp_path)
        summary = enrich(glance_changes, config, now=NOW)
        # One immediate retry, not lazr.restfulclient's six with 31 s of sleeping.
        assert len(server.requests_to("/devel/bugs/1654321")) == 2
        assert summary.errors == 1 and summary.found == 3 and summary.stale
        assert "HTTP 503" in summary.reason
        with session_scope(glance_changes) as session:
            assert "HTTP 503" in staleness(session)
        assert ("bug", "1639487") in cached(glance_changes)
        assert records(glance_changes)[("bug", "1654321")].error == "HTTP 503 from Launchpad"

        # Failed lookups are not cached: the next cycle asks again, and staleness clears.
        server.clear_faults()
        retry = enrich(glance_changes, config, now=NOW + timedelta(minutes=5))
        assert (retry.looked_up, retry.found, retry.stale) == (1, 1, False)
        with session_scope(glance_changes) as session:
            assert staleness(session) is None
    assert cached(glance_changes)[("bug", "1654321")]["importance"] == "Critical"


def test_launchpad_down_keeps_last_good_facts_and_gives_up_quickly(
    glance_changes: Engine, sandbox_config_data: dict, tmp_path: Path
) -> None:
    server = glance_ocata()
    with server.running() as root:
        config = lp_config(sandbox_config_data, root, tmp_path)
        enrich(glance_changes, config, now=NOW)
        server.fail(503)  # everything, as in a Launchpad outage
        summary = enrich(glance_changes, config, now=NOW + timedelta(days=2))
    assert summary.errors == GIVE_UP_AFTER
    assert summary.skipped == summary.referenced - GIVE_UP_AFTER
    # The failures first, then what they left out, and what the rules do meanwhile.
    assert summary.reason == (
        f"Launchpad data may be out of date (checked {NOW + timedelta(days=2):%Y-%m-%d %H:%M}"
        f" UTC): {GIVE_UP_AFTER} of {GIVE_UP_AFTER} lookups failed (HTTP 503 from Launchpad);"
        f" {summary.skipped} lookups not attempted: Launchpad kept failing. Launchpad matchers"
        " use the last facts fetched, where there are any.")
    # The rules still see what Launchpad said last time.
    assert cached(glance_changes)[("blueprint", "image-import-refactor")]["series"] == "ocata"


def test_unreachable_launchpad_is_recorded_not_raised(
    glance_changes: Engine, sandbox_config_data: dict, tmp_path: Path
) -> None:
    server = LaunchpadServer()
    with server.running() as root:
        pass  # the port is closed again: connection refused
    config = lp_config(sandbox_config_data, root, tmp_path)
    summary = enrich(glance_changes, config, now=NOW)
    assert summary.stale and "cannot reach Launchpad" in summary.reason
    assert cached(glance_changes) == {}


def test_deadline_stops_lookups_and_marks_data_stale(
    glance_changes: Engine, sandbox_config_data: dict, tmp_path: Path
) -> None:
    server = glance_ocata()
    server.delay = 0.15  # every response, the two start-up ones included
    with server.running() as root:
        config = lp_config(sandbox_config_data, root, tmp_path, deadline_seconds=0.5)
        started = time.monotonic()
        summary = enrich(glance_changes, config, now=NOW)
        elapsed = time.monotonic() - started
    assert summary.skipped > 0 and summary.looked_up + summary.skipped == 6
    assert "deadline was reached" in summary.reason
    # Overrun is bounded by one lookup (a bug is 2 requests, a blueprint up to 3).
    assert elapsed < 0.5 + 4 * 0.15 + 0.5
    with session_scope(glance_changes) as session:
        assert "deadline" in staleness(session)


def test_slow_launchpad_times_out_per_request(
    glance_changes: Engine, sandbox_config_data: dict, tmp_path: Path
) -> None:
    server = glance_ocata()
    server.delay = 1.0
    with server.running() as root:
        config = lp_config(sandbox_config_data, root, tmp_path, timeout=0.2)
        summary = enrich(glance_changes, config, now=NOW)
    assert summary.errors == GIVE_UP_AFTER
    assert "timed out" in summary.reason


def test_closed_changes_of_this_cycle_count_older_ones_do_not(
    engine: Engine, sandbox_config_data: dict, tmp_path: Path
) -> None:
    add_change(engine, 201, "x\n\nImplements: blueprint rolling-upgrades\n", status="MERGED")
    add_change(engine, 202, "y\n\nCloses-Bug: #1700001\n", status="MERGED",
               updated=datetime(2016, 5, 1))
    add_change(engine, 203, "z\n\nCloses-Bug: #1639487\n", project="openstack/nova")
    server = glance_ocata()
    with server.running() as root:
        summary = enrich(engine, lp_config(sandbox_config_data, root, tmp_path), now=NOW)
    assert summary.referenced == 1
    # A blueprint targeted to an older series says so; the series matcher can tell.
    assert cached(engine)[("blueprint", "rolling-upgrades")]["series"] == "newton"


def test_bug_without_a_task_in_the_project_has_no_importance(
    engine: Engine, sandbox_config_data: dict, tmp_path: Path
) -> None:
    add_change(engine, 301, "n\n\nRelated-Bug: #1700001\n")
    server = glance_ocata()
    with server.running() as root:
        enrich(engine, lp_config(sandbox_config_data, root, tmp_path), now=NOW)
    bug = cached(engine)[("bug", "1700001")]
    assert (bug["importance"], bug["status"], bug["target"]) == ("", "", None)


def test_disabled_launchpad_makes_no_requests(
    glance_changes: Engine, sandbox_config_data: dict, tmp_path: Path
) -> None:
    server = glance_ocata()
    with server.running() as root:
        config = lp_config(sandbox_config_data, root, tmp_path, enabled=False)
        summary = enrich(glance_changes, config, now=NOW)
    assert summary.enabled is False and server.requests == []


def test_fixture_fields_are_real_launchpad_fields() -> None:
    """Our hand-written bug and bug-task JSON uses only fields Launchpad's own WADL declares."""
    from importlib.resources import files

    from wadllib.application import Application

    wadl = files("launchpadlib.testing").joinpath("launchpad-wadl.xml").read_bytes()
    app = Application("https://api.launchpad.test/1.0/", wadl)
    server = glance_ocata()
    server.root = "http://lp.test/"

    def params(rep_id: str) -> set[str]:
        rep = app.representation_definitions[rep_id]
        return {p.name for p in rep.params(rep)}

    assert set(server._bug_json(1639487)) <= params("bug-full")
    task = server._tasks_json(1639487)["entries"][0]
    assert set(task) <= params("bug_task-full")
