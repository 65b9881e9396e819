"""Digests on a store synced from the sandbox Gerrit over HTTP, sent to a real local SMTP
server (aiosmtpd) and a local Matrix homeserver stand-in: what they say equals the queue
and the report, one a day per person and channel, dry run and failures logged."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from reviewbot.actions.digest import compose
from reviewbot.actions.digest_send import matrix_txn_id, run_digests
from reviewbot.cli import main
from reviewbot.config import ConfigError, Secrets
from reviewbot.store import session_scope
from reviewbot.store.queue_reads import find_reviewer
from reviewbot.store.tables import Account, DigestLog
from reviewbot.timeline.roster import load_roster
from reviewbot.views.queue_view import queue_for
from reviewbot.views.reporting import report_as_of
from reviewbot.views.trends import queue_size_at
from tests.conftest import make_config
from tests.digest_servers import free_port, matrix_server, smtp_server
from tests.service_support import generated_sandbox, service_config, synced_and_evaluated

TOKEN = "syt_test_token"
ROOM = "!reviews:example.org"


@pytest.fixture(scope="module")
def sandbox():
    with generated_sandbox(changes=80, seed=41) as generated:
        yield generated


@pytest.fixture
def synced(sandbox, store_url):
    sb, data = sandbox
    engine, config, now = synced_and_evaluated(sb, data, store_url)
    with Session(engine) as s:
        roster = load_roster(s, config)
        core = max(roster.core_at(now), key=lambda a: (len(_queue(s, config, roster.username(a),
                                                                   now)), a))
        names = [a.username for a in s.execute(select(Account)).scalars() if a.username]
    noncore = next(n for n in sorted(names) if roster.account_by_username(n)
                   not in roster.core_at(now) and roster.account_by_username(n) not in roster.bots)
    yield sb, data, engine, now, roster.username(core), noncore
    engine.dispose()


def _queue(session, config, name, now):
    return [r.item.number for r in queue_for(session, config, find_reviewer(session, name),
                                             None, now=now).rows]


def digest_config(sb, data, store_url, core, noncore, *, smtp_port=25, homeserver=None,
                  weekly_day=0, **extra):
    subscribers = [
        {"username": core, "email": f"{core}@example.org", "daily": True, "weekly": True,
         **({"matrix_room": ROOM} if homeserver else {})},
        {"username": noncore, "email": f"{noncore}@example.org", "daily": True},
    ]
    digest = {"enabled": True, "dashboard_url": "https://reviewbot.example.org",
              "weekly_day": weekly_day, "top": 3,
              "smtp": {"host": "127.0.0.1", "port": smtp_port, "sender": "bot@example.org"},
              "subscribers": subscribers, **extra}
    if homeserver:
        digest["matrix"] = {"homeserver": homeserver, "timeout": 5}
    return service_config(data, sb, store_url, digest=digest)


def _logs(engine):
    with Session(engine) as s:
        return [(r.username, r.channel, r.result, r.error) for r in
                s.execute(select(DigestLog).order_by(DigestLog.id)).scalars()]


def test_daily_digest_says_what_the_queue_says(synced, store_url) -> None:
    sb, data, engine, now, core, noncore = synced
    config = digest_config(sb, data, store_url, core, noncore, weekly_day=(now.weekday() + 1) % 7)
    with session_scope(engine) as session:
        queue = queue_for(session, config, find_reviewer(session, core), None, now=now)
        digest = compose(session, config, config.digest.subscribers[0], now)
        # the worker's present (stored states, no replay) says the same as the replay at T
        stored = compose(session, config, config.digest.subscribers[0], now, present=True)
    assert stored.daily == digest.daily
    daily = digest.daily
    assert digest.weekly is None  # not the weekly day
    assert daily.kind == "core" and daily.total == queue.total > 0
    assert [i.number for i in daily.items] == [r.item.number for r in queue.rows[:3]]
    prio = sum(1 for r in queue.rows if r.item.priority)
    oldest = max((now - r.item.uploaded).days for r in queue.rows)
    assert daily.line() == (f"your queue today: {prio} priority change{'' if prio == 1 else 's'}"
                            f", {queue.total} open to you; oldest waits {oldest} day"
                            f"{'' if oldest == 1 else 's'}")
    first = daily.items[0]
    assert f"[{first.number}]({config.gerrit_web_base}/c/{first.project}/+/{first.number})" \
        in digest.markdown
    assert f"https://reviewbot.example.org/changes/{first.number}" in digest.markdown
    assert f"{first.number} " in digest.text and "](" not in digest.text
    assert digest.subject.startswith("[reviewbot] Ocata your queue today:")
    assert f"Hello {core}, {daily.line()}." in digest.text


def test_weekly_summary_is_the_report_table_and_the_week(synced, store_url) -> None:
    sb, data, engine, now, core, noncore = synced
    config = digest_config(sb, data, store_url, core, noncore, weekly_day=now.weekday())
    with session_scope(engine) as session:
        digest = compose(session, config, config.digest.subscribers[0], now)
        report = report_as_of(session, config, now)
        size_now = queue_size_at(session, config, now)
        size_before = queue_size_at(session, config, now - timedelta(days=7))
    weekly = digest.weekly
    assert [r.title for r in weekly.rows] == [p.title for p in report.priorities] + \
        [report.other.title]
    assert [r.open for r in weekly.rows] == [p.open for p in [*report.priorities, report.other]]
    merged = {r.number for r in report.rows if r.status == "merged"
              and now - timedelta(days=7) < r.closed <= now}
    assert {i.number for i in weekly.merged} == merged
    assert (weekly.queue_size, weekly.queue_size_before) == (size_now, size_before)
    assert "| Priority | Open | Merged |" in digest.markdown
    assert f"core queue size: {size_now}" in digest.markdown and \
        f"core queue size: {size_now}" in digest.text
    # the non-core did not opt in to the weekly summary
    with session_scope(engine) as session:
        other = compose(session, config, config.digest.subscribers[1], now)
    assert other.weekly is None and other.daily.kind == "first-crack"


def test_sent_by_smtp_and_matrix_once_a_day(synced, store_url) -> None:
    sb, data, engine, now, core, noncore = synced
    with smtp_server() as (port, box), matrix_server(TOKEN) as (homeserver, room):
        config = digest_config(sb, data, store_url, core, noncore, smtp_port=port,
                               homeserver=homeserver)
        secrets = Secrets(matrix_token=TOKEN)
        run = run_digests(engine, config, secrets, now)
        assert (run.sent, run.failed, run.skipped) == (3, 0, 0)
        assert sorted(m["X-Envelope-To"] for m in box.messages) == sorted(
            [f"{core}@example.org", f"{noncore}@example.org"])
        mail = next(m for m in box.messages if m["To"] == f"{core}@example.org")
        parts = {p.get_content_type(): p.get_content().replace("\r\n", "\n")
                 for p in mail.walk() if not p.is_multipart()}
        digest = next(d for d in run.digests if d.username == core)
        assert mail["Subject"] == digest.subject
        assert parts["text/plain"].strip() == digest.text.strip()
        assert parts["text/markdown"].strip() == digest.markdown.strip()
        [event] = room.events.values()
        assert event["room"] == ROOM and event["txn"] == matrix_txn_id(digest.digest_id, ROOM)
        assert event["content"] == {"msgtype": "m.notice", "body": digest.markdown}

        again = run_digests(engine, config, secrets, now + timedelta(hours=2))
        assert (again.sent, again.skipped) == (0, 3)
        assert len(box.messages) == 2 and len(room.requests) == 1
        tomorrow = run_digests(engine, config, secrets, now + timedelta(days=1))
        assert tomorrow.sent == 3 and len(box.messages) == 4 and len(room.events) == 2
    assert [r[2] for r in _logs(engine)] == ["sent"] * 6


def test_dry_run_plans_and_sends_nothing(synced, store_url) -> None:
    sb, data, engine, now, core, noncore = synced
    with smtp_server() as (port, box):
        config = digest_config(sb, data, store_url, core, noncore, smtp_port=port)
        run = run_digests(engine, config, Secrets(), now, dry_run=True)
        assert run.planned == 2 and run.sent == 0 and box.messages == []
        # a dry run does not use up the day's digest
        real = run_digests(engine, config, Secrets(), now)
        assert real.sent == 2 and len(box.messages) == 2
    assert [r[2] for r in _logs(engine)] == ["planned", "planned", "sent", "sent"]


def test_failures_are_logged_and_retried_next_cycle(synced, store_url) -> None:
    sb, data, engine, now, core, noncore = synced
    closed_port = free_port()
    with matrix_server(TOKEN) as (homeserver, room):
        config = digest_config(sb, data, store_url, core, noncore, smtp_port=closed_port,
                               homeserver=homeserver)
        run = run_digests(engine, config, Secrets(), now)  # no SMTP server, no Matrix token
        assert run.failed == 3 and run.sent == 0 and room.requests == []
        errors = {(u, c): e for u, c, _r, e in _logs(engine)}
        assert errors[(core, "matrix")] == "REVIEWBOT_MATRIX_TOKEN is not set"
        assert errors[(core, "email")].startswith(f"SMTP 127.0.0.1:{closed_port}:")
        assert TOKEN not in json.dumps(list(errors.values()))

        # The homeserver stores the event, but the answer is lost: the retry (same txnId)
        # must not post it twice.
        room.lose_answers = 1
        with smtp_server() as (port, box):
            config = digest_config(sb, data, store_url, core, noncore, smtp_port=port,
                                   homeserver=homeserver)
            retry = run_digests(engine, config, Secrets(matrix_token=TOKEN), now)
        assert retry.sent == 3 and len(box.messages) == 2
        assert len(room.requests) == 2 and len(room.events) == 1
        wrong = run_digests(engine, config, Secrets(matrix_token="nope"),
                            now + timedelta(days=1))
        matrix_error = [e for u, c, r, e in _logs(engine) if c == "matrix" and r == "failed"][-1]
        assert wrong.failed >= 1 and matrix_error == "Matrix answered 401: Unknown token"


def test_unknown_subscriber_is_a_logged_failure(synced, store_url) -> None:
    sb, data, engine, now, core, noncore = synced
    config = digest_config(sb, data, store_url, core, "nobody-here")
    run = run_digests(engine, config, Secrets(), now, dry_run=True)
    assert run.failed == 1
    assert ("nobody-here", "email", "failed",
            "no Gerrit account 'nobody-here' has been synced (check digest.subscribers "
            "username)") in _logs(engine)


def test_cli_preview_as_of_stores_nothing_and_disabled_sends_nothing(synced, store_url,
                                                                      tmp_path, capsys) -> None:
    import tomli_w

    sb, data, engine, now, core, noncore = synced
    config = digest_config(sb, data, store_url, core, noncore)
    raw = config.model_dump(mode="json", exclude_none=True)
    path = tmp_path / "c.toml"
    path.write_text(tomli_w.dumps(raw))
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert main(["--config", str(path), "digest", "--as-of", stamp, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [d["username"] for d in out["digests"]] == [core, noncore]
    assert out["digests"][0]["daily"]["total"] > 0
    assert _logs(engine) == []
    raw["digest"]["enabled"] = False
    path.write_text(tomli_w.dumps(raw))
    assert main(["--config", str(path), "digest"]) == 1
    assert "digest.enabled is false" in capsys.readouterr().err
    assert _logs(engine) == []


def test_digest_settings_are_validated(sandbox_config_data) -> None:
    def problems(digest):
        with pytest.raises(ConfigError) as err:
            make_config(sandbox_config_data, digest=digest)
        return err.value.problems

    assert problems({"subscribers": [{"username": "a"}]}) == [
        "digest.subscribers[0]: needs an email or a matrix_room to send the digest to"]
    assert problems({"subscribers": [{"username": "a", "email": "a@x.org"}]}) == [
        "digest: subscribers[0].email: needs digest.smtp.sender (the From address)"]
    assert problems({"subscribers": [{"username": "a", "email": "not-an-address"}],
                     "smtp": {"sender": "b@x.org"}}) == [
        "digest.subscribers[0].email: 'not-an-address' is not an e-mail address"]
    assert problems({"matrix": {"homeserver": "matrix.org"}}) == [
        "digest.matrix.homeserver: must start with http:// or https://"]
    assert make_config(sandbox_config_data).digest.enabled is False


def test_the_worker_cycle_sends_after_judge_and_only_when_enabled(synced, store_url) -> None:
    from reviewbot.service.cycle import run_cycle
    from tests.service_support import bot_secrets

    sb, data, engine, now, core, noncore = synced
    with smtp_server() as (port, box):
        config = digest_config(sb, data, store_url, core, noncore, smtp_port=port)
        summary = run_cycle(config, bot_secrets(sb), engine, now=now)
        assert list(summary.steps)[-2:] == ["trends", "digest"] and summary.steps["digest"].ok
        assert summary.steps["trends"].ok and summary.steps["trends"].detail["computed"] == 1
        assert summary.steps["digest"].detail["sent"] == 2 and len(box.messages) == 2
        off = make_config(config.model_dump(mode="json", exclude_none=True),
                          digest={"enabled": False})
        skipped = run_cycle(off, bot_secrets(sb), engine, now=now + timedelta(days=1))
        assert skipped.steps["digest"].skipped == "digest.enabled = false"
        assert len(box.messages) == 2
