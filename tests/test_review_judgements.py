"""Stored review judgements: the judge step, when reads may use them, and that they give
exactly what replaying the votes gives (the replay is the oracle).

A generated Glance-like cycle is synced from the sandbox Gerrit over HTTP, evaluated
and judged; standing is then read both ways and compared figure by figure.
"""

from __future__ import annotations

import json
import multiprocessing
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, or_, select

from reviewbot.cli import main
from reviewbot.evaluate import review_judgements
from reviewbot.evaluate.review_judgements import judge_store
from reviewbot.evaluate.verdicts import evaluate_store
from reviewbot.gerrit.client import GerritClient
from reviewbot.metrics.stored_standing import judging_fingerprint
from reviewbot.sandbox import Activity, SandboxGerrit
from reviewbot.store import open_store, session_scope
from reviewbot.store.judgements import clear_judgements, judgements_current, judging_state
from reviewbot.store.tables import (
    Account,
    Change,
    JudgedChange,
    PatchSet,
    StoredReview,
    VoteEventRow,
)
from reviewbot.sync.importer import import_files
from reviewbot.sync.rest import sync_once
from reviewbot.timeline.roster import load_roster
from reviewbot.views.standing_view import leaderboard, readiness_order, reviewer_report
from tests.conftest import ROOT, make_config
from tests.service_support import running_sandbox, service_config
from tests.store_builder import set_verdict
from tests.test_import import T0, build_scenario, ssh_dump

WINDOW = 365  # the whole generated cycle


@pytest.fixture
def live(store_url, sandbox_config_data):
    """A synced, evaluated (not yet judged) generated cycle, as-of just after it, and the
    sandbox it came from, still serving."""
    with running_sandbox(sandbox_config_data, changes=80, seed=11) as sb:
        config = service_config(sandbox_config_data, sb, store_url)
        engine = open_store(store_url)
        sync_once(GerritClient(sb.test_url), engine, config)
        with session_scope(engine) as session:
            # After every stored event, abandons and merges included: a vote cast just
            # before `as_of` is then newer than the sync cursor.
            newest = max(session.execute(select(func.max(VoteEventRow.date))).scalar(),
                         session.execute(select(func.max(PatchSet.created))).scalar(),
                         session.execute(select(func.max(Change.updated))).scalar())
        as_of = newest + timedelta(hours=1)
        evaluate_store(engine, config, now=as_of)
        yield engine, config, as_of, sb
        engine.dispose()


@pytest.fixture
def cycle(live):
    return live[:3]


def _changes(engine) -> int:
    with session_scope(engine) as session:
        return session.execute(select(func.count()).select_from(Change)).scalar()


def _board(engine, config, as_of, *, replay=False, days=WINDOW, sort="readiness"):
    with session_scope(engine) as session:
        rows = leaderboard(session, config, as_of=as_of, window_days=days, include_core=True,
                           replay=replay, sort=sort)
    return rows


def _figures(rows):
    return {r.username: (r.standing.core, r.standing.metrics, r.standing.warnings,
                         r.standing.window_weekly, [c.as_dict() for c in r.criteria])
            for r in rows}


def _review_view(r):
    v = r.verdict
    return (r.change_number, r.patch_set, r.project, r.owner_id, r.account_id, r.value, r.date,
            r.message_id, r.core_at_time, r.priority, r.thoughtful, r.judged, r.disagrees,
            r.caught, r.gate_open, r.gate_open_confirmed, r.first_crack, r.quick_large_plus1,
            None if v is None else (v.account_id, v.value, v.date, v.message_id))


def _report(engine, config, account, as_of, *, replay=False):
    with session_scope(engine) as session:
        return reviewer_report(session, config, account, as_of=as_of, window_days=WINDOW,
                               replay=replay)


