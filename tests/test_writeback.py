"""Write-back: bot-owned hashtags and the gated message, over real HTTP to the sandbox Gerrit.

Each test runs the real pipeline: sandbox -> sync -> evaluate -> apply, with the
production Gerrit client unchanged, and asserts on the sandbox's request log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from reviewbot.actions.writeback import apply
from reviewbot.actions.writeback_plan import MESSAGE_TAG, diff_hashtags, plan_hashtags
from reviewbot.actions.writeback_send import FORBIDDEN_RETRY, ApplySummary
from reviewbot.config import Config
from reviewbot.evaluate.verdicts import evaluate_store
from reviewbot.gerrit.client import GerritClient
from reviewbot.sandbox import SandboxGerrit
from reviewbot.store import session_scope
from reviewbot.store.actions import all_forbidden, recent_actions
from reviewbot.sync.rest import sync_once
from tests.conftest import ROOT, make_config

T0 = datetime(2017, 1, 9, 9, 0)
BOT, BOT_PASSWORD = "reviewbot", "s3cret-bot"
IMPORT = "Add import API\n\nImplements: blueprint image-import-refactor\n\nChange-Id: I1\n"


class Gerrit:
    """The sandbox with the Glance-like changes every test starts from."""

    def __init__(self) -> None:
        sb = SandboxGerrit()
        self.sb = sb
        for user in ("alice", "bob", "carol", "dave"):
            sb.add_account(user, password="pw")
        sb.add_account(BOT, password=BOT_PASSWORD)
        sb.add_account("zuul", password="pw")
        sb.add_group("glance-core", ["carol"])
        sb.add_group("Service Users", ["zuul", BOT])
        add = sb.add_change
        g = "openstack/glance"
        # A priority change that already carries someone's own hashtag.
        self.priority = add(g, "master", "Add import API", "alice", message=IMPORT,
                            hashtags=["ocata-rc"], created=T0)
        # Not a priority, nobody has +1'd it: gated.
        self.gated = add(g, "master", "Fix typo", "alice", message="Fix typo\n", created=T0)
        # Not a priority, a non-core +1: open. It still carries stale bot tags, in
        # another case, next to a foreign tag that merely looks like ours.
        self.opened = add(g, "master", "Tidy logs", "dave", message="Tidy logs\n",
                          hashtags=["Needs-NonCore-Review", "priority-image-import-refactor",
                                    "priority-someone-elses", "needs-review"], created=T0)
        sb.review(self.opened, "bob", labels={"Code-Review": 1}, when=T0 + timedelta(hours=1))
        # Out of scope: WIP, merged, another branch. They keep whatever they carry.
        self.wip = add(g, "master", "WIP thing", "alice", message="WIP\n", wip=True, created=T0)
        self.merged = add(g, "master", "Old fix", "alice", message="Old\n",
                          hashtags=["needs-noncore-review"], created=T0)
        sb.merge(self.merged, "carol", when=T0 + timedelta(hours=2))
        self.stable = add(g, "stable/newton", "Backport", "alice", message="Backport\n",
                          created=T0)

    def hashtags(self, number: int) -> list[str]:
        with self.sb.lock:
            return list(self.sb.change(number).hashtags)

    def writes(self) -> list:
        with self.sb.lock:
            return [r for r in self.sb.requests if r.method in ("POST", "PUT", "DELETE")]


@pytest.fixture
def gerrit() -> Iterator[Gerrit]:
    g = Gerrit()
    with g.sb.running() as url:
        g.url = url
        yield g


def wb_config(sandbox_config_data: dict, gerrit: Gerrit, db_url: str, **writeback) -> Config:
    settings = {"enabled": True, "dry_run": False}
    settings.update(writeback)
    return make_config(
        sandbox_config_data,
        gerrit={**sandbox_config_data["gerrit"], "url": gerrit.url, "retries": 0},
        database={"url": db_url},
        writeback=settings,
    )


def client_for(gerrit: Gerrit, username: str = BOT, password: str = BOT_PASSWORD
               ) -> GerritClient:
    client = GerritClient(gerrit.url, username=username, password=password, timeout=5, retries=0)
    client.backoff_base = 0.0
    return client


def cycle(engine: Engine, config: Config, client: GerritClient, now: datetime | None = None
          ) -> ApplySummary:
    """sync -> evaluate -> apply, as the worker runs them."""
    sync_once(client, engine, config)
    evaluate_store(engine, config, now=now)
    return apply(engine, config, client, now=now)


def logged(engine: Engine, change: int | None = None) -> list:
    with session_scope(engine) as session:
        return list(reversed(recent_actions(session, limit=1000, change=change)))


# -- pure planning ----------------------------------------------------------------


def test_plan_and_diff_touch_only_bot_owned_names(sandbox_config_data: dict) -> None:
    config = make_config(sandbox_config_data)

    class V:
        gate_state, gate_reason, reasons, matches = "priority", "Cycle priority", [], []
        priorities = ["image-import-refactor", "no-longer-configured"]

    desired = plan_hashtags(V, config)
    assert desired == ["review-priority", "priority-image-import-refactor"]
    owned = frozenset(t.lower() for t in ["review-priority", "needs-noncore-review",
                                          "priority-image-import-refactor",
                                          "priority-rolling-upgrades"])
    add, remove = diff_hashtags(
        ["REVIEW-PRIORITY", "Priority-Rolling-Upgrades", "priority-unknown", "ocata-rc"],
        desired, owned)
    assert add == ["priority-image-import-refactor"]
    assert remove == ["Priority-Rolling-Upgrades"]


@pytest.mark.parametrize(
    ("certain", "current", "expected"),
    [
        # A judged gated change gets the gated hashtag.
        (True, [], ["needs-noncore-review"]),
        # Core membership unknown: the bot neither adds the hashtag...
        (False, [], []),
        # ...nor removes one it set when it could still judge.
        (False, ["needs-noncore-review"], ["needs-noncore-review"]),
    ],
)
def test_uncertain_gate_verdict_leaves_the_gated_hashtag_as_it_is(
    sandbox_config_data: dict, certain: bool, current: list[str], expected: list[str]
) -> None:
    config = make_config(sandbox_config_data)

    class V:
        gate_state, reasons, matches, priorities = "gated", [], [], []
        gate_reason = "Not a cycle priority; the gate cannot be judged"
        gate_certain = certain

    assert plan_hashtags(V, config, current) == expected


# -- against the sandbox --------------------------------------------------------------


def test_dry_run_writes_nothing_but_logs_the_plan_once(
    gerrit: Gerrit, engine: Engine, sqlite_url: str, sandbox_config_data: dict
) -> None:
    config = wb_config(sandbox_config_data, gerrit, sqlite_url, dry_run=True, gated_message=True)
    client = client_for(gerrit)
    summary = cycle(engine, config, client)

    assert gerrit.writes() == []
    assert summary.dry_run and summary.applied == 0
    assert summary.planned == 4  # three hashtag posts + one gated message
    rows = logged(engine)
    assert {(r.change_number, r.action, r.result) for r in rows} == {
        (gerrit.priority, "set-hashtags", "planned"),
        (gerrit.gated, "set-hashtags", "planned"),
        (gerrit.gated, "gated-message", "planned"),
        (gerrit.opened, "set-hashtags", "planned"),
    }
    priority_row = next(r for r in rows if r.change_number == gerrit.priority)
    assert priority_row.detail["add"] == ["review-priority", "priority-image-import-refactor"]
    assert "blueprint image-import-refactor (commit footer)" in priority_row.reason

    # The same plan next cycle is not logged again.
    again = cycle(engine, config, client)
    assert again.planned == 4 and len(logged(engine)) == len(rows)
    assert gerrit.writes() == []


def test_enabled_writes_only_the_difference_and_leaves_foreign_hashtags(
    gerrit: Gerrit, store_engine: Engine, sqlite_url: str, sandbox_config_data: dict
) -> None:
    engine = store_engine
    config = wb_config(sandbox_config_data, gerrit, sqlite_url)
    summary = cycle(engine, config, client_for(gerrit))

    assert (summary.applied, summary.failed, summary.forbidden) == (3, 0, 0)
    bodies = {int(r.path.split("/")[3]): json.loads(r.body) for r in gerrit.writes()}
    assert set(bodies) == {gerrit.priority, gerrit.gated, gerrit.opened}
    assert bodies[gerrit.priority] == {
        "add": ["review-priority", "priority-image-import-refactor"], "remove": []}
    assert bodies[gerrit.gated] == {"add": ["needs-noncore-review"], "remove": []}
    assert bodies[gerrit.opened] == {
        "add": [], "remove": ["Needs-NonCore-Review", "priority-image-import-refactor"]}
    assert sorted(gerrit.hashtags(gerrit.priority)) == [
        "ocata-rc", "priority-image-import-refactor", "review-priority"]
    assert sorted(gerrit.hashtags(gerrit.opened)) == ["needs-review", "priority-someone-elses"]
    # Out-of-scope changes keep what they carry, even a bot-owned name.
    assert gerrit.hashtags(gerrit.merged) == ["needs-noncore-review"]
    assert gerrit.hashtags(gerrit.wip) == [] and gerrit.hashtags(gerrit.stable) == []
    # Every applied write is logged with what and why.
    rows = logged(engine)
    assert all(r.result == "applied" for r in rows) and len(rows) == 3
    gated_row = next(r for r in rows if r.change_number == gerrit.gated)
    assert gated_row.reason.startswith("add needs-noncore-review: Not a cycle priority; "
                                       "waiting for a non-core +1 on patch set 1")


def test_second_cycle_with_nothing_new_makes_zero_writes(
    gerrit: Gerrit, store_engine: Engine, sqlite_url: str, sandbox_config_data: dict
) -> None:
    engine = store_engine
    config = wb_config(sandbox_config_data, gerrit, sqlite_url, gated_message=True)
    client = client_for(gerrit)
    cycle(engine, config, client)
    gerrit.sb.clear_requests()

    # Right after the writes, before any sync: the stored hashtags already agree.
    assert apply(engine, config, client).planned == 0
    second = cycle(engine, config, client)
    third = cycle(engine, config, client)
    assert gerrit.writes() == []
    assert (second.planned, second.requests, third.planned, third.requests) == (0, 0, 0, 0)


def test_gate_opening_later_removes_only_the_gated_hashtag(
    gerrit: Gerrit, engine: Engine, sqlite_url: str, sandbox_config_data: dict
) -> None:
    config = wb_config(sandbox_config_data, gerrit, sqlite_url)
    client = client_for(gerrit)
    cycle(engine, config, client)
    gerrit.sb.set_hashtags(gerrit.gated, "alice", add=["my-own"], when=datetime.utcnow())
    gerrit.sb.review(gerrit.gated, "bob", labels={"Code-Review": 1}, when=datetime.utcnow())
    gerrit.sb.clear_requests()

    summary = cycle(engine, config, client)
    assert summary.applied == 1
    [write] = gerrit.writes()
    assert json.loads(write.body) == {"add": [], "remove": ["needs-noncore-review"]}
    assert gerrit.hashtags(gerrit.gated) == ["my-own"]
    row = logged(engine, gerrit.gated)[-1]
    assert row.reason.startswith("remove needs-noncore-review: no longer gated (Open for core "
                                 "review: non-core +1 from bob")


def test_403_is_recorded_once_and_not_retried_every_cycle(
    gerrit: Gerrit, store_engine: Engine, sqlite_url: str, sandbox_config_data: dict
) -> None:
    engine = store_engine
    gerrit.sb.set_permission(BOT, edit_hashtags=False)
    config = wb_config(sandbox_config_data, gerrit, sqlite_url)
    client = client_for(gerrit)
    now = datetime(2017, 1, 10, 12, 0)

    first = cycle(engine, config, client, now=now)
    assert (first.forbidden, first.applied, first.skipped_forbidden) == (1, 0, 2)
    assert len(gerrit.writes()) == 1
    rows = logged(engine)
    assert [(r.result, r.action) for r in rows] == [("forbidden", "set-hashtags")]
    assert "403" in rows[0].error
    with session_scope(engine) as session:
        [memory] = all_forbidden(session)
    assert (memory.kind, memory.project) == ("hashtags", "openstack/glance")

    gerrit.sb.clear_requests()
    later = cycle(engine, config, client, now=now + timedelta(hours=3))
    assert gerrit.writes() == [] and later.skipped_forbidden == 3 and later.forbidden == 0
    assert len(logged(engine)) == 1

    # The right was granted; after FORBIDDEN_RETRY the bot tries again and succeeds.
    gerrit.sb.set_permission(BOT, edit_hashtags=True)
    retry = cycle(engine, config, client, now=now + FORBIDDEN_RETRY + timedelta(minutes=1))
    assert retry.applied == 3
    with session_scope(engine) as session:
        assert all_forbidden(session) == []


def test_403_memory_resets_when_writeback_settings_change(
    gerrit: Gerrit, engine: Engine, sqlite_url: str, sandbox_config_data: dict
) -> None:
    gerrit.sb.set_permission(BOT, edit_hashtags=False)
    client = client_for(gerrit)
    now = datetime(2017, 1, 10, 12, 0)
    cycle(engine, wb_config(sandbox_config_data, gerrit, sqlite_url), client, now=now)
    gerrit.sb.clear_requests()
    changed = wb_config(sandbox_config_data, gerrit, sqlite_url, gated_hashtag="awaiting-noncore")
    summary = cycle(engine, changed, client, now=now + timedelta(minutes=5))
    assert summary.forbidden == 1 and len(gerrit.writes()) == 1


def test_gated_message_once_per_patch_set_with_tag_and_notify_none(
    gerrit: Gerrit, engine: Engine, sqlite_url: str, sandbox_config_data: dict
) -> None:
    config = wb_config(sandbox_config_data, gerrit, sqlite_url, gated_message=True,
                       gated_message_text="Waiting for a non-core review first.")
    client = client_for(gerrit)
    cycle(engine, config, client)

    posts = [r for r in gerrit.writes() if r.path.endswith("/review")]
    assert len(posts) == 1
    assert f"/changes/{gerrit.gated}/revisions/1/review" in posts[0].path
    body = json.loads(posts[0].body)
    assert body["tag"] == MESSAGE_TAG and body["notify"] == "NONE"
    assert body["message"] == "Waiting for a non-core review first."
    assert "labels" not in body

    # A human removes the gated hashtag: the bot puts it back but does not post again on PS 1.
    gerrit.sb.set_hashtags(gerrit.gated, "alice", remove=["needs-noncore-review"],
                           when=datetime.utcnow())
    gerrit.sb.clear_requests()
    cycle(engine, config, client)
    assert [r.path.rsplit("/", 1)[-1] for r in gerrit.writes()] == ["hashtags"]


def test_gated_message_not_repeated_when_gerrit_already_shows_one(
    gerrit: Gerrit, engine: Engine, sqlite_url: str, sandbox_config_data: dict
) -> None:
    # Posted by an earlier install of the bot (no trace in this store's action log).
    gerrit.sb.review(gerrit.gated, BOT, message="Earlier note", tag=MESSAGE_TAG,
                     when=T0 + timedelta(minutes=5))
    config = wb_config(sandbox_config_data, gerrit, sqlite_url, gated_message=True)
    cycle(engine, config, client_for(gerrit))
    assert not [r for r in gerrit.writes() if r.path.endswith("/review")]


def test_disabled_writeback_does_nothing(
    gerrit: Gerrit, engine: Engine, sqlite_url: str, sandbox_config_data: dict
) -> None:
    config = wb_config(sandbox_config_data, gerrit, sqlite_url, enabled=False)
    summary = cycle(engine, config, client_for(gerrit))
    assert summary.enabled is False and gerrit.writes() == [] and logged(engine) == []


def test_without_credentials_it_only_plans(
    gerrit: Gerrit, engine: Engine, sqlite_url: str, sandbox_config_data: dict
) -> None:
    config = wb_config(sandbox_config_data, gerrit, sqlite_url)
    anonymous = GerritClient(gerrit.url, timeout=5, retries=0)
    summary = cycle(engine, config, anonymous)
    assert summary.dry_run and "no Gerrit credentials" in summary.note
    assert gerrit.writes() == [] and {r.result for r in logged(engine)} == {"planned"}


def test_apply_command_shows_plan_results_and_refusals(
    gerrit: Gerrit, tmp_path, sandbox_config_data: dict, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from reviewbot.cli import main
    from reviewbot.store import open_store

    db_url = f"sqlite:///{tmp_path / 'cli.db'}"
    text = (ROOT / "config" / "sandbox.toml").read_text()
    text = text.replace('url = "http://127.0.0.1:8080"', f'url = "{gerrit.url}"\nretries = 0')
    text = text.replace('url = "sqlite:///data/sandbox/reviewbot.db"', f'url = "{db_url}"')
    config_file = tmp_path / "reviewbot.toml"
    config_file.write_text(text)
    config = wb_config(sandbox_config_data, gerrit, db_url)
    engine = open_store(db_url)
    client = client_for(gerrit)
    sync_once(client, engine, config)
    evaluate_store(engine, config)
    gerrit.sb.set_permission(BOT, edit_hashtags=False)
    monkeypatch.setenv("REVIEWBOT_GERRIT_USERNAME", BOT)
    monkeypatch.setenv("REVIEWBOT_GERRIT_PASSWORD", BOT_PASSWORD)

    assert main(["--config", str(config_file), "apply"]) == 0
    out = capsys.readouterr().out
    assert "writing to Gerrit" in out
    assert "forbidden" in out and "Gerrit refused hashtags writes in openstack/glance" in out
    assert BOT_PASSWORD not in out

    assert main(["--config", str(config_file), "apply", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["skipped_forbidden"] == 3 and data["forbidden_memory"][0]["kind"] == "hashtags"

    assert main(["--config", str(config_file), "actions", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["items"]
    assert [r["result"] for r in rows] == ["forbidden"]
    engine.dispose()


# -- incremental: only changes that moved since the last apply are read -----------------


class Statements:
    """The SQL the store ran while in use (to see which tables a step read)."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.seen = engine, []

    def __enter__(self) -> list[str]:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self.seen

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, *args) -> None:
        self.seen.append(statement)


