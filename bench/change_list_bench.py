"""Benchmark: one page of /changes over 20,000 changes ordered by last human activity.

The list's time is the latest upload, vote or message by a person (never the bots'),
computed in SQL per page (reviewbot.store.change_reads.list_changes). This times that
read (first page and a middle page, all states), next to the plain read ordered by
Gerrit's `updated` it replaced, over report_bench's bulk-built store (20,000 changes,
~10 messages each). Medians over --runs runs.

    .venv/bin/python bench/change_list_bench.py [--changes 20000] [--runs 7] [--keep DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from report_bench import build_store, config  # noqa: E402

from reviewbot.store import open_store  # noqa: E402
from reviewbot.store.change_reads import list_changes  # noqa: E402
from reviewbot.store.tables import Change  # noqa: E402
from reviewbot.timeline.roster import load_roster  # noqa: E402


def timed(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", help="folder to keep the store in (reused if present)")
    args = parser.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="list-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "bench.db"
    url = f"sqlite:///{db}"
    if not db.exists():
        build_store(url, args.changes, 10)
    engine = open_store(url)
    with Session(engine) as session:
        bots = frozenset(load_roster(session, config(url)).bots)
        total, _ = list_changes(session, not_people=bots, limit=1)
        first = timed(lambda: list_changes(session, not_people=bots), args.runs)
        middle = timed(lambda: list_changes(session, not_people=bots, offset=total // 2),
                       args.runs)
        plain = timed(lambda: session.execute(
            select(Change.number).where(Change.status == "NEW")
            .order_by(Change.updated.desc()).limit(50)).all(), args.runs)
    engine.dispose()
    print(f"open changes listed: {total}")
    print(f"/changes page 1 by last human activity: {first:.0f} ms (median of {args.runs})")
    print(f"/changes middle page: {middle:.0f} ms")
    print(f"plain page ordered by Gerrit's updated (before): {plain:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
