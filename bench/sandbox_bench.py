"""Sandbox Gerrit benchmark: generation, memory, rendering and serving speed of the fake Gerrit.

    .venv/bin/python bench/sandbox_bench.py [--changes 5000 20000] [--runs 3]

Per size, in a fresh child process (so peak RSS is the sandbox's alone):
generate the cycle, render every change cold for the sync option set, then
serve a full back-fill (`after:` query, pages of 500) twice over real HTTP,
reading raw bytes without JSON decoding, so the figure is the server's side.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _measure(changes: int, queue) -> None:
    import requests

    from reviewbot.sandbox import SYNC_OPTIONS, SandboxGerrit, generate_cycle

    started = time.perf_counter()
    sb = SandboxGerrit()
    generate_cycle(sb, changes=changes, seed=1)
    gen = time.perf_counter() - started
    rss_gen = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    sb.prewarm(SYNC_OPTIONS)
    render = time.perf_counter() - started
    cached_mb = sum(len(b) for c in sb.changes.values() for b in c.cache.values()) / 2**20
    serve = []
    with sb.running() as url:
        session = requests.Session()
        for _ in range(2):
            started = time.perf_counter()
            start, total = 0, 0
            while True:
                resp = session.get(url + "/changes/", params={
                    "q": 'after:"2016-10-01 00:00:00"', "o": sorted(SYNC_OPTIONS), "n": 500,
                    "S": start}, headers={"Accept": "application/json"})
                total += len(resp.content)
                start += 500
                if not resp.content.rstrip().endswith(b'"_more_changes":true}]'):
                    break
            serve.append(time.perf_counter() - started)
    queue.put({
        "changes": changes,
        "messages": sum(len(c.messages) for c in sb.changes.values()),
        "patch_sets": sum(len(c.patch_sets) for c in sb.changes.values()),
        "generate_s": gen,
        "rss_after_generate_mb": rss_gen,
        "cold_render_per_s": changes / render,
        "cached_mb": cached_mb,
        "serve_per_s": changes / min(serve),
        "body_mb": total / 2**20,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    })


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ctx = multiprocessing.get_context("spawn")
    for changes in args.changes:
        results = []
        for _ in range(args.runs):
            queue = ctx.Queue()
            proc = ctx.Process(target=_measure, args=(changes, queue))
            proc.start()
            results.append(queue.get(timeout=1800))
            proc.join()
        first = results[0]
        print(f"{changes} changes: {first['patch_sets'] / changes:.1f} patch sets and "
              f"{first['messages'] / changes:.1f} messages per change; "
              f"wire size {first['body_mb']:.0f} MB for the sync option set")
        for key in ("generate_s", "rss_after_generate_mb", "cold_render_per_s", "cached_mb",
                    "serve_per_s", "peak_rss_mb"):
            values = sorted(r[key] for r in results)
            print(f"  {key:24s} median {statistics.median(values):10.1f}   "
                  f"(range {values[0]:.1f}..{values[-1]:.1f}, {len(values)} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