def test_a_cycle_with_nothing_new_reads_no_change_and_writes_nothing(
    gerrit: Gerrit, store_engine: Engine, sqlite_url: str, sandbox_config_data: dict
) -> None:
    engine = store_engine
    config = wb_config(sandbox_config_data, gerrit, sqlite_url, gated_message=True)
    client = client_for(gerrit)
    first = cycle(engine, config, client)
    assert (first.changed, first.considered, first.applied) == (3, 3, 4)
    gerrit.sb.clear_requests()

    sync_once(client, engine, config)  # brings back the hashtags the bot wrote
    evaluate_store(engine, config)
    settle = apply(engine, config, client)  # those three moved (Gerrit's answer), once
    assert (settle.changed, settle.planned, settle.requests) == (3, 0, 0)
    sync_once(client, engine, config)
    evaluate_store(engine, config)
    with Statements(engine) as statements:
        quiet = apply(engine, config, client)
    assert (quiet.changed, quiet.considered, quiet.planned, quiet.requests) == (0, 3, 0, 0)
    assert quiet.line() == "applied: 0 changed of 3 open; 0 writes"
    assert gerrit.writes() == []
    # No change's messages, patch sets or action log were read: only which changes moved.
    read = " ".join(statements).lower()
    assert "from message" not in read and "from patch_set" not in read
    assert "from action_log" not in read


