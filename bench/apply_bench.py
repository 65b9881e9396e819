"""Apply bench: the write-back step on a filled store, first and when nothing moved.

    .venv/bin/python bench/apply_bench.py [--changes 20000] [--events 300000] [--runs 5]

The store is `queue_bench.build_store`'s (deterministic bulk insert: N open changes, 1-5
patch sets each, vote events each with its message), evaluated once with `reviewbot
evaluate --full`, kept in $BENCH_DIR. Write-back is enabled in dry-run mode, so the
plan is computed and logged exactly as for real writes, and no Gerrit is needed. Timed,
in this process, cold from the store each time:

- first apply: every open change planned (no `applied_change` rows yet);
- quiet apply: the next cycle when nothing moved (the worker's common case);
- three changes moved (their `revision` bumped, as a sync writing them does; the
  evaluate step, not timed here, would re-evaluate them, their verdicts stay);
- `apply --all`: every open change planned again (what every cycle did before apply
  became incremental).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

BENCH_DIR = Path(os.environ.get("BENCH_DIR", "/tmp/reviewbot-bench"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from queue_bench import build_store, write_config
    from sqlalchemy import delete

    from reviewbot.actions.writeback import apply
    from reviewbot.config import load_config
    from reviewbot.store import open_store, session_scope
    from reviewbot.store.changes import bump_revisions
    from reviewbot.store.tables import ActionLog, AppliedChange

    folder = BENCH_DIR / f"queue-store-{args.changes}-{args.events}"  # shared with startup
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "bench.db"
    url = f"sqlite:///{db}"
    path = write_config(folder, url)
    if not db.exists():
        started = time.perf_counter()
        build_store(url, args.changes, args.events)
        # The store is built without verdicts: the evaluate step makes them, as a cycle does.
        subprocess.run([str(Path(sys.executable).parent / "reviewbot"), "--config", str(path),
                        "evaluate", "--full"], check=True, capture_output=True)
        print(f"built and evaluated the store in {time.perf_counter() - started:.1f}s ({db})",
              flush=True)
    path.write_text(path.read_text() + '\n[writeback]\nenabled = true\ndry_run = true\n')
    config = load_config(str(path))
    engine = open_store(url)

    def reset() -> None:
        with session_scope(engine) as session:
            session.execute(delete(AppliedChange))
            session.execute(delete(ActionLog))

    def timed(**kwargs) -> tuple[float, object]:
        started = time.perf_counter()
        summary = apply(engine, config, client=None, **kwargs)
        return time.perf_counter() - started, summary

    first, quiet, moved, everything = [], [], [], []
    for _ in range(args.runs):
        reset()
        seconds, summary = timed()
        first.append((seconds, summary))
        seconds, summary = timed()
        quiet.append((seconds, summary))
        with session_scope(engine) as session:
            bump_revisions(session.connection(), [11, 12, 13])
        seconds, summary = timed()
        moved.append((seconds, summary))
        seconds, summary = timed(everything=True)
        everything.append((seconds, summary))
    engine.dispose()

    def line(rows: list) -> str:
        seconds = [s for s, _ in rows]
        return (f"{statistics.median(seconds):.3f} s (min {min(seconds):.3f}, max "
                f"{max(seconds):.3f}) — {rows[-1][1].line()}")

    print(f"load average      {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"first apply       {line(first)}")
    print(f"nothing moved     {line(quiet)}")
    print(f"three moved       {line(moved)}")
    print(f"apply --all       {line(everything)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