def _assert_same_reviewer(engine, config, account, as_of):
    stored = _report(engine, config, account, as_of)
    replayed = _report(engine, config, account, as_of, replay=True)
    assert (stored.judgements, replayed.judgements) == ("stored", "replayed")
    s, r = stored.standing, replayed.standing
    assert s.metrics == r.metrics
    assert s.weekly == r.weekly
    assert s.warnings == r.warnings
    assert [c.message_id for c in s.comments] == [c.message_id for c in r.comments]
    assert [_review_view(x) for x in s.reviews] == [_review_view(x) for x in r.reviews]
    assert [_review_view(x) for x in s.feed] == [_review_view(x) for x in r.feed]


def test_stored_judgements_give_exactly_what_replaying_the_votes_gives(cycle):
    engine, config, as_of = cycle
    before = _board(engine, config, as_of)
    assert {r.judgements for r in before} == {"replayed"}, "never judged: reads replay"

    result = judge_store(engine, config)
    assert result.full and result.changes == _changes(engine) and result.reviews > 0

    stored = _board(engine, config, as_of)
    assert {r.judgements for r in stored} == {"stored"}
    assert _figures(stored) == _figures(before)
    # The readiness order (and every other column's) is the same both ways.
    assert [r.username for r in stored] == [r.username for r in before]
    assert len({r.standing.metrics["readiness"] for r in stored}) > 5
    for key in ("reviews", "disagreement", "catch_rate", "weeks_active"):
        assert [r.username for r in _board(engine, config, as_of, sort=key)] == \
            [r.username for r in _board(engine, config, as_of, sort=key, replay=True)], key
    # The comparison covers every kind of judgement, not only plain counts.
    total = {k: sum((r.standing.metrics[k] or 0) for r in stored)
             for k in ("judged_reviews", "gate_opens", "first_crack", "comments_only",
                       "thoughtful_minus1")}
    assert all(total.values()), total
    assert any(r.standing.metrics["disagreement_ratio"] for r in stored)

    # Per reviewer, down to each counted review and its verdict: the busiest non-cores
    # and a core.
    busiest = sorted(stored, key=lambda r: -r.standing.metrics["reviews"])
    picks = [r for r in busiest if not r.standing.core][:4] + \
        [r for r in busiest if r.standing.core][:1]
    for row in picks:
        _assert_same_reviewer(engine, config, row.standing.account_id, as_of)
    # A shorter window, and someone who never reviewed, read the same both ways too.
    assert _figures(_board(engine, config, as_of, days=30)) == \
        _figures(_board(engine, config, as_of, days=30, replay=True))
    with session_scope(engine) as session:
        idle = session.execute(
            select(Account.id).where(Account.id.not_in(select(StoredReview.account_id)))
            .order_by(Account.id)).scalar()
    _assert_same_reviewer(engine, config, idle, as_of)
    assert _report(engine, config, idle, as_of).standing.metrics["reviews"] == 0


def test_judging_in_many_small_passes_gives_the_same_figures(cycle, monkeypatch):
    engine, config, as_of = cycle
    monkeypatch.setattr(review_judgements, "CHANGES_PER_PASS", 7)  # 12 passes
    monkeypatch.setattr(review_judgements, "CHANGES_PER_COMMIT", 21)  # in 4 transactions
    result = judge_store(engine, config)
    assert result.full and result.changes == _changes(engine)
    stored = _board(engine, config, as_of)
    assert {r.judgements for r in stored} == {"stored"}
    assert _figures(stored) == _figures(_board(engine, config, as_of, replay=True))


def _stored_rows(engine):
    with session_scope(engine) as session:
        reviews = session.execute(select(StoredReview.__table__).order_by(
            StoredReview.change_number, StoredReview.patch_set, StoredReview.account_id)).all()
        stamps = session.execute(select(JudgedChange.__table__).order_by(
            JudgedChange.change_number)).all()
        state = judging_state(session)
    return [tuple(r) for r in reviews], [tuple(s) for s in stamps], state


