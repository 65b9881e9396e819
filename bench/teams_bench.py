"""Teams benchmark: one cycle for a deployment of two teams against one team over the same projects.

    .venv/bin/python bench/teams_bench.py [--changes 1000] [--runs 3]

The sandbox Gerrit serves one generated cycle from a separate process. Each run builds a
fresh SQLite store and runs one whole cycle (sync, evaluate, apply as a dry run, judge,
trends) with config/sandbox.toml (one team over the three sandbox projects) and with
config/sandbox-teams.toml (two teams over the same three projects). It prints, per
config, the Gerrit requests of the sync, the change-query requests among them, and the
cycle's wall and CPU time (this process, user + sys) as medians over the runs.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewbot.config import Secrets, validate_config  # noqa: E402
from reviewbot.gerrit.client import SYNC_OPTIONS, GerritClient  # noqa: E402
from reviewbot.service.cycle import run_cycle  # noqa: E402
from reviewbot.store import open_store  # noqa: E402

CONFIGS = ("sandbox.toml", "sandbox-teams.toml")


def _serve(changes: int, queue, stop) -> None:
    from reviewbot.sandbox import SandboxGerrit, generate_cycle
    from reviewbot.service.demo import add_demo_bot

    sb = SandboxGerrit()
    generate_cycle(sb, changes=changes, seed=3)
    config = validate_config(tomllib.loads((ROOT / "config" / "sandbox.toml").read_text()))
    user, password = add_demo_bot(sb, config)
    sb.prewarm(SYNC_OPTIONS)
    with sb.running() as url:
        queue.put((url, user, password))
        stop.wait()


def _cycle(name: str, url: str, secrets: Secrets, folder: Path) -> dict:
    data = tomllib.loads((ROOT / "config" / name).read_text())
    data["gerrit"] = {**data["gerrit"], "url": url}
    data["database"] = {"url": f"sqlite:///{folder / (name + '.db')}"}
    data["writeback"] = {**data.get("writeback", {}), "dry_run": True}
    config = validate_config(data)
    engine = open_store(config.database.url)
    client = GerritClient.from_config(config, secrets)
    cpu, wall = os.times(), time.perf_counter()
    summary = run_cycle(config, secrets, engine, client=client)
    after = os.times()
    engine.dispose()
    assert not summary.failed_steps, summary.steps
    sync = summary.steps["sync"].detail
    return {"teams": len(config.team_names), "sync_requests": sync["requests"],
            "query_requests": sync["query_requests"], "evaluated": summary.evaluated,
            "wall": time.perf_counter() - wall,
            "cpu": (after.user - cpu.user) + (after.system - cpu.system)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ctx = multiprocessing.get_context("spawn")
    queue, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=_serve, args=(args.changes, queue, stop), daemon=True)
    server.start()
    url, user, password = queue.get(timeout=600)
    secrets = Secrets(gerrit_username=user, gerrit_password=password)
    results: dict[str, list[dict]] = {name: [] for name in CONFIGS}
    try:
        for _ in range(args.runs):
            for name in CONFIGS:
                with tempfile.TemporaryDirectory() as folder:
                    results[name].append(_cycle(name, url, secrets, Path(folder)))
    finally:
        stop.set()
        server.join(timeout=10)
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    for name, runs in results.items():
        first = runs[0]
        print(f"{name}: teams {first['teams']}, sync requests {first['sync_requests']} "
              f"(change-query pages {first['query_requests']}), evaluated "
              f"{first['evaluated']}, cycle wall "
              f"{statistics.median(r['wall'] for r in runs):.2f} s, cpu "
              f"{statistics.median(r['cpu'] for r in runs):.2f} s (median of {len(runs)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