def test_only_the_change_that_moved_is_planned_and_written(
    gerrit: Gerrit, store_engine: Engine, sqlite_url: str, sandbox_config_data: dict
) -> None:
    engine = store_engine
    config = wb_config(sandbox_config_data, gerrit, sqlite_url)
    client = client_for(gerrit)
    cycle(engine, config, client)
    cycle(engine, config, client)
    gerrit.sb.review(gerrit.gated, "bob", labels={"Code-Review": 1}, when=datetime.utcnow())
    gerrit.sb.clear_requests()

    summary = cycle(engine, config, client)
    assert (summary.changed, summary.considered, summary.applied) == (1, 3, 1)
    assert summary.line() == "applied: 1 changed of 3 open; 1 writes"
    [write] = gerrit.writes()
    assert f"/changes/{gerrit.gated}/" in write.path


def test_a_verdict_that_changes_without_the_change_moving_is_planned_again(
    gerrit: Gerrit, store_engine: Engine, sqlite_url: str, sandbox_config_data: dict
) -> None:
    engine = store_engine
    config = wb_config(sandbox_config_data, gerrit, sqlite_url)
    client = client_for(gerrit)
    cycle(engine, config, client)
    cycle(engine, config, client)
    gerrit.sb.clear_requests()

    # Two non-core +1s now open the gate: the opened change (one +1) is gated again,
    # though nothing about it changed in Gerrit.
    stricter = make_config(sandbox_config_data, **{
        **config.model_dump(mode="json", exclude_none=True),
        "gate": {**config.gate.model_dump(mode="json", exclude_none=True),
                 "min_noncore_plus1": 2}})
    summary = cycle(engine, stricter, client)
    assert summary.changed == 1 and summary.applied == 1
    [write] = gerrit.writes()
    assert json.loads(write.body) == {"add": ["needs-noncore-review"], "remove": []}
    assert f"/changes/{gerrit.opened}/" in write.path


