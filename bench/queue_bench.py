"""Benchmark: the evaluate step, a quiet worker cycle and queue latency over HTTP with
20,000 open changes and 300,000 vote events (issue 11's targets).

Builds a SQLite store by bulk insert (deterministic, seeded; no verdicts), then times:
`reviewbot evaluate --full` end to end (every change, store round trip included) and a
second, incremental `reviewbot evaluate` with nothing moved; a whole `reviewbot cycle`
against an empty sandbox Gerrit (nothing new) after a first one; then starts
`reviewbot web` with uvicorn on a free loopback port and times the core queue for now
(`/api/v1/queue`, `/queue`) and as of a past date, printing p50/p95 in milliseconds.

    .venv/bin/python bench/queue_bench.py [--changes 20000] [--events 300000] [--requests 300]
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewbot.store import open_store  # noqa: E402
from reviewbot.store.tables import (  # noqa: E402
    Account,
    Change,
    CurrentVote,
    GroupMember,
    Message,
    PatchSet,
    SyncState,
    VoteEventRow,
)

PROJECTS = ["openstack/glance", "openstack/python-glanceclient", "openstack/glance_store"]
PRIORITIES = [("community-goal", 1), ("community-images", 2), ("image-import-refactor", 3),
              ("rolling-upgrades", 4)]
NOW = datetime(2017, 2, 1, 12, 0, 0)
CORES = list(range(1, 21))
OTHERS = list(range(21, 501))
ZUUL = 999
REVIEWER = "core1"

CONFIG = """
[gerrit]
url = "https://review.example.org"
projects = {projects}
branches = ["master"]
core_group = "glance-core"
bot_accounts = ["zuul"]

[database]
url = "{url}"

[cycle]
name = "ocata"
start = 2016-10-06
end = 2017-02-20

