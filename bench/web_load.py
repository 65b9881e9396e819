"""Benchmark: the web app under 200 concurrent clients for 30 s, on SQLite and PostgreSQL.

Builds a store of 2,000 changes from the sandbox generator (the sandbox Gerrit in
a child process, one real cycle: sync, evaluate, dry-run apply, judge), starts
`reviewbot web` (uvicorn, as in production) on a free loopback port, then runs
N asyncio clients, each requesting the main pages and APIs in turn until the
duration is over. Every request has a client deadline (the whole request, from
sending to the last byte); the run passes when there is no error (no 5xx, no
unexpected status, no connection error) and no timeout.
Everything is on 127.0.0.1; the run stops by itself (duration + one timeout),
and the server, sandbox and any PostgreSQL database it made are removed.

    .venv/bin/python bench/web_load.py [--db sqlite|postgresql|both] [--clients 200]
        [--seconds 30] [--changes 2000] [--timeout 30]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/test]

Prints one JSON line per database (throughput, p50/p95/p99 in ms, per-route
counts) and exits 1 if any run had an error or a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewbot.config import Secrets, validate_config  # noqa: E402
from reviewbot.sandbox.process import sandbox_process  # noqa: E402
from reviewbot.store import normalise_url, open_store  # noqa: E402

SEED = 3
AS_OF = "2017-01-20"  # inside the generated cycle: queues, standing and the report have data


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config_data(gerrit_url: str, store_url: str) -> dict:
    data = tomllib.loads((ROOT / "config" / "sandbox.toml").read_text())
    data["gerrit"] = {**data["gerrit"], "url": gerrit_url}
    data["database"] = {**data.get("database", {}), "url": store_url}
    # Dry run: the actions log fills (the /actions pages have rows) and Gerrit is not written.
    data["writeback"] = {**data.get("writeback", {}), "enabled": True, "dry_run": True}
    return data


def _toml(data: dict) -> str:
    """Just enough TOML for the sandbox config's shapes (tables, arrays of tables, scalars)."""
    def value(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + "}"
        return json.dumps(str(v))  # dates

    lines = [f"{k} = {value(v)}" for k, v in data.items()
             if not isinstance(v, (dict, list)) or (isinstance(v, list) and v
                                                     and not isinstance(v[0], dict))]
    for k, v in data.items():
        if isinstance(v, dict):
            lines.append(f"\n[{k}]")
            lines += [f"{kk} = {value(vv)}" for kk, vv in v.items()]
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            for item in v:
                lines.append(f"\n[[{k}]]")
                lines += [f"{kk} = {value(vv)}" for kk, vv in item.items()]
    return "\n".join(lines) + "\n"


def build_store(store_url: str, changes: int) -> dict:
    """One real cycle from a sandbox Gerrit of `changes` changes into `store_url`."""
    from reviewbot.service.cycle import run_cycle

    started = time.monotonic()
    with sandbox_process(changes=changes, seed=SEED) as url:
        config = validate_config(_config_data(url, store_url))
        engine = open_store(store_url)
        try:
            summary = run_cycle(config, Secrets(), engine)
            if engine.dialect.name == "postgresql":
                # What autovacuum does within a minute of a bulk load: without table
                # statistics the planner guesses 1 row per table and the report's message
                # reads take 1-2 s instead of 15 ms (a nested loop over 600 changes).
                with engine.connect() as conn:
                    conn.exec_driver_sql("ANALYZE")
                    conn.commit()
        finally:
            engine.dispose()
    if summary.failed_steps:
        raise SystemExit(f"building the store failed: {summary.log_line()}")
    return {"build_seconds": round(time.monotonic() - started, 1), "cycle": summary.log_line()}


def _targets(base: str, store_url: str) -> list[tuple[str, str]]:
    """(route label, path) for the main pages and APIs, with real names and numbers."""
    from sqlalchemy import text

    engine = open_store(store_url, migrate=False)
    with engine.connect() as conn:
        numbers = [r[0] for r in conn.execute(text(
            "SELECT number FROM change ORDER BY number LIMIT 5"))]
    engine.dispose()
    board = httpx.get(f"{base}/api/v1/reviewers?as_of={AS_OF}", timeout=120).json()
    names = [r["username"] for r in board["reviewers"]][:3] or ["mkoval"]
    core = "mkoval"
    n = numbers[len(numbers) // 2]
    return [
        ("/", "/"),
        ("/queue", "/queue"),
        ("/queue?reviewer", f"/queue?reviewer={core}&as_of={AS_OF}"),
        ("/changes", "/changes"),
        ("/changes?gate", "/changes?gate=gated"),
        ("/changes/{n}", f"/changes/{n}?reviewer={core}&as_of={AS_OF}"),
        ("/priorities", f"/priorities?as_of={AS_OF}"),
        ("/reviewers", f"/reviewers?as_of={AS_OF}"),
        ("/reviewers/{name}", f"/reviewers/{names[0]}?as_of={AS_OF}"),
        ("/actions", "/actions"),
        ("/api/v1/queue", f"/api/v1/queue?reviewer={core}&as_of={AS_OF}"),
        ("/api/v1/changes", "/api/v1/changes?state=gated"),
        ("/api/v1/changes/{n}", f"/api/v1/changes/{n}"),
        ("/api/v1/report", f"/api/v1/report?as_of={AS_OF}"),
        ("/api/v1/reviewers", f"/api/v1/reviewers?as_of={AS_OF}"),
        ("/api/v1/reviewers/{name}", f"/api/v1/reviewers/{names[-1]}?as_of={AS_OF}"),
        ("/api/v1/actions", "/api/v1/actions"),
        ("/report.csv", f"/report.csv?as_of={AS_OF}"),
        ("/metrics", "/metrics"),
        ("/healthz", "/healthz"),
    ]


async def _load(base: str, targets: list[tuple[str, str]], clients: int, seconds: float,
                timeout: float) -> dict:
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: Counter[str] = Counter()
    errors: list[str] = []
    timeouts = 0
    stop_at = time.monotonic() + seconds
    # Idle connections are dropped before uvicorn's 5 s keep-alive closes them, so a request
    # is never sent on a connection the server is closing at that moment (a client race).
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients,
                          keepalive_expiry=2.0)

    async def one_client(i: int, client: httpx.AsyncClient) -> None:
        nonlocal timeouts
        k = i  # each client starts at a different route, so every route is busy at once
        while time.monotonic() < stop_at:
            label, path = targets[k % len(targets)]
            k += 1
            t0 = time.perf_counter()
            try:
                # A deadline on the whole request (httpx's own timeout is per phase: a
                # response trickling in could take longer than `timeout` in total).
                r = await asyncio.wait_for(client.get(base + path, timeout=timeout), timeout)
            except (httpx.TimeoutException, TimeoutError):
                timeouts += 1
                continue
            except httpx.HTTPError as exc:
                errors.append(f"{label}: {type(exc).__name__}: {exc}")
                continue
            latencies[label].append(time.perf_counter() - t0)
            # /healthz answers 503 when the sandbox's last sync is older than 3 poll
            # intervals; that is its contract, not an overload error.
            ok = r.status_code == 200 or (label == "/healthz" and r.status_code == 503)
            statuses[f"{r.status_code}"] += 1
            if not ok:
                errors.append(f"{label}: HTTP {r.status_code}: {r.text[:200]}")

    started = time.monotonic()
    async with httpx.AsyncClient(limits=limits) as client:
        await asyncio.gather(*(one_client(i, client) for i in range(clients)))
    wall = time.monotonic() - started
    every = sorted(x for xs in latencies.values() for x in xs)

    def pct(xs: list[float], p: float) -> float:
        return round(1000 * xs[min(len(xs) - 1, int(p * len(xs)))], 1) if xs else 0.0

    return {
        "requests_ok": len(every) - sum(1 for e in errors if "HTTP" in e),
        "answers": len(every), "errors": len(errors), "timeouts": timeouts,
        "error_samples": errors[:5], "statuses": dict(statuses),
        "wall_seconds": round(wall, 1), "throughput_rps": round(len(every) / wall, 1),
        "p50_ms": pct(every, 0.50), "p95_ms": pct(every, 0.95), "p99_ms": pct(every, 0.99),
        "routes": {label: {"n": len(xs), "p50_ms": round(1000 * statistics.median(xs), 1),
                           "p99_ms": pct(sorted(xs), 0.99)}
                   for label, xs in sorted(latencies.items())},
    }


def _start_web(config_path: Path, port: int, log_path: Path) -> subprocess.Popen:
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "reviewbot.cli", "--config", str(config_path), "web",
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return proc
        except httpx.TransportError:
            if proc.poll() is not None:
                raise SystemExit(
                    f"reviewbot web exited: {log_path.read_text()[-2000:]}") from None
            if time.monotonic() > deadline:
                proc.kill()
                raise SystemExit("reviewbot web did not answer within 120 s") from None
            time.sleep(0.3)


def run_one(db: str, args: argparse.Namespace, work: Path) -> dict:
    admin = None
    if db == "sqlite":
        store_url = f"sqlite:///{work / 'reviewbot.db'}"
    else:
        from sqlalchemy import create_engine, text

        name = f"reviewbot_webload_{uuid.uuid4().hex[:8]}"
        admin = create_engine(normalise_url(args.postgres_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        store_url = f"{args.postgres_url.rsplit('/', 1)[0]}/{name}"
    proc = None
    try:
        built = build_store(store_url, args.changes)
        config_path = work / f"web-{db}.toml"
        data = _config_data("http://127.0.0.1:9", store_url)
        for section, values in args.extra_config.items():
            data[section] = {**data.get(section, {}), **values}
        config_path.write_text(_toml(data))
        port = _free_port()
        proc = _start_web(config_path, port, work / f"web-{db}.log")
        base = f"http://127.0.0.1:{port}"
        targets = _targets(base, store_url)
        # Warm-up: one request per route, so the first requests do not time the caches.
        for _label, path in targets:
            httpx.get(base + path, timeout=120)
        load1 = os.getloadavg()
        result = asyncio.run(_load(base, targets, args.clients, args.seconds, args.timeout))
        result.update(db=db, clients=args.clients, seconds=args.seconds, changes=args.changes,
                      client_timeout_s=args.timeout, load_avg_before=round(load1[0], 2),
                      load_avg_after=round(os.getloadavg()[0], 2), **built)
        if result["errors"] or result["timeouts"]:
            result["server_log_tail"] = (work / f"web-{db}.log").read_text()[-3000:]
        return result
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--changes", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="client timeout per request, seconds (a slower answer counts "
                             "as a timeout)")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "REVIEWBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override a config key of the web process (e.g. web.threads=40)")
    args = parser.parse_args()
    if not 1 <= args.clients <= 1000 or not 0 < args.seconds <= 600:
        parser.error("--clients must be 1..1000 and --seconds 0..600 (the run is bounded)")
    args.extra_config = {}
    for item in args.set:
        key, _, raw = item.partition("=")
        section, _, name = key.partition(".")
        args.extra_config.setdefault(section, {})[name] = tomllib.loads(f"v = {raw}")["v"]
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    failed = False
    with tempfile.TemporaryDirectory(prefix="web-load-") as tmp:
        for db in dbs:
            work = Path(tmp)
            result = run_one(db, args, work)
            print(json.dumps(result), flush=True)
            failed |= bool(result["errors"] or result["timeouts"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