def test_new_writeback_settings_plan_every_open_change_again(
    gerrit: Gerrit, engine: Engine, sqlite_url: str, sandbox_config_data: dict
) -> None:
    client = client_for(gerrit)
    dry = wb_config(sandbox_config_data, gerrit, sqlite_url, dry_run=True)
    cycle(engine, dry, client)
    again = cycle(engine, dry, client)
    # Nothing moved: nothing read; the dry run's earlier plan still counts as planned.
    assert (again.changed, again.planned, again.actions) == (0, 3, [])
    assert again.line() == "applied: 0 changed of 3 open; 3 writes planned (dry run)"

    # Turning the dry run off writes what was only planned, without waiting for a move.
    real = cycle(engine, wb_config(sandbox_config_data, gerrit, sqlite_url), client)
    assert (real.changed, real.applied) == (3, 3)
    assert len(gerrit.writes()) == 3


def test_apply_all_plans_every_open_change(
    gerrit: Gerrit, engine: Engine, sqlite_url: str, sandbox_config_data: dict
) -> None:
    config = wb_config(sandbox_config_data, gerrit, sqlite_url)
    client = client_for(gerrit)
    cycle(engine, config, client)
    cycle(engine, config, client)
    gerrit.sb.clear_requests()
    summary = apply(engine, config, client, everything=True)
    assert (summary.changed, summary.considered, summary.planned) == (3, 3, 0)
    assert gerrit.writes() == []


