"""Sync benchmark: full back-fill from the sandbox Gerrit, then a poll with nothing new.

    .venv/bin/python bench/sync_bench.py [--changes 5000] [--page-size 500] [--runs 3]

The sandbox runs in a separate process (as a real Gerrit would be), its
ChangeInfo bodies rendered ahead of time, so the figures measure this side:
HTTP + JSON decoding + normalising + SQLite upserts. Peak RSS is this
process's (resource.getrusage). Requests counted are every HTTP request the
client made during the sync: the change-query pages plus the per-run fixed
cost (server version once per client, core group members once per sync; the
default bot group "Service Users" comes from the accounts' SERVICE_USER tags
in the pages); retries would count too.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewbot.config import validate_config  # noqa: E402
from reviewbot.gerrit.client import SYNC_OPTIONS, GerritClient  # noqa: E402
from reviewbot.store import open_store  # noqa: E402
from reviewbot.sync.allocation import allow_collector_pause  # noqa: E402
from reviewbot.sync.rest import sync_once  # noqa: E402


def _serve(changes: int, seed: int, queue, stop) -> None:
    from reviewbot.sandbox import SandboxGerrit, generate_cycle

    sb = SandboxGerrit()
    generate_cycle(sb, changes=changes, seed=seed)
    sb.prewarm(SYNC_OPTIONS)
    stats = {
        "changes": len(sb.changes),
        "patch_sets": sum(len(c.patch_sets) for c in sb.changes.values()),
        "messages": sum(len(c.messages) for c in sb.changes.values()),
    }
    with sb.running() as url:
        queue.put((url, stats))
        stop.wait()


def _config(url: str, page_size: int):
    data = tomllib.loads((ROOT / "config" / "sandbox.toml").read_text())
    data["gerrit"] = {**data["gerrit"], "url": url, "page_size": page_size}
    return validate_config(data)


def run(changes: int, seed: int, page_size: int, runs: int) -> dict:
    allow_collector_pause()  # as `reviewbot sync` and the worker do
    ctx = multiprocessing.get_context("spawn")
    queue, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=_serve, args=(changes, seed, queue, stop), daemon=True)
    server.start()
    url, stats = queue.get(timeout=900)
    config = _config(url, page_size)
    fills, polls, results = [], [], {}
    try:
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as tmp:
                engine = open_store(f"sqlite:///{tmp}/bench.db")
                client = GerritClient(url, timeout=120, retries=0)
                cpu = time.process_time()
                summary = sync_once(client, engine, config)
                summary.cpu = time.process_time() - cpu
                fills.append(summary)
                poll_client = GerritClient(url, timeout=30, retries=0)
                poll_client.server_version()  # a worker keeps its client: version read once
                started = time.perf_counter()
                poll = sync_once(poll_client, engine, config)
                polls.append((time.perf_counter() - started, poll))
                engine.dispose()
    finally:
        stop.set()
        server.join(timeout=10)
    seconds = statistics.median(s.seconds for s in fills)
    synced = fills[0].seen
    results = {
        "sandbox": stats,
        "page_size": page_size,
        "changes_synced": synced,
        "messages_written": fills[0].messages,
        "votes_written": fills[0].votes,
        "backfill_seconds_median": round(seconds, 2),
        "backfill_seconds_all": [round(s.seconds, 2) for s in fills],
        "changes_per_second": round(synced / seconds),
        "client_cpu_seconds_median": round(statistics.median(s.cpu for s in fills), 2),
        "requests": fills[0].requests,
        "query_requests": fills[0].query_requests,
        "request_target": math.ceil(synced / page_size) + 2,
        "poll_seconds_median": round(statistics.median(p[0] for p in polls), 3),
        "poll_query_requests": polls[0][1].query_requests,
        "poll_requests": polls[0][1].requests,
        "poll_rows_written": polls[0][1].changes + polls[0][1].messages,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = run(args.changes, args.seed, args.page_size, args.runs)
    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"{key.ljust(width)}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
