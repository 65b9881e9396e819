"""Cycle trends: the latency rules on hand-built changes, then on a store synced from the
sandbox Gerrit: as of T they equal the trends of a copy truncated at T (DESIGN "Testing"),
the queue sizes equal the queues replayed, and the pages and /metrics show the series."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dashboards.app import create_app
from dashboards.trend_charts import trend_chart
from reviewbot.evaluate.verdicts import evaluate_store
from reviewbot.gerrit.client import GerritClient
from reviewbot.metrics.queue import QUEUE_GATE_STATES
from reviewbot.store import open_store, session_scope
from reviewbot.store.tables import Change
from reviewbot.sync.rest import sync_once
from reviewbot.views.queue_at import changes_at
from reviewbot.views.trends import (
    TrendWeek,
    cycle_trends,
    first_core_review,
    first_gate_plus1,
    latency_weeks,
    store_trends,
    trend_hour,
    week_starts,
)
from tests.rules.factory import ALICE, BOT, CORE, OWNER, T0, UPLOADER, make_change, roster
from tests.service_support import generated_sandbox, service_config
from tests.time_travel import truncate_copy

# make_change: patch set N uploaded at T0 + N days; history event i at T0 + ps days + i hours
LATER = T0 + timedelta(days=30)
ROWS = [
    # (id, history, gate +1 at, core review at)
    ("noncore-plus1", [(1, ALICE, 1)], T0 + timedelta(days=1), None),
    ("owner-bot-uploader-do-not-open", [(2, OWNER, 1), (2, BOT, 1), (2, UPLOADER, 1)],
     None, None),
    ("core-plus1-is-a-core-review-not-the-gate", [(1, CORE, 1), (1, ALICE, 1)],
     T0 + timedelta(days=1, hours=1), T0 + timedelta(days=1)),
    ("core-minus1-is-a-core-review", [(1, CORE, -1)], None, T0 + timedelta(days=1)),
    ("noncore-minus1-opens-nothing", [(1, ALICE, -1)], None, None),
]


@pytest.mark.parametrize(("history", "gate_at", "core_at"), [r[1:] for r in ROWS],
                         ids=[r[0] for r in ROWS])
def test_first_votes(history, gate_at, core_at) -> None:
    change = make_change(patch_sets=2, uploaders={2: UPLOADER}, history=history)
    assert first_gate_plus1(change, roster(), LATER) == gate_at
    assert first_core_review(change, roster(), LATER) == core_at


def test_nothing_after_t_is_read_and_waiting_is_counted() -> None:
    change = make_change(history=[(1, ALICE, 1)], created=T0)
    early = T0 + timedelta(hours=12)  # before alice's vote (T0 + 1 day)
    assert first_gate_plus1(change, roster(), early) is None
    starts = week_starts(T0.date(), T0.date() + timedelta(days=60), LATER)
    weeks = latency_weeks([change, make_change(101, created=T0)], roster(), starts, LATER)
    created, gates, gate_wait, cores, core_wait = weeks[T0.date()]
    assert (created, gates, gate_wait, cores, core_wait) == (2, [1.0], 1, [], 2)


def test_week_starts_stop_at_t_and_the_cycle_end() -> None:
    assert week_starts(date(2017, 1, 2), date(2017, 1, 20), datetime(2017, 3, 1)) == [
        date(2017, 1, 2), date(2017, 1, 9), date(2017, 1, 16)]
    assert week_starts(date(2017, 1, 2), date(2017, 3, 1), datetime(2017, 1, 9)) == [
        date(2017, 1, 2), date(2017, 1, 9)]


def test_chart_leaves_gaps_for_weeks_without_a_value() -> None:
    weeks = [TrendWeek(date(2017, 1, 2), 3, 2, 1.5, 0, None, 2),
             TrendWeek(date(2017, 1, 9), 6, 1, None, 1, 2.0, 0)]
    chart = trend_chart("t", " d", weeks, [("gate", "gate_latency_days"),
                                          ("core", "core_latency_days")])
    gate, core = chart.series
    assert [p.label for p in gate.points] == ["week of 2017-01-02: gate 1.5 d"]
    assert [p.label for p in core.points] == ["week of 2017-01-09: core 2 d"]
    assert chart.top_value == "2"


@pytest.fixture(scope="module")
def sandbox():
    with generated_sandbox(changes=70, seed=53) as generated:
        yield generated


@pytest.fixture
def synced(sandbox, store_url):
    sb, data = sandbox
    config = service_config(data, sb, store_url)
    engine = open_store(store_url)
    sync_once(GerritClient(sb.test_url), engine, config)
    with session_scope(engine) as session:
        first = session.execute(select(func.min(Change.created))).scalar()
        last = session.execute(select(func.max(Change.updated))).scalar()
    evaluate_store(engine, config, now=last + timedelta(hours=1))
    yield engine, config, first, last
    engine.dispose()


def test_queue_sizes_equal_the_queues_replayed(synced) -> None:
    engine, config, first, last = synced
    at = first + (last - first) * 0.7
    with session_scope(engine) as session:
        weeks = cycle_trends(session, config, at)
        assert weeks and sum(w.created for w in weeks) > 0
        for w in weeks[-4:]:
            end = min(datetime.combine(w.week_start + timedelta(days=7), datetime.min.time()),
                      at)
            replayed, _ = changes_at(session, config, end, replay_all=True)
            assert w.queue_size == sum(1 for c in replayed
                                       if c.open and c.gate_state in QUEUE_GATE_STATES)
    assert any(w.gate_latency_days is not None for w in weeks)
    assert any(w.core_latency_days is not None for w in weeks)


def test_as_of_t_equals_now_on_a_copy_truncated_at_t(sandbox, sqlite_url, tmp_path) -> None:
    # One store kind is enough here: the copy is made by tests.time_travel, whose own suite
    # runs on SQLite and PostgreSQL.
    sb, data = sandbox
    config = service_config(data, sb, sqlite_url)
    engine = open_store(sqlite_url)
    sync_once(GerritClient(sb.test_url), engine, config)
    with session_scope(engine) as session:
        first = session.execute(select(func.min(Change.created))).scalar()
        last = session.execute(select(func.max(Change.updated))).scalar()
    evaluate_store(engine, config, now=last + timedelta(hours=1))
    at = first + (last - first) * 0.55
    part = open_store(f"sqlite:///{tmp_path / 'part.db'}")
    truncate_copy(engine, part, at)
    evaluate_store(part, config, now=at)
    with session_scope(engine) as whole, session_scope(part) as cut:
        weeks = cycle_trends(whole, config, at)
        assert weeks == cycle_trends(cut, config, at)
    assert any(w.gate_latency_days is not None for w in weeks)
    part.dispose()
    engine.dispose()


def test_pages_and_metrics_show_the_series(synced) -> None:
    engine, config, first, last = synced
    at = last + timedelta(hours=1)
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    with session_scope(engine) as session:
        weeks = cycle_trends(session, config, at)
        hourly = cycle_trends(session, config, trend_hour(at))
    with TestClient(create_app(config, engine=engine)) as client:
        before = client.get("/metrics").text
        assert store_trends(engine, config, at) == {"weeks": len(hourly), "computed": 1}
        assert store_trends(engine, config, at + timedelta(minutes=5))["computed"] == 0
        priorities = client.get(f"/priorities?as_of={stamp}").text
        reviewers = client.get(f"/reviewers?as_of={stamp}").text
        present = client.get("/priorities").text
        metrics = client.get("/metrics").text
    assert "reviewbot_trend_queue_size{" not in before  # a scrape never replays the cycle
    for page in (priorities, reviewers):
        assert page.count('<svg class="trend"') == 2 and "Trends over the cycle" in page
        assert f"week of {weeks[-1].week_start}: queue size {weeks[-1].queue_size}" in page
    assert f"Trends over the cycle, as of {trend_hour(at):%Y-%m-%d %H:%M} UTC" in present
    sizes = dict(re.findall(r'reviewbot_trend_queue_size\{week_start="([\d-]+)"\} (\d+)',
                            metrics))
    assert {k: int(v) for k, v in sizes.items()} == {w.week_start.isoformat(): w.queue_size
                                                     for w in hourly}
    assert "# TYPE reviewbot_trend_gate_latency_days gauge" in metrics