def test_judging_in_a_second_process_stores_what_judging_here_stores(cycle, monkeypatch):
    engine, config, _ = cycle
    monkeypatch.setattr(review_judgements, "CHANGES_PER_PASS", 7)  # passes to overlap
    monkeypatch.setattr(review_judgements, "CHANGES_PER_COMMIT", 14)  # and commits
    here = judge_store(engine, config, parallel=False)
    stored_here = _stored_rows(engine)
    with session_scope(engine) as session:
        clear_judgements(session)
    beside = judge_store(engine, config, parallel=True)
    assert (beside.changes, beside.reviews) == (here.changes, here.reviews) != (0, 0)
    assert _stored_rows(engine) == stored_here
    assert not multiprocessing.active_children()


def test_new_votes_make_reads_replay_until_the_changed_change_is_judged_again(live):
    engine, config, as_of, sb = live
    judge_store(engine, config)
    with session_scope(engine) as session:
        number, owner = session.execute(
            select(Change.number, Change.owner_id)
            .where(Change.status == "NEW").order_by(Change.number)).first()
        reviewer = session.execute(
            select(StoredReview.account_id).where(StoredReview.account_id != owner)
            .group_by(StoredReview.account_id)
            .order_by(func.count().desc(), StoredReview.account_id)).scalar()
    # A new -1 in Gerrit, synced the way the worker does.
    sb.review(number, reviewer, labels={"Code-Review": -1}, message="one more thing",
              when=as_of - timedelta(minutes=30))
    sync_once(GerritClient(sb.test_url), engine, config)

    with session_scope(engine) as session:
        fingerprint = judging_fingerprint(load_roster(session, config),
                                          config.gate.min_noncore_plus1)
        assert not judgements_current(session, fingerprint, as_of)
        bystander = session.execute(
            select(StoredReview.account_id)
            .where(StoredReview.account_id.not_in(
                select(VoteEventRow.account_id).where(VoteEventRow.change_number == number)))
            .order_by(StoredReview.account_id)).scalar()
    fresh = _board(engine, config, as_of)
    assert {r.judgements for r in fresh} == {"replayed"}
    assert _report(engine, config, reviewer, as_of).judgements == "replayed"
    # Someone who never voted on that change reads their stored judgements meanwhile:
    # nothing they are judged on changed.
    assert _report(engine, config, bystander, as_of).judgements == "stored"
    _assert_same_reviewer(engine, config, bystander, as_of)

    result = judge_store(engine, config)
    assert (result.full, result.changes) == (False, 1), "only the changed change is judged"
    stored = _board(engine, config, as_of)
    assert {r.judgements for r in stored} == {"stored"}
    assert _figures(stored) == _figures(fresh)
    _assert_same_reviewer(engine, config, reviewer, as_of)
    assert judge_store(engine, config).changes == 0, "judging again with nothing new: no work"


def test_a_past_date_reads_settled_changes_stored_and_judges_active_ones_again(cycle):
    # As of a past date the stored judgements of a change still active after it saw later
    # votes: those changes are judged again from the votes up to then; the changes with
    # no activity since read their stored rows. Together: exactly the full replay.
    engine, config, as_of = cycle
    never = as_of - timedelta(days=40)
    assert {r.judgements for r in _board(engine, config, never)} == {"replayed"}, \
        "never judged: replayed"
    with session_scope(engine) as session:
        order = readiness_order(session, config, as_of=never, window_days=WINDOW)
    assert [a for a, *_ in order] == [
        r.standing.account_id for r in _board(engine, config, never)
        if r.standing.metrics["reviews"] and not r.standing.core]
    judge_store(engine, config)
    with session_scope(engine) as session:
        updates = sorted(session.execute(select(Change.updated)).scalars())
    for earlier in (as_of - timedelta(days=40), as_of - timedelta(days=75)):
        active = sum(1 for u in updates if u > earlier)
        assert 0 < active < len(updates)  # both kinds of change exist at this date
        for days in (WINDOW, 30):
            rows = _board(engine, config, earlier, days=days)
            assert {r.judgements for r in rows} == {"mixed"}
            replayed = _board(engine, config, earlier, days=days, replay=True)
            assert _figures(rows) == _figures(replayed)
            assert [r.username for r in rows] == [r.username for r in replayed]
            assert sum(r.standing.metrics["reviews"] for r in rows) > 20
            # The backtest's lighter read of the same order (pool: non-cores with a review).
            with session_scope(engine) as session:
                order = readiness_order(session, config, as_of=earlier, window_days=days)
            pool = [r for r in rows if r.standing.metrics["reviews"] and not r.standing.core]
            assert order == [(r.standing.account_id, r.username,
                              r.standing.metrics["readiness"], r.standing.metrics["reviews"])
                             for r in pool]
    # A change rewritten since judging makes the stored rows unusable until judged again.
    with session_scope(engine) as session:
        first = session.execute(select(Change).order_by(Change.updated)).scalars().first()
        first.revision += 1
    assert {r.judgements for r in _board(engine, config, as_of - timedelta(days=40))} == \
        {"replayed"}


