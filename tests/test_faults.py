"""Fault suite (`pytest -m faults`): back-fills and write-back through every fault the sandbox
Gerrit can inject, over real HTTP with the production client. The store must end equal to the
sandbox's truth by content, the cursor must never skip, a damaged page is read again alone
(never the whole query), and no write reaches Gerrit twice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reviewbot.actions.writeback import apply
from reviewbot.clock import utcnow
from reviewbot.config import Secrets
from reviewbot.evaluate.verdicts import evaluate_store
from reviewbot.gerrit.client import GerritClient
from reviewbot.gerrit.errors import GerritError
from reviewbot.sandbox import Activity, SandboxGerrit, generate_cycle
from reviewbot.store import open_store, session_scope
from reviewbot.store.actions import unconfirmed_writes
from reviewbot.sync.rest import sync_once
from tests.conftest import make_config
from tests.fault_support import (
    differences,
    query_starts,
    reached_gerrit,
    repeated_writes,
    sandbox_truth,
    store_content,
    store_truth,
)
from tests.service_support import bot_secrets

pytestmark = pytest.mark.faults

CHANGES = 2100  # ~2,000 in the configured scope: a 200-page back-fill at 10 a page
TIMEOUT = 0.5
QUERY = "/changes/?"


def config_for(data: dict, url: str, database: str, page_size: int, retries: int = 4,
               timeout: float = TIMEOUT):
    return make_config(data, gerrit={**data["gerrit"], "url": url, "page_size": page_size,
                                     "timeout": timeout, "retries": retries},
                       database={"url": database})


def client_for(config, secrets: Secrets | None = None) -> GerritClient:
    client = GerritClient.from_config(config, secrets or Secrets())
    client.backoff_base = 0.001  # the schedule is urllib3's; only the waits are shortened
    return client


@pytest.fixture(scope="module")
def gerrit(sandbox_config_data_module) -> Iterator[SandboxGerrit]:
    sb = SandboxGerrit()
    generate_cycle(sb, changes=CHANGES, seed=14)
    with sb.running() as url:
        sb.test_url = url
        yield sb


@pytest.fixture(scope="module")
def sandbox_config_data_module() -> dict:
    import tomllib

    from tests.conftest import ROOT

    return tomllib.loads((ROOT / "config" / "sandbox.toml").read_text())


@pytest.fixture(scope="module")
def truth(gerrit, sandbox_config_data_module, tmp_path_factory) -> dict:
    """A fault-free back-fill of the same sandbox: the content every faulted one must equal."""
    url = f"sqlite:///{tmp_path_factory.mktemp('reference') / 'reference.db'}"
    # The reference runs without faults, so a slow (loaded) machine must not fail it.
    config = config_for(sandbox_config_data_module, gerrit.test_url, url, page_size=500,
                        timeout=30)
    engine = open_store(url)
    sync_once(client_for(config), engine, config)
    content = store_content(engine)
    engine.dispose()
    assert sandbox_truth(gerrit, config)["cursor"] == content["cursor"][0][0]
    return content


@pytest.fixture(autouse=True)
def fresh_log(gerrit):
    gerrit.clear_faults()
    gerrit.clear_requests()
    yield
    gerrit.clear_faults()


def test_a_200_page_backfill_with_truncated_pages_finishes_in_one_sync(
        gerrit, truth, store_engine, store_url, sandbox_config_data_module):
    """Was: a truncated page failed the sync and the next one began again at page 1;
    with 5% truncated bodies a 200-page back-fill never got past page 38."""
    config = config_for(sandbox_config_data_module, gerrit.test_url, store_url, page_size=10)
    gerrit.fault_random.seed(200)
    gerrit.inject_fault("truncate", path_contains=QUERY, chance=0.05, count=10_000)
    gerrit.inject_fault("disconnect", path_contains=QUERY, chance=0.02, count=10_000)
    summary = sync_once(client_for(config), store_engine, config)  # one sync, no exception
    starts = query_starts(gerrit)
    assert summary.pages >= 200
    damaged = len(starts) - summary.pages
    assert damaged >= 5, "the faults must actually have hit some pages"
    # Every damaged page was read again at once, alone: offsets never go back.
    assert starts == sorted(starts)
    assert len(set(starts)) == summary.pages
    assert differences(store_content(store_engine), truth) == []
    assert store_truth(store_engine) == sandbox_truth(gerrit, config)


READ_FAULTS = [  # (kind, extra, chance) on every read: query pages, groups, version
    ("status", {"status": 500}, 0.03),
    ("status", {"status": 502}, 0.03),
    ("status", {"status": 503}, 0.03),
    ("rate_limit", {"retry_after": 1}, 0.02),
    ("slow", {"delay": TIMEOUT * 1.6}, 0.02),
    ("truncate", {}, 0.03),
    ("disconnect", {}, 0.02),
    ("reset", {}, 0.03),
    ("garbage", {}, 0.01),
]


def inject_read_faults(sb: SandboxGerrit, seed: int) -> None:
    sb.fault_random.seed(seed)
    for kind, extra, chance in READ_FAULTS:
        sb.inject_fault(kind, method="GET", chance=chance, count=10_000, **extra)


def test_a_2000_change_backfill_through_every_fault_ends_equal_to_the_truth(
        gerrit, truth, store_engine, store_url, sandbox_config_data_module):
    config = config_for(sandbox_config_data_module, gerrit.test_url, store_url, page_size=100,
                        retries=6)
    inject_read_faults(gerrit, seed=2000)
    summary = sync_once(client_for(config), store_engine, config)
    hit = [r for r in gerrit.requests if r.status != 200]
    assert len(hit) >= 5, "the faults must actually have hit some requests"
    assert summary.requests == len(gerrit.requests)  # every attempt counted
    starts = query_starts(gerrit)
    assert starts == sorted(starts)  # the query never started over
    assert differences(store_content(store_engine), truth) == []
    assert store_truth(store_engine) == sandbox_truth(gerrit, config)
    # And a re-run through the same faults writes nothing: it already holds the truth.
    again = sync_once(client_for(config), store_engine, config, full=True)
    assert again.changes == 0 and again.messages == 0 and again.votes == 0


WRITE_FAULTS = [  # on writes: answers lost after Gerrit applied them, or refused before
    ("slow_after_apply", {"delay": TIMEOUT * 1.6}, 0.04),
    ("reset_after_apply", {}, 0.04),
    ("slow", {"delay": TIMEOUT * 1.6}, 0.02),  # applied after the client gave up
    ("status", {"status": 500}, 0.03),  # refused before applying
    ("status", {"status": 503}, 0.03),
    ("reset", {}, 0.03),  # dropped before applying
    ("rate_limit", {"retry_after": 0}, 0.02),
]


def test_writes_through_faults_reach_gerrit_once_and_polls_never_skip(
        store_url, sandbox_config_data_module, tmp_path):
    """Its own sandbox (it writes to Gerrit and moves it on)."""
    sb = SandboxGerrit()
    generate_cycle(sb, changes=400, seed=15)
    data = sandbox_config_data_module
    from reviewbot.service.demo import add_demo_bot

    with sb.running() as url:
        sb.test_url = url
        config = config_for(data, url, store_url, page_size=50, retries=6)
        sb.bot_username, sb.bot_password = add_demo_bot(sb, config)
        secrets = bot_secrets(sb)
        engine = open_store(store_url)
        client = client_for(config, secrets)
        sync_once(client, engine, config)
        sb.fault_random.seed(400)
        for kind, extra, chance in WRITE_FAULTS:
            sb.inject_fault(kind, method="POST", chance=chance, count=10_000, **extra)
        sb.inject_fault("slow", method="GET", path_contains="/hashtags", chance=0.1,
                        count=10_000, delay=TIMEOUT * 1.6)  # some read-backs fail too
        cycles = []
        for _ in range(12):  # bounded: each cycle is a sync, an evaluation and the writes
            try:
                sync_once(client, engine, config)
            except GerritError:
                pass
            evaluate_store(engine, config)
            cycles.append(apply(engine, config, client))
            if cycles[-1].planned == 0:
                break
        assert cycles[-1].planned == 0, [c.note for c in cycles]
        lost = sum(c.confirmed for c in cycles)
        assert lost >= 1, "some answers must have been lost and confirmed by reading back"
        assert repeated_writes(sb) == []
        # Every write Gerrit handled is logged applied, or still "uncertain" when it landed
        # after its read-back (slow, then applied) and the next sync made it moot.
        applied = sum(c.applied for c in cycles)
        with session_scope(engine) as session:
            still_uncertain = len(unconfirmed_writes(session))
        assert applied <= len(reached_gerrit(sb)) <= applied + still_uncertain
        assert applied > 50

        # Gerrit moves on; polls through read faults keep up and never skip a change.
        sb.clear_faults()
        activity = Activity(sb, seed=16)
        inject_read_faults(sb, seed=401)
        for _ in range(3):
            for _ in range(10):
                activity.step(utcnow())
            sync_once(client, engine, config)
        sb.clear_faults()
        assert store_truth(engine) == sandbox_truth(sb, config)
        reference_url = f"sqlite:///{tmp_path / 'reference.db'}"
        reference = open_store(reference_url)
        sync_once(client_for(config), reference,
                  config.model_copy(update={"database": config.database.model_copy(
                      update={"url": reference_url})}))
        assert differences(store_content(engine), store_content(reference)) == []
        engine.dispose()
        reference.dispose()
