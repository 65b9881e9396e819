"""Benchmark: the issue-17 views over report_bench's bulk-built store (20,000 changes):
the cycle trends (every week's queue replayed, latencies from the vote history), one
"where is my change" answer (every core's queue, replayed at T and from the stored
present), and one daily digest (a queue, replayed at T and from the stored present).
Medians over --runs runs, each from a cold TrendCache (the web pages cache per store
generation, so this is the first request after a sync).

    .venv/bin/python bench/cycle_views_bench.py [--changes 20000] [--runs 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from report_bench import build_store, config  # noqa: E402

from reviewbot.actions.digest import compose  # noqa: E402
from reviewbot.config import DigestSubscriber  # noqa: E402
from reviewbot.evaluate.verdicts import evaluate_store  # noqa: E402
from reviewbot.store import open_store  # noqa: E402
from reviewbot.store.tables import Change  # noqa: E402
from reviewbot.views.trends import cycle_trends  # noqa: E402
from reviewbot.views.where import where_is  # noqa: E402

AT = datetime(2017, 1, 20, 12, 0)


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", help="folder to keep the store in (reused if present)")
    args = parser.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="cycle-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "bench.db"
    url = f"sqlite:///{db}"
    cfg = config(url)
    if not db.exists():
        build_store(url, args.changes, 10)
    engine = open_store(url)
    evaluate_store(engine, cfg, now=AT, full=True)
    with Session(engine) as session:
        number = session.execute(select(Change.number).where(Change.status == "NEW")
                                 .order_by(Change.number)).first()[0]
        trends_s, weeks = timed(lambda: cycle_trends(session, cfg, AT), args.runs)
        where_s, answer = timed(lambda: where_is(session, cfg, number, AT), args.runs)
        core = answer.places[0].reviewer
        subscriber = DigestSubscriber(username=core, email="c@example.org")
        digest_s, _d = timed(lambda: compose(session, cfg, subscriber, AT), args.runs)
        present_s, _p = timed(lambda: compose(session, cfg, subscriber, AT, present=True),
                              args.runs)
        where_now_s, _w = timed(lambda: where_is(session, cfg, number, None, now=AT),
                                args.runs)
    print(f"changes={args.changes} weeks={len(weeks)} cores={len(answer.places)} "
          f"trends_s={trends_s:.2f} where_as_of_s={where_s:.2f} where_present_s="
          f"{where_now_s:.2f} daily_digest_as_of_s={digest_s:.2f} daily_digest_present_s="
          f"{present_s:.2f} load={os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