def test_a_roster_change_judges_every_change_again(cycle):
    engine, config, as_of = cycle
    judge_store(engine, config)
    busiest = max((r for r in _board(engine, config, as_of) if not r.standing.core),
                  key=lambda r: r.standing.metrics["reviews"])
    # The busiest non-core was core for the first half of the cycle after all.
    start = as_of - timedelta(days=WINDOW)
    promoted = make_config(
        {**config.model_dump(mode="json"),
         "core_history": [{"username": busiest.username, "joined": start.date().isoformat(),
                           "left": (as_of - timedelta(days=60)).date().isoformat()}]})
    assert {r.judgements for r in _board(engine, promoted, as_of)} == {"replayed"}
    result = judge_store(engine, promoted)
    assert result.full and result.changes == _changes(engine)
    after = _board(engine, promoted, as_of)
    assert {r.judgements for r in after} == {"stored"}
    assert _figures(after) == _figures(_board(engine, promoted, as_of, replay=True))
    _assert_same_reviewer(engine, promoted, busiest.standing.account_id, as_of)


def test_a_change_that_becomes_priority_is_judged_again(cycle):
    engine, config, as_of = cycle
    judge_store(engine, config)
    with session_scope(engine) as session:
        number, account = session.execute(
            select(StoredReview.change_number, StoredReview.account_id)
            .where(StoredReview.priority.is_(False)).order_by(StoredReview.change_number)
        ).first()
        set_verdict(session, number, "priority", priorities=["community-images"])
    result = judge_store(engine, config)
    assert (result.full, result.changes) == (False, 1)
    with session_scope(engine) as session:
        flags = session.execute(select(StoredReview.priority)
                                .where(StoredReview.change_number == number)).scalars().all()
        assert flags and all(flags)
    _assert_same_reviewer(engine, config, account, as_of)