def test_a_failed_write_is_tried_again_next_cycle(
    gerrit: Gerrit, engine: Engine, sqlite_url: str, sandbox_config_data: dict
) -> None:
    config = wb_config(sandbox_config_data, gerrit, sqlite_url)
    client = client_for(gerrit)
    sync_once(client, engine, config)
    evaluate_store(engine, config)
    # The first hashtag write gets a 500: that change stays due, the others are settled.
    gerrit.sb.inject_fault("status", status=500, path_contains="/hashtags")
    failed = apply(engine, config, client)
    assert (failed.applied, failed.failed) == (2, 1)
    # A 500 on a write may come after Gerrit applied it: read back (not there), "uncertain".
    [failed_change] = [a["change"] for a in failed.actions if a["result"] == "uncertain"]
    gerrit.sb.clear_requests()
    retried = apply(engine, config, client)  # nothing moved, yet the write is retried
    assert (retried.changed, retried.applied) == (1, 1)
    [write] = gerrit.writes()
    assert f"/changes/{failed_change}/" in write.path


def test_a_write_whose_fence_fails_is_not_sent_and_leaves_no_pending_row(
    gerrit: Gerrit, engine: Engine, sqlite_url: str, sandbox_config_data: dict
) -> None:
    # The worker's fence (its leadership) is asked after the write's intent is logged and
    # right before the send: once it fails, nothing more goes out, the intent of the write
    # it stopped is dropped (it never happened), and the next leader writes the rest.
    config = wb_config(sandbox_config_data, gerrit, sqlite_url, gated_message=True)
    client = client_for(gerrit)
    sync_once(client, engine, config)
    evaluate_store(engine, config)
    answers, seen = iter([True]), []

    def fence() -> bool:
        # What the store held when the fence was asked: the intent is already committed,
        # so a leader frozen before this point has logged but not sent.
        seen.append([r.result for r in logged(engine)])
        return next(answers, False)

    summary = apply(engine, config, client, fence=fence)

    assert seen == [["uncertain"], ["applied", "uncertain"]]
    assert len(gerrit.writes()) == 1 and summary.applied == 1
    assert summary.note == "leadership lost: stopped writing"
    assert [r.result for r in logged(engine)] == ["applied"], "no pending 'uncertain' row"
    follow_up = apply(engine, config, client)  # the next leader
    assert follow_up.applied == 3 and len(gerrit.writes()) == 4
    assert {r.result for r in logged(engine)} == {"applied"}
