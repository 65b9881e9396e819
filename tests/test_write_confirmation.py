"""Writes whose answer is lost (Gerrit slower than the timeout, a reset, a 5xx) are confirmed by
reading back, never sent twice; over real HTTP to the sandbox, whose request log is the judge."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from reviewbot.actions.writeback import apply
from reviewbot.actions.writeback_plan import MESSAGE_TAG
from reviewbot.actions.writeback_send import GATED_MESSAGE, SET_HASHTAGS
from reviewbot.evaluate.verdicts import evaluate_store
from reviewbot.gerrit.client import GerritClient
from reviewbot.gerrit.errors import GerritError, GerritWriteUnconfirmed
from reviewbot.sync.rest import sync_once
from tests.test_writeback import BOT, BOT_PASSWORD, Gerrit, cycle, logged, wb_config

TIMEOUT = 0.4


@pytest.fixture
def gerrit() -> Iterator[Gerrit]:
    g = Gerrit()
    with g.sb.running() as url:
        g.url = url
        yield g


def slow_client(gerrit: Gerrit) -> GerritClient:
    client = GerritClient(gerrit.url, username=BOT, password=BOT_PASSWORD, timeout=TIMEOUT,
                          retries=0)
    client.backoff_base = 0.0
    return client


def cycle_despite_sync(engine: Engine, config, client: GerritClient, now: datetime):
    """sync -> evaluate -> apply where a failed sync, as in the worker, does not stop the rest."""
    try:
        sync_once(client, engine, config)
    except GerritError:
        pass
    evaluate_store(engine, config, now=now)
    return apply(engine, config, client, now=now)


def posts_by_path(gerrit: Gerrit) -> Counter:
    return Counter(r.path for r in gerrit.writes())


@pytest.mark.parametrize("fault", ["slow_after_apply", "reset_after_apply"])
def test_a_write_applied_but_unanswered_is_confirmed_by_reading_back(
        gerrit: Gerrit, engine: Engine, sqlite_url: str, sandbox_config_data: dict,
        fault: str) -> None:
    config = wb_config(sandbox_config_data, gerrit, sqlite_url, gated_message=True)
    # Every write is applied by Gerrit, and then its answer is lost.
    gerrit.sb.inject_fault(fault, method="POST", count=100, delay=TIMEOUT * 2.5)
    summary = cycle(gerrit_engine := engine, config, slow_client(gerrit))
    writes = posts_by_path(gerrit)
    assert writes and set(writes.values()) == {1}, f"a write reached Gerrit twice: {writes}"
    assert summary.applied == summary.confirmed == sum(writes.values()) == 4
    assert summary.failed == 0
    # Gerrit holds exactly what was planned, the message once.
    assert gerrit.hashtags(gerrit.gated) == ["needs-noncore-review"]
    ours = [m for m in gerrit.sb.change(gerrit.gated).messages if m.tag == MESSAGE_TAG]
    assert len(ours) == 1
    rows = logged(gerrit_engine)
    assert {r.result for r in rows} == {"applied"}
    assert all("read back: applied" in r.detail["confirmed"] for r in rows)
    # The next cycle knows (hashtags stored from the read-back): nothing to write.
    gerrit.sb.clear_faults()
    gerrit.sb.clear_requests()
    assert cycle(engine, config, slow_client(gerrit)).planned == 0
    assert gerrit.writes() == []


def test_the_gated_message_is_posted_once_while_gerrit_is_slower_than_the_timeout(
        gerrit: Gerrit, engine: Engine, sqlite_url: str, sandbox_config_data: dict) -> None:
    """The reported case: three cycles, Gerrit answering everything too late. It was posted
    three times (each cycle saw no answer and no fresh sync, and posted again)."""
    config = wb_config(sandbox_config_data, gerrit, sqlite_url, gated_message=True,
                       gated_message_text="Waiting for a non-core review first.")
    slow = dict(count=1000, delay=TIMEOUT * 2)
    gerrit.sb.inject_fault("slow_after_apply", method="POST", **slow)  # applied, answered late
    gerrit.sb.inject_fault("slow", path_contains="/hashtags", method="GET", **slow)
    gerrit.sb.inject_fault("slow", path_contains="/messages", method="GET", **slow)
    first = cycle(engine, config, slow_client(gerrit))
    # Uncertain, each; after three in a row the step stops for this cycle.
    assert first.failed == 3 and first.applied == 0 and "stopped after 3" in first.note
    # Gerrit stays slow: the sync fails, the store still says "not tagged, no message".
    gerrit.sb.inject_fault("slow", path_contains="/changes/?", method="GET", **slow)
    for minutes in (5, 10):
        second = cycle_despite_sync(engine, config, slow_client(gerrit),
                                    now=datetime.utcnow() + timedelta(minutes=minutes))
        assert second.applied == 0
    gerrit.sb.clear_faults()
    healthy = cycle(engine, config, slow_client(gerrit),
                    now=datetime.utcnow() + timedelta(minutes=15))
    review_posts = [r for r in gerrit.writes() if r.path.endswith("/review")]
    assert len(review_posts) == 1, [r.path for r in review_posts]
    assert set(posts_by_path(gerrit).values()) == {1}
    ours = [m for m in gerrit.sb.change(gerrit.gated).messages if m.tag == MESSAGE_TAG]
    assert len(ours) == 1
    # Healthy again, only the write the step never got to (it stopped early) is sent.
    assert healthy.applied == 1 and healthy.actions[0]["change"] == gerrit.opened
    assert cycle(engine, config, slow_client(gerrit)).planned == 0
    results = [(r.change_number, r.action, r.result) for r in logged(engine)]
    assert (gerrit.gated, GATED_MESSAGE, "uncertain") in results
    assert (gerrit.gated, SET_HASHTAGS, "uncertain") in results


def test_a_write_not_applied_is_not_resent_until_a_later_read_back_shows_it_missing(
        gerrit: Gerrit, engine: Engine, sqlite_url: str, sandbox_config_data: dict) -> None:
    config = wb_config(sandbox_config_data, gerrit, sqlite_url)
    # A proxy drops the hashtag writes before Gerrit sees them: nothing is applied.
    gerrit.sb.inject_fault("reset", path_contains="/hashtags", method="POST", count=3)
    first = cycle(engine, config, slow_client(gerrit))
    assert first.applied == 0 and first.failed == 3
    assert all(r.result == "uncertain" and "read back: not applied" in r.error
               for r in logged(engine))
    sent_once = posts_by_path(gerrit)
    assert set(sent_once.values()) == {1}
    # Next cycle: read back first (still missing), then send, once.
    second = cycle(engine, config, slow_client(gerrit))
    assert second.applied == 3
    assert set(posts_by_path(gerrit).values()) == {2}
    assert gerrit.hashtags(gerrit.gated) == ["needs-noncore-review"]


def test_the_client_never_resends_a_write_itself(gerrit: Gerrit) -> None:
    client = slow_client(gerrit)
    client.retries = 3
    for fault in ("slow_after_apply", "reset_after_apply", "status"):
        gerrit.sb.clear_requests()
        gerrit.sb.inject_fault(fault, method="POST", status=502, delay=TIMEOUT * 2)
        with pytest.raises(GerritWriteUnconfirmed):
            client.set_hashtags(gerrit.gated, add=[f"t-{fault}"])
        assert len(gerrit.writes()) == 1
        assert client.hashtags_show(gerrit.gated, add=[f"T-{fault}"]) == (
            None if fault == "status" else sorted(gerrit.hashtags(gerrit.gated)))
    assert not client.review_posted(gerrit.gated, 1, MESSAGE_TAG)