def test_judge_command_reports_its_work_as_json(cycle, tmp_path, capsys):
    engine, config, _ = cycle
    text = (ROOT / "config" / "sandbox.toml").read_text()
    cfg = tmp_path / "reviewbot.toml"
    cfg.write_text(re.sub(r'(?m)^url = "sqlite:.*"$', f'url = "{config.database.url}"', text))
    assert main(["--config", str(cfg), "judge", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["full"] is True and first["changes"] == _changes(engine) and first["reviews"] > 0
    assert main(["--config", str(cfg), "judge", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["full"], again["changes"], again["reviews"]) == (False, 0, 0)
    with session_scope(engine) as session:
        judged = session.execute(select(func.count()).select_from(JudgedChange)).scalar()
    assert judged == _changes(engine)


def _import_config(sandbox_config_data):
    data = dict(sandbox_config_data)
    return make_config({**data, "gerrit": {**data["gerrit"],
                                           "projects": ["openstack/glance"]}})


def test_a_reimport_that_adds_messages_under_the_same_updated_time_is_judged_again(
        sandbox_config_data, store_engine, tmp_path):
    # Gerrit times are whole seconds: a fuller dump of the same changes carries the same
    # `lastUpdated`, yet brings every message and vote the first one lacked.
    sb = SandboxGerrit()
    build_scenario(sb)
    config = _import_config(sandbox_config_data)
    ssh_dump(sb, tmp_path / "full.json")
    bare = [json.dumps({k: v for k, v in json.loads(line).items() if k != "comments"})
            for line in (tmp_path / "full.json").read_text().splitlines()]
    (tmp_path / "bare.json").write_text("\n".join(bare) + "\n")
    import_files(store_engine, [tmp_path / "bare.json"])
    assert judge_store(store_engine, config).reviews == 0
    import_files(store_engine, [tmp_path / "full.json"])
    again = judge_store(store_engine, config)
    assert again.changes == 2 and again.reviews > 0
    as_of = T0 + timedelta(days=5)
    stored = _board(store_engine, config, as_of)
    assert {r.judgements for r in stored} == {"stored"}
    assert _figures(stored) == _figures(_board(store_engine, config, as_of, replay=True))


def test_rest_data_replacing_an_import_is_judged_again_with_the_real_accounts(
        sandbox_config_data, store_engine, tmp_path):
    # History imported from a dump first (synthetic account ids, made-up message ids),
    # then the same changes synced over REST under the same `updated` time: the real
    # ids and messages replace them, and the judgements follow.
    sb = SandboxGerrit()
    build_scenario(sb)
    t = T0 + timedelta(days=3)
    big = sb.add_change("openstack/glance", "master", "Big change", "alice", created=t,
                        insertions=500, deletions=10)
    sb.review(big, "bob", labels={"Code-Review": 1}, when=t + timedelta(minutes=5))
    sb.upload_patch_set(big, "alice", when=t + timedelta(hours=1), insertions=20, deletions=1)
    sb.review(big, "carol", labels={"Code-Review": 2}, when=t + timedelta(hours=3))
    ssh_dump(sb, tmp_path / "dump.json")
    with sb.running() as url:
        data = dict(sandbox_config_data)
        config = make_config({**data, "gerrit": {**data["gerrit"], "url": url,
                                                 "projects": ["openstack/glance"]}})
        import_files(store_engine, [tmp_path / "dump.json"])
        as_of = t + timedelta(days=1)
        evaluate_store(store_engine, config, now=as_of)
        judge_store(store_engine, config)
        with session_scope(store_engine) as session:
            assert session.execute(select(func.count()).select_from(StoredReview)
                                   .where(StoredReview.account_id < 0)).scalar() > 0
        sync_once(GerritClient(url, retries=0), store_engine, config, full=True)
    # All three imported changes were rewritten by REST data.
    assert judge_store(store_engine, config).changes == 3
    with session_scope(store_engine) as session:
        synthetic = session.execute(select(func.count()).select_from(StoredReview).where(
            or_(StoredReview.account_id < 0, StoredReview.owner_id < 0,
                StoredReview.message_id.like("ssh-%")))).scalar()
    assert synthetic == 0, "stored reviews still name imported ids"
    stored = _board(store_engine, config, as_of)
    assert {r.judgements for r in stored} == {"stored"}
    assert _figures(stored) == _figures(_board(store_engine, config, as_of, replay=True))
    _assert_same_reviewer(store_engine, config, sb.account_id("bob"), as_of)


def test_judging_here_takes_one_connection_for_every_pass(sandbox_config_data, tmp_path,
                                                          monkeypatch):
    # The web process judges a hinted change with a pool of a few connections, and an
    # in-memory store has exactly one: passes read here go through the writing session.
    monkeypatch.setattr(review_judgements, "CHANGES_PER_PASS", 1)  # two passes,
    monkeypatch.setattr(review_judgements, "CHANGES_PER_COMMIT", 2)  # one commit
    sb = SandboxGerrit()
    build_scenario(sb)
    config = _import_config(sandbox_config_data)
    ssh_dump(sb, tmp_path / "dump.json")
    stored = []
    for url, pool in (("sqlite://", {}), (f"sqlite:///{tmp_path / 'one.db'}",
                                          {"pool_size": 1, "pool_timeout": 2})):
        engine = open_store(url, **pool)
        import_files(engine, [tmp_path / "dump.json"])
        result = judge_store(engine, config, parallel=False)
        assert (result.changes, result.full) == (2, True)
        stored.append(_stored_rows(engine))
        engine.dispose()
    assert len(stored[0][1]) == 2 and stored[0][0], "both passes' judgements kept"
    assert stored[0] == stored[1]


def test_a_reviewer_whose_votes_a_rewrite_took_away_is_not_read_from_stale_rows(
        sandbox_config_data, store_engine, tmp_path):
    # A change first arrives from a dump that holds a +1 by dave which Gerrit itself does
    # not have (say, a dump of another replica); REST data then replaces the import and
    # dave's vote is gone. Dave has no vote on that change any more, yet his stored review
    # of it must not be read.
    sb = SandboxGerrit()
    build_scenario(sb)
    with sb.running() as url:
        data = dict(sandbox_config_data)
        config = make_config({**data, "gerrit": {**data["gerrit"], "url": url,
                                                 "projects": ["openstack/glance"]}})
        client = GerritClient(url, retries=0)
        sync_once(client, store_engine, config)  # the accounts' real ids are known now
        t = T0 + timedelta(days=3)
        number = sb.add_change("openstack/glance", "master", "Late change", "alice", created=t)
        sb.review(number, "bob", labels={"Code-Review": 1}, when=t + timedelta(hours=1))
        ssh_dump(sb, tmp_path / "dump.json")
        lines = (tmp_path / "dump.json").read_text().splitlines()
        changes = [json.loads(line) for line in lines[:-1]]
        late = next(c for c in changes if c["number"] == number)
        dave = {"name": "Dave Other", "email": "dave@example.org", "username": "dave"}
        late["comments"].append({"timestamp": late["comments"][-1]["timestamp"] + 600,
                                 "reviewer": dave, "message": "Patch Set 1: Code-Review+1"})
        (tmp_path / "dump.json").write_text(
            "\n".join([json.dumps(c) for c in changes] + lines[-1:]) + "\n")
        import_files(store_engine, [tmp_path / "dump.json"])
        as_of = t + timedelta(days=1)
        evaluate_store(store_engine, config, now=as_of)
        judge_store(store_engine, config)
        dave_id = sb.account_id("dave")
        before = _report(store_engine, config, dave_id, as_of)
        assert (before.judgements, before.standing.metrics["reviews"]) == ("stored", 1)
        sync_once(client, store_engine, config, full=True)  # REST replaces the import
    page = _report(store_engine, config, dave_id, as_of)
    assert (page.judgements, page.standing.metrics["reviews"]) == ("replayed", 0)
    judge_store(store_engine, config)
    _assert_same_reviewer(store_engine, config, dave_id, as_of)
    assert _report(store_engine, config, dave_id, as_of).standing.metrics["reviews"] == 0


def test_stored_figures_follow_live_activity_round_after_round(live):
    # The worker's loop in miniature: Gerrit activity, sync, evaluate, judge; after each
    # round every figure read from the stored judgements equals the replay, for the
    # leaderboard and for every reviewer's page.
    engine, config, as_of, sb = live
    activity = Activity(sb, seed=3)
    client = GerritClient(sb.test_url)
    now = as_of
    for _ in range(4):
        for _ in range(6):
            now += timedelta(minutes=7)
            activity.step(now)
        sync_once(client, engine, config)
        evaluate_store(engine, config, now=now)
        judge_store(engine, config)
        for days in (30, 1):
            stored = _board(engine, config, now, days=days)
            if days == 30:
                assert stored, "a month of an active cycle has reviewers"
            assert {r.judgements for r in stored} <= {"stored"}  # one day may be empty
            assert _figures(stored) == _figures(_board(engine, config, now, days=days,
                                                       replay=True))
        for row in _board(engine, config, now, days=30):
            stored_page = _report(engine, config, row.standing.account_id, now)
            replayed_page = _report(engine, config, row.standing.account_id, now, replay=True)
            assert stored_page.judgements == "stored"
            assert stored_page.standing.metrics == replayed_page.standing.metrics
            assert [_review_view(x) for x in stored_page.standing.reviews] == \
                [_review_view(x) for x in replayed_page.standing.reviews]

