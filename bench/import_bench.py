"""Import benchmark: a 20,000-change SSH `gerrit query` JSON dump into a fresh SQLite store.

    .venv/bin/python bench/import_bench.py [--changes 20000] [--runs 3] [--rerun]

The dump is `bench/standing_bench.py`'s (`build_dump`: deterministic, ~12 messages
and ~9 vote events per change, 93 MB for 20,000 changes), cached in $BENCH_DIR
(default /tmp/reviewbot-import-bench). Each run imports it with `reviewbot import`
(the CLI, as a user would) in a fresh child process into a fresh SQLite file, so
wall time includes interpreter start, imports and the schema migration, and peak
RSS is that process's alone. CPU is the writing process's; the parser process's
(a dump of 4 MiB or more is parsed in a forked one) is reported apart, with how
long the writer waited for it: the slower of the two sets the wall time. `--rerun`
also times importing the same dump again into the filled store (nothing to write: the
incremental path, indexes kept).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

BENCH_DIR = Path(os.environ.get("BENCH_DIR", "/tmp/reviewbot-import-bench"))


def _child(db: str, dump: str) -> None:
    """Runs in a fresh interpreter: `reviewbot import DUMP` against `db`, then reports."""
    started = time.perf_counter()
    cpu = time.process_time()
    from multiprocessing import connection

    from reviewbot.cli import main

    # How long the writing process waits for the parser process's next batch: the
    # pipe's receive is the one place it blocks on it (`reviewbot.forked`).
    waited = [0.0]
    receive = connection.Connection.recv_bytes

    def timed_receive(self, *args):
        began = time.perf_counter()
        try:
            return receive(self, *args)
        finally:
            waited[0] += time.perf_counter() - began

    connection.Connection.recv_bytes = timed_receive

    config = Path(db).with_suffix(".toml")
    devnull = open(os.devnull, "w")
    real, sys.stdout = sys.stdout, devnull
    try:
        code = main(["--config", str(config), "import", dump])
    finally:
        sys.stdout = real
    if code != 0:
        raise SystemExit(f"reviewbot import exited {code}")
    parser = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "seconds": round(time.perf_counter() - started, 3),
        "cpu_seconds": round(time.process_time() - cpu, 3),
        "parser_cpu_seconds": round(parser.ru_utime + parser.ru_stime, 3),
        "waited_seconds": round(waited[0], 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }))


def _run_child(db: Path, dump: Path) -> dict:
    from standing_bench import _toml, bench_config

    db.with_suffix(".toml").write_text(_toml(bench_config(f"sqlite:///{db}")))
    out = subprocess.run(
        [sys.executable, __file__, "_child", str(db), str(dump)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        _child(sys.argv[2], sys.argv[3])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rerun", action="store_true")
    args = parser.parse_args()

    from standing_bench import build_dump

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    dump = BENCH_DIR / f"dump-{args.changes}.json"
    if not dump.exists():
        build_dump(dump, args.changes)
    fresh, again = [], []
    for _ in range(args.runs):
        db = BENCH_DIR / "import.db"
        for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            p.unlink(missing_ok=True)
        fresh.append(_run_child(db, dump))
        if args.rerun:
            again.append(_run_child(db, dump))
    results = {
        "changes": args.changes,
        "dump_mb": round(dump.stat().st_size / 2**20),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "import_seconds_median": statistics.median(r["seconds"] for r in fresh),
        "import_seconds_all": [r["seconds"] for r in fresh],
        "cpu_seconds_median": statistics.median(r["cpu_seconds"] for r in fresh),
        # A dump >= 4 MiB is parsed in a forked process: its CPU, and how long this
        # (writing) process waited for it.
        "parser_cpu_seconds_median": statistics.median(r["parser_cpu_seconds"] for r in fresh),
        "waited_for_parser_seconds_median": statistics.median(r["waited_seconds"]
                                                              for r in fresh),
        "peak_rss_mb_max": max(r["peak_rss_mb"] for r in fresh),
    }
    if again:
        results["rerun_seconds_median"] = statistics.median(r["seconds"] for r in again)
    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"{key.ljust(width)}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
