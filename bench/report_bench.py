"""Benchmark: the PTL report over 20,000 changes of one cycle (SQLite, bulk-inserted store).

Times, as medians over --runs runs: the whole report step (`report_as_of`: store
reads + pure report), the store reads alone, and the pure `report_from_facts` alone.
For comparison it also times the general `load_changes(history=True)` read.

    .venv/bin/python bench/report_bench.py [--changes 20000] [--events-per-change 10] [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewbot.config import validate_config  # noqa: E402
from reviewbot.metrics.report import report_from_facts  # noqa: E402
from reviewbot.store import open_store  # noqa: E402
from reviewbot.store.report_reads import load_change_classes, load_report_facts  # noqa: E402
from reviewbot.store.snapshots import load_changes  # noqa: E402
from reviewbot.store.tables import (  # noqa: E402
    Account,
    Change,
    CurrentVote,
    GroupMember,
    Message,
    PatchSet,
    SyncState,
    Verdict,
    VoteEventRow,
)
from reviewbot.sync.allocation import allow_collector_pause, collector_paused  # noqa: E402
from reviewbot.timeline.roster import load_roster  # noqa: E402
from reviewbot.views.reporting import report_as_of  # noqa: E402

PROJECTS = ["openstack/glance", "openstack/python-glanceclient", "openstack/glance_store"]
PRIORITIES = [("community-goal", 1), ("community-images", 2), ("image-import-refactor", 3),
              ("rolling-upgrades", 4)]
START, END = datetime(2016, 10, 6), datetime(2017, 2, 20)
AS_OF = datetime(2017, 1, 23)  # feature freeze: most of the cycle behind, history mode for many
CORES = list(range(1, 13))
OTHERS = list(range(13, 413))
ZUUL = 999


def config(url: str):
    return validate_config({
        "gerrit": {"projects": PROJECTS, "core_group": "glance-core", "bot_accounts": ["zuul"]},
        "database": {"url": url},
        "cycle": {"name": "ocata", "start": "2016-10-06", "end": "2017-02-20",
                  "feature_freeze": "2017-01-23",
                  "milestones": {"O-1": "2016-11-14", "O-2": "2016-12-12"}},
        "priorities": [{"id": pid, "title": pid, "rank": rank, "blueprints": [pid]}
                       for pid, rank in PRIORITIES],
    })


def build_store(url: str, n_changes: int, per_change: int, seed: int = 11) -> int:
    """Bulk-insert a cycle: changes spread over it, uploads, votes in time order, verdicts."""
    rng = random.Random(seed)
    engine = open_store(url)
    accounts = [{"id": a, "username": f"core{a}"} for a in CORES]
    accounts += [{"id": a, "username": f"user{a}"} for a in OTHERS]
    accounts.append({"id": ZUUL, "username": "zuul"})
    changes, patch_sets, verdicts, messages, events, current = [], [], [], [], [], []
    span = (END - START).total_seconds() + 30 * 86400
    for number in range(1, n_changes + 1):
        created = START - timedelta(days=30) + timedelta(seconds=rng.uniform(0, span))
        owner = rng.choice(OTHERS + CORES[:3])
        n_ps = rng.randint(1, 4)
        uploads = sorted(created + timedelta(days=rng.uniform(0, 20)) for _ in range(n_ps - 1))
        uploads = [created, *uploads]
        votes: list[tuple[datetime, int, int, str, int]] = []
        for _ in range(per_change):
            ps = rng.randint(1, n_ps)
            when = uploads[ps - 1] + timedelta(hours=rng.uniform(0.5, 24 * 10))
            voter = ZUUL if rng.random() < 0.3 else rng.choice(CORES + OTHERS[:60])
            label = "Verified" if voter == ZUUL else "Code-Review"
            value = rng.choice([1, 1, -1]) if voter == ZUUL else (
                rng.choice([2, 2, 1, -1, -2]) if voter in CORES else rng.choice([1, 1, 1, -1]))
            votes.append((when, ps, voter, label, value))
        votes.sort()
        last = max([uploads[-1]] + [v[0] for v in votes])
        roll = rng.random()
        status, closed = "NEW", None
        if roll < 0.6:
            status, closed = "MERGED", last + timedelta(hours=2)
        elif roll < 0.75:
            status, closed = "ABANDONED", last + timedelta(days=3)
        changes.append(dict(
            number=number, gerrit_id=f"g~master~I{number}", change_id=f"I{number}",
            project=rng.choice(PROJECTS), branch="master", subject=f"Change number {number}",
            status=status, wip=False, owner_id=owner, topic=None, hashtags=[],
            created=created, updated=closed or last,
            submitted=closed if status == "MERGED" else None, closed_at=closed,
            current_patch_set=n_ps, commit_message=None, files=None, insertions=1,
            deletions=1, missing_since=None, source="rest",
        ))
        for i, when in enumerate(uploads, 1):
            patch_sets.append(dict(change_number=number, number=i, revision=f"r{number}-{i}",
                                   created=when, uploader_id=owner, kind=None, insertions=1,
                                   deletions=1))
        latest: dict[tuple[int, str], int] = {}
        for i, (when, ps, voter, label, value) in enumerate(votes):
            mid = f"m{number}-{i}"
            messages.append(dict(id=mid, change_number=number, patch_set=ps, author_id=voter,
                                 date=when, tag=None, text=f"Patch Set {ps}: {label}{value:+d}",
                                 inline_comments=0, free_text="", changes_votes=True))
            events.append(dict(message_id=mid, change_number=number, patch_set=ps,
                               account_id=voter, label=label, value=value, removed=False,
                               date=when))
            if ps == n_ps:
                latest[(voter, label)] = value
        current += [dict(change_number=number, label=label, account_id=voter, value=value)
                    for (voter, label), value in latest.items()]
        roll = rng.random()
        prios = [rng.choice(PRIORITIES)[0]] if roll < 0.15 else []
        state = "closed" if status != "NEW" else (
            "priority" if prios else ("exempt" if roll < 0.18 else "gated"))
        verdicts.append(dict(change_number=number, gate_state=state, gate_reason="",
                             priorities=prios, rank=None, exempt=roll < 0.18 and not prios,
                             gate_certain=True, reasons=[], matches=[], evaluated_at=END))
    with engine.begin() as conn:
        conn.execute(insert(Account), accounts)
        conn.execute(insert(Change), changes)
        conn.execute(insert(PatchSet), patch_sets)
        conn.execute(insert(Verdict), verdicts)
        conn.execute(insert(Message), messages)
        conn.execute(insert(VoteEventRow), events)
        conn.execute(insert(CurrentVote), current)
        conn.execute(insert(GroupMember), [dict(group_name="glance-core", account_id=a)
                                           for a in CORES])
        conn.execute(insert(SyncState), [dict(key="group_known:glance-core", value="true",
                                              updated=END)])
    engine.dispose()
    return len(events)


def timed(fn, runs: int) -> tuple[str, object]:
    """Median wall and CPU milliseconds. CPU time is printed too because the shared
    machine is often oversubscribed, which inflates wall time but not CPU time."""
    wall, cpu, result = [], [], None
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return (f"{statistics.median(wall) * 1000:.0f} ms wall, "
            f"{statistics.median(cpu) * 1000:.0f} ms CPU"), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=20_000)
    parser.add_argument("--events-per-change", type=int, default=10)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", help="folder to keep the store in (reused if present)")
    args = parser.parse_args()
    allow_collector_pause()  # as `reviewbot report` does (never the web process)

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="report-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "bench.db"
    url = f"sqlite:///{db}"
    if not db.exists():
        started = time.perf_counter()
        n_events = build_store(url, args.changes, args.events_per_change)
        print(f"built store: {args.changes} changes, {n_events} vote events "
              f"in {time.perf_counter() - started:.1f} s")
    cfg = config(url)
    engine = open_store(url)
    with Session(engine) as session:
        def whole():
            return report_as_of(session, cfg, AS_OF)

        def reads():
            with collector_paused():  # as in report_as_of
                return (load_report_facts(session, cfg, AS_OF), load_roster(session, cfg),
                        load_change_classes(session))

        def pure():
            with collector_paused():
                return report_from_facts(changes, events, roster, classes, cfg, AS_OF)

        whole_ms, report = timed(whole, args.runs)
        reads_ms, ((changes, events), roster, classes) = timed(reads, args.runs)
        pure_ms, _ = timed(pure, args.runs)
        # A past cycle's report (`report --cycle NAME`): every change matched again against
        # that cycle's priorities instead of reading the stored verdicts.
        past_ms, _ = timed(lambda: report_as_of(session, cfg, AS_OF, past_cycle=True),
                           max(1, args.runs // 2))
        general_ms, _ = timed(lambda: load_changes(session, projects=PROJECTS,
                                                   branches=["master"], history=True), 3)
    engine.dispose()
    e = report.effort
    print(f"report over {len(report.rows)} changes in scope ({len(changes)} loaded), "
          f"{e.reviews} core reviews, as of {AS_OF:%Y-%m-%d}")
    print(f"load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"whole report step (reads + pure), median of {args.runs}: {whole_ms}")
    print(f"  store reads (load_report_facts + roster + verdicts): {reads_ms}")
    print(f"  pure report_from_facts: {pure_ms}")
    print(f"past-cycle report (every change matched again), median of "
          f"{max(1, args.runs // 2)}: {past_ms}")
    print(f"for comparison, load_changes(history=True), median of 3: {general_ms}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