{priorities}
"""


def build_store(url: str, n_changes: int, n_events: int, seed: int = 7) -> None:
    """Bulk-insert a store shaped like a busy Gerrit project."""
    rng = random.Random(seed)
    engine = open_store(url)
    accounts = [{"id": a, "username": f"core{a}", "name": f"Core {a}", "email": None}
                for a in CORES]
    accounts += [{"id": a, "username": f"user{a}", "name": f"User {a}", "email": None}
                 for a in OTHERS]
    accounts.append({"id": ZUUL, "username": "zuul", "name": "Zuul", "email": None})
    changes, patch_sets = [], []
    current_ps: dict[int, int] = {}
    for number in range(1, n_changes + 1):
        n_ps = rng.randint(1, 5)
        created = NOW - timedelta(days=rng.uniform(1, 200))
        owner = rng.choice(OTHERS + CORES[:5])
        uploads = sorted(created + timedelta(days=rng.uniform(0, 30)) for _ in range(n_ps))
        uploads = [min(u, NOW) for u in uploads]
        current_ps[number] = n_ps
        changes.append(dict(
            number=number, gerrit_id=f"x~master~I{number}", change_id=f"I{number}",
            project=rng.choice(PROJECTS), branch="master", subject=f"Fix thing number {number}",
            status="NEW", wip=rng.random() < 0.05, owner_id=owner, topic=None, hashtags=[],
            created=created, updated=uploads[-1], submitted=None, closed_at=None,
            current_patch_set=n_ps, commit_message=None, files=None, insertions=1,
            deletions=1, missing_since=None, source="rest",
        ))
        for i, when in enumerate(uploads, 1):
            patch_sets.append(dict(change_number=number, number=i, revision=f"r{number}-{i}",
                                   created=when, uploader_id=owner, kind=None, insertions=1,
                                   deletions=1))
        if rng.random() < 0.10:  # priority work: the evaluate step finds the footer
            pid, _rank = rng.choice(PRIORITIES)
            changes[-1]["commit_message"] = f"Fix it\n\nImplements: blueprint {pid}\n"
    messages, events = [], []
    latest: dict[tuple[int, str, int], tuple[int, int]] = {}
    for i in range(n_events):
        number = rng.randint(1, n_changes)
        ps = rng.randint(1, current_ps[number])
        voter = ZUUL if rng.random() < 0.25 else rng.choice(CORES + OTHERS)
        label = "Verified" if voter == ZUUL else "Code-Review"
        value = (rng.choice([1, -1, 1, 2]) if voter == ZUUL
                 else rng.choice([1, 1, 1, -1, 2, -2, 0] if voter in CORES else [1, 1, -1]))
        if voter == ZUUL:
            value = 1 if value > 0 else -1
        mid = f"m{i}"
        date = NOW - timedelta(days=rng.uniform(0, 100))
        messages.append(dict(id=mid, change_number=number, patch_set=ps, author_id=voter,
                             date=date, tag=None, text=f"Patch Set {ps}: {label}{value:+d}",
                             inline_comments=0, free_text="", changes_votes=True))
        events.append(dict(message_id=mid, change_number=number, patch_set=ps,
                           account_id=voter, label=label, value=value, removed=value == 0,
                           date=date))
        if ps == current_ps[number]:
            latest[(number, label, voter)] = (i, value)
    current = [dict(change_number=n, label=lab, account_id=a, value=v)
               for (n, lab, a), (_i, v) in latest.items()]
    # A few owners set Workflow -1 on their own current patch set.
    for c in changes[::40]:
        current.append(dict(change_number=c["number"], label="Workflow",
                            account_id=c["owner_id"], value=-1))
    with engine.begin() as conn:
        conn.execute(insert(Account), accounts)
        conn.execute(insert(Change), changes)
        conn.execute(insert(PatchSet), patch_sets)
        conn.execute(insert(Message), messages)
        conn.execute(insert(VoteEventRow), events)
        conn.execute(insert(CurrentVote), current)
        conn.execute(insert(GroupMember), [dict(group_name="glance-core", account_id=a)
                                           for a in CORES])
        conn.execute(insert(SyncState), [dict(key="group_known:glance-core", value="true",
                                              updated=NOW)])
    engine.dispose()


def write_config(folder: Path, url: str) -> Path:
    prios = "\n".join(
        f'[[priorities]]\nid = "{pid}"\ntitle = "{pid}"\nrank = {rank}\nblueprints = ["{pid}"]\n'
        for pid, rank in PRIORITIES
    )
    path = folder / "bench.toml"
    path.write_text(CONFIG.format(projects=PROJECTS, url=url, priorities=prios).replace("'", '"'))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def time_requests(client: httpx.Client, path: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(path)
        out.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    return out


def timed(argv: list[str], env: dict) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "reviewbot.cli", *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout.strip().splitlines()[-1:]


def time_steps(config: Path, env: dict) -> None:
    """The evaluate step whole and incremental, as the CLI runs them."""
    runs = []
    for _ in range(3):
        seconds, out = timed(["evaluate", "--full"], env)
        runs.append(seconds)
    print(f"evaluate --full (end to end, new process), median of 3: "
          f"{statistics.median(runs):.2f} s ({', '.join(f'{r:.2f}' for r in runs)})  {out}")
    seconds, out = timed(["evaluate"], env)
    print(f"evaluate, nothing moved (end to end):      {seconds:.2f} s  {out}")


def time_quiet_cycle(config: Path, env: dict) -> None:
    """A whole `reviewbot cycle` against a Gerrit with nothing new (after a first one).

    Last: the empty sandbox has no core group, so the cycle's sync marks membership
    unknown in the store (as it must), which changes later gate states."""
    from reviewbot.sandbox import SandboxGerrit

    with SandboxGerrit().running() as gerrit_url:  # a Gerrit with nothing new to say
        text_ = config.read_text().replace("https://review.example.org", gerrit_url)
        quiet = config.with_name("quiet.toml")
        quiet.write_text(text_)
        env = dict(env, REVIEWBOT_CONFIG=str(quiet))
        seconds, _ = timed(["cycle"], env)
        print(f"first cycle (judges every change once):   {seconds:.2f} s")
        runs = [timed(["cycle"], env)[0] for _ in range(3)]
        print(f"cycle with nothing new, median of 3:        {statistics.median(runs):.2f} s "
              f"({', '.join(f'{r:.2f}' for r in runs)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--keep", help="folder to keep the store in (reused if present)")
    args = parser.parse_args()

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="queue-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "bench.db"
    url = f"sqlite:///{db}"
    if not db.exists():
        started = time.perf_counter()
        build_store(url, args.changes, args.events)
        print(f"built store in {time.perf_counter() - started:.1f}s: {args.changes} open changes,"
              f" {args.events} vote events ({db})")
    config = write_config(folder, url)
    env = dict(os.environ, REVIEWBOT_CONFIG=str(config))
    time_steps(config, env)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "reviewbot.cli", "web", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(100):
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            # Now: the stored states (the store's clock is 2017-02-01; "now" is the real
            # clock, so every change has waited long: scores differ, the work is the same).
            paths = [f"/api/v1/queue?reviewer={REVIEWER}", f"/queue?reviewer={REVIEWER}"]
            started = time.perf_counter()
            first = client.get(paths[0]).json()
            print(f"queue of {REVIEWER} now: {first['total']} candidates, "
                  f"{len(first['items'])} shown; cold first request "
                  f"{(time.perf_counter() - started) * 1000:.0f} ms")
            for path in paths:
                time_requests(client, path, 20)  # warm-up
            for path in paths:
                times = time_requests(client, path, args.requests)
                print(f"{path.split('?')[0] + ' (now)':<26} n={len(times)} "
                      f"p50={statistics.median(times):.1f} ms  p95={percentile(times, 95):.1f} "
                      f"ms  max={max(times):.1f} ms")
            # A past date: the timeline replayed for every change open then.
            past = (NOW - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
            path = f"/api/v1/queue?reviewer={REVIEWER}&as_of={past}"
            times = time_requests(client, path, max(9, args.requests // 20))
            total = client.get(path).json()["total"]
            print(f"{'/api/v1/queue (as of ' + past[:10] + ')':<26} n={len(times)} "
                  f"p50={statistics.median(times):.1f} ms  p95={percentile(times, 95):.1f} ms"
                  f"  max={max(times):.1f} ms  ({total} candidates)")
    finally:
        server.terminate()
        server.wait(timeout=10)
    time_quiet_cycle(config, env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
