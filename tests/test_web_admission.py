"""Web load: lanes and the pool are sized together, so many clients at once all get answers."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest
import uvicorn

from dashboards.admission import lane_of, thread_tokens
from dashboards.app import create_app
from reviewbot.config import ConfigError, validate_config
from reviewbot.store import session_scope
from tests.conftest import make_config
from tests.store_builder import add_account, add_change, add_core, set_verdict

T = datetime(2017, 1, 20, 12, 0)


def _fill(engine) -> None:
    with session_scope(engine) as s:
        add_account(s, 1, "alice")
        add_account(s, 7, "carol")
        add_core(s, "glance-core", 1)
        for n in range(100, 160):
            add_change(s, n, 7, subject=f"Change {n}", created=T - timedelta(days=n % 9))
            set_verdict(s, n, "gated" if n % 2 else "open", gate_reason="reason")


@pytest.fixture
def serve() -> Iterator:
    """Run an app under real uvicorn on a loopback port, as `reviewbot web` does."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app) -> str:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(10)


async def _burst(base: str, paths: list[str], clients: int, rounds: int,
                 timeout: float) -> list[int | str]:
    # Idle connections are dropped before uvicorn's 5 s keep-alive does: otherwise a request
    # can go out on a connection the server is closing that instant (a client-side race that
    # browsers absorb by retrying, httpx does not).
    limits = httpx.Limits(max_connections=clients, keepalive_expiry=2.0)
    async with httpx.AsyncClient(limits=limits) as client:
        async def one(i: int) -> list[int | str]:
            out: list[int | str] = []
            for r in range(rounds):
                try:
                    resp = await client.get(base + paths[(i + r) % len(paths)], timeout=timeout)
                    out.append(resp.status_code)
                except httpx.TimeoutException:
                    out.append("timeout")
            return out
        results = await asyncio.gather(*(one(i) for i in range(clients)))
    return [x for xs in results for x in xs]


def test_many_clients_at_once_all_get_answers_from_a_file_store(serve, sandbox_config_data,
                                                                 sqlite_url):
    # Before the lanes: a pool of 15 under 40 threads locked up as soon as more requests
    # held connections than the pool had (each JSON answer needs a second thread while its
    # connection is held); every request then waited the pool's 30 s timeout.
    config = make_config(sandbox_config_data, database={"url": sqlite_url},
                         web={"concurrency": 4, "heavy_concurrency": 1})
    app = create_app(config)
    _fill(app.state.reviewbot.engine)
    base = serve(app)
    paths = ["/api/v1/changes?state=gated", "/api/v1/changes/101", "/api/v1/actions",
             "/changes", "/metrics", f"/report.csv?as_of={T:%Y-%m-%d}", "/"]
    statuses = asyncio.run(_burst(base, paths, clients=200, rounds=4, timeout=25))
    assert statuses.count(200) == len(statuses), sorted(set(map(str, statuses)))


def test_the_web_pool_is_sized_from_the_lanes(sandbox_config_data, sqlite_url):
    config = make_config(sandbox_config_data, database={"url": sqlite_url},
                         web={"concurrency": 5, "heavy_concurrency": 2})
    assert config.web_lanes_total == 5 + 2 + 2
    app = create_app(config)
    pool = app.state.reviewbot.engine.pool
    assert pool.size() == config.web_pool_size == 9 + 3
    assert pool._max_overflow == 0  # the bound is the point of the test
    assert thread_tokens(config) == config.web_pool_size


def test_a_pool_smaller_than_the_lanes_is_refused_naming_both_keys(sandbox_config_data):
    data = {**sandbox_config_data, "database": {"url": "sqlite:///x.db", "pool_size": 15},
            "web": {"concurrency": 40}}
    with pytest.raises(ConfigError) as err:
        validate_config(data)
    (problem,) = err.value.problems
    assert problem.startswith("database.pool_size: 15 is smaller than the web process needs")
    assert "web.concurrency 40" in problem


@pytest.mark.parametrize(("path", "lane"), [
    ("/", "pages"), ("/queue", "pages"), ("/api/v1/changes/5", "pages"),
    ("/priorities", "heavy"), ("/report.csv", "heavy"), ("/api/v1/report", "heavy"),
    ("/reviewers/alice", "heavy"), ("/api/v1/reviewers", "heavy"),
    ("/healthz", "ops"), ("/metrics", "ops"), ("/static/style.css", None),
])
def test_lanes_by_path(path, lane):
    assert lane_of(path) == lane


def test_identical_heavy_requests_at_once_share_one_answer_and_others_do_not(
        serve, sandbox_config_data, sqlite_url):
    config = make_config(sandbox_config_data, database={"url": sqlite_url},
                         web={"heavy_concurrency": 1})
    app = create_app(config)
    _fill(app.state.reviewbot.engine)
    base = serve(app)

    async def fetch() -> list[httpx.Response]:
        async with httpx.AsyncClient() as client:
            urls = [f"{base}/report.csv?as_of=2017-01-{d}" for d in (10, 20) for _ in range(6)]
            return await asyncio.gather(*(client.get(u, timeout=30) for u in urls))

    answers = asyncio.run(fetch())
    assert [r.status_code for r in answers] == [200] * 12
    first, second = answers[:6], answers[6:]
    assert len({r.content for r in first}) == 1 and len({r.content for r in second}) == 1
    assert first[0].content != second[0].content  # a different as_of is its own answer
    assert first[0].headers["content-disposition"].endswith('20170110.csv"')


def test_a_request_that_finds_no_connection_answers_503_after_the_pool_timeout(
        sandbox_config_data, sqlite_url):
    # Something outside the lanes holds every connection (a stuck query, say): the request
    # waits database.pool_timeout, then gets a 503 with Retry-After, never hangs.
    from fastapi.testclient import TestClient

    config = make_config(sandbox_config_data, database={"url": sqlite_url, "pool_timeout": 0.5},
                         web={"concurrency": 1, "heavy_concurrency": 1})
    app = create_app(config)
    engine = app.state.reviewbot.engine
    held = [engine.connect() for _ in range(config.web_pool_size)]
    try:
        started = time.monotonic()
        response = TestClient(app).get("/api/v1/changes")
        waited = time.monotonic() - started
    finally:
        for conn in held:
            conn.close()
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert "no connection free within 0.5 s" in response.json()["detail"]
    assert 0.4 < waited < 10
    assert TestClient(app).get("/api/v1/changes").status_code == 200  # and back once freed
