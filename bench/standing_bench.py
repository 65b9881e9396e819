"""Bench: reviewer standing at scale (issue 5 item 6).

    .venv/bin/python bench/standing_bench.py store [--rows 1000000] [--runs 5]
        (a) a store with 1,000,000 Code-Review vote events (bulk-inserted synthetic rows),
            judged once (`reviewbot judge`, timed): one reviewer's standing (target
            < 200 ms) and the whole leaderboard (< 5 s), from the stored judgements and by
            replaying the votes (`--replay`).
    .venv/bin/python bench/standing_bench.py daily [--changes 20000] [--runs 3]
        (b) a 20,000-change `gerrit query --format=JSON --all-approvals --comments` dump,
            imported with `reviewbot import`, then the whole leaderboard (`reviewbot
            reviewers`, which replays the votes: nothing is judged yet): end to end
            (< 8 s, peak RSS < 320 MB, measured in a child process). Then the judge step
            (timed) and the leaderboard recomputed from the filled store (< 0.5 s), from
            the stored judgements and by replaying the votes.
    .venv/bin/python bench/standing_bench.py recompute [--config $BENCH_DIR/daily-0.toml]
        (b) the leaderboard recompute alone, on a store a `daily` run left behind (no
            import; judged): median wall and CPU time, stored and replayed.
    .venv/bin/python bench/standing_bench.py past [--rows 1100000] [--runs 5]
        (issue 12) one leaderboard as of a past date (a year before the store's end, 180-day
            window) on the `store` store, judged first as the worker would (target < 1 s
            at 1 M reviews): stored judgements for the changes settled by then, the ones
            active after it judged again; and the full replay for comparison.
    .venv/bin/python bench/standing_bench.py backtest [--rows 1100000] [--promotions 30]
        (issue 12) `reviewbot backtest` (lead 90 days, window 180) over 30 promotions
            ([[core_history]] entries spread over the last two years) on the same store,
            ~100,000 changes at 1.1 M rows (target < 30 s).
    .venv/bin/python bench/standing_bench.py promotions [--seeds 1 2 3 4 5]
        (issue 12) the backtest on generated sandbox years (the sandbox team promotes
            steady, agreeing non-cores; served over HTTP, synced, evaluated): hits in the
            top 5 and MRR of the readiness order next to a plain count of reviews and of
            judged reviews on the same promotions.

`store` reuses $BENCH_DIR/standing-<rows>.db when it exists (pass --rebuild to rebuild it,
~7 minutes for 1,000,000 rows). Every figure is a cold computation from the store (no
result is kept between runs); the 1-minute load average is printed with it, since other
processes on the machine skew wall times.

Data are generated deterministically (fixed seeds); files go to $BENCH_DIR (default
/tmp/reviewbot-bench) and are reused between runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewbot.config import Config, validate_config  # noqa: E402
from reviewbot.evaluate.review_judgements import judge_store  # noqa: E402
from reviewbot.store import open_store, session_scope  # noqa: E402
from reviewbot.store.judgements import set_judging_state  # noqa: E402
from reviewbot.views.standing_view import leaderboard, reviewer_report  # noqa: E402

BENCH_DIR = Path(os.environ.get("BENCH_DIR", "/tmp/reviewbot-bench"))
AS_OF = datetime(2017, 2, 20)
PROJECTS = ["openstack/glance", "openstack/python-glanceclient", "openstack/glance_store"]
CORES = 25
NON_CORES = 575
BOT = 9999


def bench_config(url: str) -> dict:
    return {
        "gerrit": {"url": "https://review.example.org", "projects": PROJECTS,
                   "branches": ["master"], "core_group": "glance-core",
                   "bot_accounts": ["zuul"]},
        "database": {"url": url},
        "cycle": {"name": "ocata", "start": "2016-10-06", "end": "2017-02-20"},
        "standing": {"window_days": 180, "criteria": {
            "min_reviews": 60, "max_disagreement_ratio": 0.2, "min_minus1_catch_rate": 0.5,
            "min_thoughtful_minus1": 10, "min_months_active": 3, "min_priority_share": 0.3}},
    }


def _ts(d: datetime) -> str:
    # The text form SQLAlchemy stores for DateTime on SQLite (compared as strings).
    return d.strftime("%Y-%m-%d %H:%M:%S.%f")


def build_store(path: Path, rows: int) -> None:
    """Bulk-insert a synthetic Glance-like history with exactly `rows` Code-Review events."""
    if path.exists():
        path.unlink()
    open_store(f"sqlite:///{path}").dispose()  # schema via Alembic
    rnd = random.Random(5)
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    accounts = [(i, f"user{i}", f"User {i}", None) for i in range(1, CORES + NON_CORES + 1)]
    accounts.append((BOT, "zuul", "Zuul", None))
    # Every insert names its columns: a table that gains one must not shift the values.
    db.executemany("INSERT INTO account (id, username, name, email) VALUES (?,?,?,?)",
                   accounts)
    db.executemany("INSERT INTO group_member (group_name, account_id)"
                   " VALUES ('glance-core', ?)",
                   [(i,) for i in range(1, CORES + 1)])
    people = list(range(1, CORES + NON_CORES + 1))
    # Some reviewers are far busier than others, as in real projects.
    weights = [rnd.paretovariate(1.2) for _ in people]
    span = timedelta(days=3 * 365)
    changes, patch_sets, messages, events, verdicts = [], [], [], [], []
    number, n_events, n_msg = 100000, 0, 0
    while n_events < rows:
        number += 1
        owner = rnd.choice(people)
        created = AS_OF - span + timedelta(seconds=rnd.randrange(int(span.total_seconds())))
        n_ps = rnd.choice((1, 1, 2, 2, 3, 4))
        project = PROJECTS[number % 3] if number % 20 else "openstack/nova"
        changes.append((number, f"g{number}", f"I{number:040x}", project, "master",
                        f"Change {number}", "NEW", 0, owner, None, "[]", _ts(created),
                        _ts(created), None, None, n_ps, None, None, 0, 0, None, "import"))
        kind = rnd.random()
        verdicts.append((number, "priority" if kind < 0.25 else "exempt" if kind < 0.28
                         else "gated", "", '["p"]' if kind < 0.25 else "[]", None,
                         int(0.25 <= kind < 0.28), 1, "[]", "[]", _ts(AS_OF)))
        when = created
        for ps in range(1, n_ps + 1):
            if when > AS_OF:
                break  # the store was synced at AS_OF: nothing later exists yet
            size = int(rnd.expovariate(1 / 120))
            patch_sets.append((number, ps, f"r{number}{ps}", _ts(when), owner, None,
                               size // 2, size - size // 2))
            for _ in range(rnd.randint(2, 8)):
                if n_events >= rows:
                    break
                voter = rnd.choices(people, weights)[0]
                when += timedelta(minutes=rnd.randint(1, 600))
                if when + timedelta(minutes=5) > AS_OF:
                    break
                core = voter <= CORES
                value = rnd.choice((-2, -1, 1, 2, 2) if core else (-1, 1, 1, 1))
                if rnd.random() < 0.05:
                    value = 0  # a removal
                n_msg += 1
                mid = f"m{n_msg}"
                text = "x" * rnd.choice((0, 0, 10, 60, 200))
                messages.append((mid, number, ps, voter, _ts(when), None, text,
                                 rnd.choice((0, 0, 0, 1, 3)), text, 1))
                events.append((n_msg, mid, number, ps, voter, "Code-Review", value,
                               int(value == 0), _ts(when)))
                n_events += 1
                if rnd.random() < 0.15:  # a comment-only message
                    n_msg += 1
                    messages.append((f"m{n_msg}", number, ps, rnd.choice(people),
                                     _ts(when + timedelta(minutes=5)), None, "nit", 1, "nit", 0))
            when += timedelta(hours=rnd.randint(1, 72))
        # `updated` is the last activity, as sync stores it.
        changes[-1] = changes[-1][:12] + (_ts(min(when, AS_OF)),) + changes[-1][13:]
    db.executemany("INSERT INTO change (number, gerrit_id, change_id, project, branch, subject,"
                   " status, wip, owner_id, topic, hashtags, created, updated, submitted,"
                   " closed_at, current_patch_set, commit_message, files, insertions,"
                   " deletions, missing_since, source) VALUES (" + ",".join("?" * 22) + ")",
                   changes)
    db.executemany("INSERT INTO patch_set (change_number, number, revision, created,"
                   " uploader_id, kind, insertions, deletions) VALUES (?,?,?,?,?,?,?,?)",
                   patch_sets)
    db.executemany("INSERT INTO verdict (change_number, gate_state, gate_reason, priorities,"
                   " rank, exempt, gate_certain, reasons, matches, evaluated_at)"
                   " VALUES (?,?,?,?,?,?,?,?,?,?)", verdicts)
    db.executemany("INSERT INTO message (id, change_number, patch_set, author_id, date, tag,"
                   " text, inline_comments, free_text, changes_votes)"
                   " VALUES (?,?,?,?,?,?,?,?,?,?)", messages)
    db.executemany("INSERT INTO vote_event (id, message_id, change_number, patch_set,"
                   " account_id, label, value, removed, date) VALUES (?,?,?,?,?,?,?,?,?)",
                   events)
    db.commit()
    db.execute("ANALYZE")
    db.close()
    print(f"built {path}: {len(changes)} changes, {len(patch_sets)} patch sets, "
          f"{len(messages)} messages, {len(events)} Code-Review events", file=sys.stderr)


def _timed(fn, runs: int) -> tuple[float, object]:
    return _timed_cpu(fn, runs)[0::2]


def _timed_cpu(fn, runs: int) -> tuple[float, float, object]:
    """Median wall and median CPU seconds of `runs` calls, and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), result


def standing_read(engine: Engine, config: Config, replay: bool,
                  account_id: int | None = None) -> Callable[[], object]:
    """A cold read of standing as a page makes it, for `_timed_cpu`: the whole leaderboard,
    or with `account_id` that one reviewer's report; from the stored judgements, or by
    replaying the votes."""
    def run():
        with session_scope(engine) as session:
            if account_id is None:
                return leaderboard(session, config, as_of=AS_OF, replay=replay)
            return reviewer_report(session, config, account_id, as_of=AS_OF, replay=replay)
    return run


def run_store(args: argparse.Namespace) -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = BENCH_DIR / f"standing-{args.rows}.db"
    if not path.exists() or args.rebuild:
        t0 = time.perf_counter()
        build_store(path, args.rows)
        print(f"build: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    url = f"sqlite:///{path}"
    config = validate_config(bench_config(url))
    engine = open_store(url)
    # The judge step as the worker runs it after a store change (from scratch here: a
    # forgotten fingerprint makes it judge every change, as a roster change would).
    with session_scope(engine) as session:
        set_judging_state(session, "", None)
    t0, c0 = time.perf_counter(), time.process_time()
    judged = judge_store(engine, config)
    judge_s, judge_cpu = time.perf_counter() - t0, time.process_time() - c0
    with session_scope(engine) as session:
        board = leaderboard(session, config, as_of=AS_OF, include_core=True)
    # A typical busy non-core reviewer: the median of the ten busiest.
    busy = sorted((r for r in board if not r.standing.core),
                  key=lambda r: -r.standing.metrics["reviews"])[:10]
    who = busy[len(busy) // 2].standing.account_id
    board_runs = max(3, args.runs // 2)

    one_s, one_cpu, report = _timed_cpu(standing_read(engine, config, False, who), args.runs)
    board_s, board_cpu, rows = _timed_cpu(standing_read(engine, config, False), board_runs)
    one_replay_s, _, replayed = _timed_cpu(standing_read(engine, config, True, who), args.runs)
    board_replay_s, _, _ = _timed_cpu(standing_read(engine, config, True), board_runs)
    assert report.judgements == "stored" and replayed.standing.metrics == report.standing.metrics
    print(json.dumps({
        "rows": args.rows, "reviewer": report.username,
        "reviewer_reviews_in_window": report.standing.metrics["reviews"],
        "judge_s": round(judge_s, 2), "judge_cpu_s": round(judge_cpu, 2),
        "judged_reviews_stored": judged.reviews,
        "one_reviewer_ms": round(one_s * 1000, 1), "one_reviewer_cpu_ms": round(one_cpu * 1000, 1),
        "leaderboard_s": round(board_s, 3), "leaderboard_cpu_s": round(board_cpu, 3),
        "one_reviewer_replay_ms": round(one_replay_s * 1000, 1),
        "leaderboard_replay_s": round(board_replay_s, 3),
        "leaderboard_rows": len(rows), "load_avg_1min": round(os.getloadavg()[0], 2),
    }))


def _store(rows: int) -> Path:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = BENCH_DIR / f"standing-{rows}.db"
    if not path.exists():
        t0 = time.perf_counter()
        build_store(path, rows)
        print(f"build: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return path


def _store_counts(engine: Engine) -> dict:
    from sqlalchemy import func, select

    from reviewbot.store.tables import Change, VoteEventRow
    with session_scope(engine) as session:
        return {"changes": session.execute(select(func.count()).select_from(Change)).scalar(),
                "code_review_events": session.execute(
                    select(func.count()).select_from(VoteEventRow)).scalar()}


def _judged(engine: Engine, config: Config) -> float:
    """The judge step as the worker runs it (from scratch when the roster or the rules
    changed, e.g. a new [[core_history]]); returns its seconds (0 when nothing to do)."""
    t0 = time.perf_counter()
    result = judge_store(engine, config)
    return round(time.perf_counter() - t0, 1) if result.changes else 0.0


def run_past(args: argparse.Namespace) -> None:
    url = f"sqlite:///{_store(args.rows)}"
    config = validate_config(bench_config(url))
    engine = open_store(url)
    judge_s = _judged(engine, config)
    past = AS_OF - timedelta(days=365)

    def board():
        with session_scope(engine) as session:
            return leaderboard(session, config, as_of=past, window_days=180)
    wall, cpu, rows = _timed_cpu(board, args.runs)
    assert rows[0].judgements == "mixed"

    def replayed():
        with session_scope(engine) as session:
            return leaderboard(session, config, as_of=past, window_days=180, replay=True)
    replay_wall, _, again = _timed_cpu(replayed, max(1, args.runs // 2))

    # The answer is the plain path's: the full replay of the votes gives the same rows,
    # in the same order, with the same figures, warnings and weekly counts.
    def shown(board: list) -> list:
        return [(r.username, r.standing.metrics, r.standing.warnings,
                 r.standing.window_weekly) for r in board]
    assert shown(again) == shown(rows), "past leaderboard differs from the full replay"
    print(json.dumps({
        **_store_counts(engine), "judge_once_s": judge_s, "as_of": past.isoformat(),
        "window_days": 180, "past_leaderboard_replay_s": round(replay_wall, 3),
        "reviews_in_window": sum(r.standing.metrics["reviews"] for r in rows),
        "leaderboard_rows": len(rows), "past_leaderboard_s": round(wall, 3),
        "past_leaderboard_cpu_s": round(cpu, 3), "runs": args.runs,
        "load_avg_1min": round(os.getloadavg()[0], 2)}))


def run_backtest_bench(args: argparse.Namespace) -> None:
    from reviewbot.views.backtest import run_backtest

    url = f"sqlite:///{_store(args.rows)}"
    data = bench_config(url)
    # 30 non-cores promoted on dates spread over the store's last two years.
    rnd = random.Random(12)
    promoted = rnd.sample(range(CORES + 1, CORES + NON_CORES + 1), args.promotions)
    first = AS_OF - timedelta(days=730)
    step = timedelta(days=720) / args.promotions
    data["core_history"] = [{"username": f"user{u}",
                             "joined": (first + step * i).date().isoformat()}
                            for i, u in enumerate(promoted)]
    config = validate_config(data)
    engine = open_store(url)
    judge_s = _judged(engine, config)

    def run():
        with session_scope(engine) as session:
            return run_backtest(session, config, lead_days=90, window_days=180, top=5)
    wall, cpu, result = _timed_cpu(run, args.runs)
    # The synthetic people are random (the promoted ones too): the summary shows the work
    # was done, it measures nothing about the order (tests/test_backtest.py does that).
    print(json.dumps({
        **_store_counts(engine), "promotions": result.summary.promotions,
        "ranked": sum(1 for r in result.rows if r.rank is not None),
        "mean_pool": round(statistics.mean(r.pool for r in result.rows), 1),
        "judge_once_s": judge_s,
        "backtest_s": round(wall, 2), "backtest_cpu_s": round(cpu, 2), "runs": args.runs,
        "load_avg_1min": round(os.getloadavg()[0], 2)}))


def run_promotions(args: argparse.Namespace) -> None:
    import tomllib

    from reviewbot.evaluate.verdicts import evaluate_store
    from reviewbot.gerrit.client import GerritClient
    from reviewbot.sandbox import SandboxGerrit, generate_cycle
    from reviewbot.sync.rest import sync_once
    from reviewbot.views.backtest import run_backtest

    data = tomllib.loads((ROOT / "config" / "sandbox.toml").read_text())
    start = datetime(2015, 10, 1)
    totals: dict[str, list] = {}
    for seed in args.seeds:
        sb = SandboxGerrit()
        generate_cycle(sb, changes=args.changes, seed=seed, start=start)
        with sb.running() as url:
            data_now = {**data, "gerrit": {**data["gerrit"], "url": url},
                        "database": {"url": "sqlite://"}}
            config = validate_config(data_now)
            engine = open_store("sqlite://")
            sync_once(GerritClient(url), engine, config, since=start)
        evaluate_store(engine, config, now=AS_OF + timedelta(days=30))
        for sort in ("readiness", "reviews", "judged"):
            with session_scope(engine) as session:
                result = run_backtest(session, config, sort=sort)
            ranks = [r.rank for r in result.rows]
            totals.setdefault(sort, []).append((result.summary.hits,
                                                result.summary.promotions, ranks))
    out = {}
    for sort, runs in totals.items():
        ranked = [r for _, _, ranks in runs for r in ranks if r is not None]
        promotions = sum(p for _, p, _ in runs)
        out[sort] = {"hits_top5": sum(h for h, _, _ in runs), "promotions": promotions,
                     "ranked": len(ranked),
                     "mrr": round(sum(1 / r for r in ranked) / promotions, 3),
                     "ranks": [ranks for _, _, ranks in runs]}
    print(json.dumps({"seeds": args.seeds, "changes": args.changes, **out}))


def run_recompute(args: argparse.Namespace) -> None:
    from reviewbot.config import load_config

    config = load_config(args.config)
    engine = open_store(config.database.url)
    stored = standing_read(engine, config, False)
    if stored()[0].judgements != "stored":  # also the first touch of the store's pages
        raise SystemExit("no current stored judgements: run `reviewbot judge` first")
    wall, cpu, rows = _timed_cpu(stored, args.runs)
    replay_wall, _, _ = _timed_cpu(standing_read(engine, config, True), args.runs)
    print(json.dumps({"recompute_s": round(wall, 3), "recompute_cpu_s": round(cpu, 3),
                      "recompute_replay_s": round(replay_wall, 3),
                      "leaderboard_rows": len(rows),
                      "load_avg_1min": round(os.getloadavg()[0], 2)}))


# --- (b) the daily case: a gerrit query dump, imported, then the leaderboard ----------

def _person(i: int) -> dict:
    if i == BOT:
        return {"name": "Zuul", "email": "zuul@example.org", "username": "zuul"}
    return {"name": f"User {i}", "email": f"user{i}@example.org", "username": f"user{i}"}


def build_dump(path: Path, n_changes: int) -> None:
    """One JSON change per line, SSH `gerrit query --all-approvals --comments` format."""
    rnd = random.Random(7)
    people = list(range(1, CORES + NON_CORES + 1))
    weights = [rnd.paretovariate(1.2) for _ in people]
    start = int(datetime(2016, 3, 1).timestamp())
    end = int(AS_OF.timestamp())
    with path.open("w") as out:
        for k in range(n_changes):
            number = 300000 + k
            owner = rnd.choice(people)
            created = rnd.randrange(start, end - 86400)
            t = created
            comments, patch_sets = [], []
            for ps in range(1, rnd.choice((1, 1, 2, 2, 3, 4)) + 1):
                ps_created = t
                if ps > 1 and ps_created > end:
                    break  # the dump is taken at AS_OF: nothing after it exists yet
                comments.append({"timestamp": t, "reviewer": _person(owner),
                                 "message": f"Uploaded patch set {ps}."})
                t += 300
                comments.append({"timestamp": t, "reviewer": _person(BOT),
                                 "message": f"Patch Set {ps}: Verified+1\n\nBuild succeeded."})
                approvals = [{"type": "Verified", "value": "1", "grantedOn": t,
                              "by": _person(BOT)}]
                for _ in range(rnd.randint(1, 5)):
                    voter = rnd.choices(people, weights)[0]
                    t += rnd.randint(60, 36000)
                    core = voter <= CORES
                    value = rnd.choice((-2, -1, 1, 2, 2) if core else (-1, 1, 1, 1))
                    text = f"Patch Set {ps}: Code-Review{value:+d}"
                    if rnd.random() < 0.5:
                        text += f"\n\n({rnd.randint(1, 4)} comments)"
                    if rnd.random() < 0.5:
                        text += "\n\nPlease add a test for the error path, and a release note."
                    comments.append({"timestamp": t, "reviewer": _person(voter),
                                     "message": text})
                    approvals.append({"type": "Code-Review", "value": str(value),
                                      "grantedOn": t, "by": _person(voter)})
                    if rnd.random() < 0.15:
                        t += 120
                        comments.append({"timestamp": t, "reviewer": _person(voter),
                                         "message": f"Patch Set {ps}:\n\n(1 comment)\n\nnit"})
                patch_sets.append({
                    "number": ps, "revision": f"{number:08x}{ps:032x}",
                    "ref": f"refs/changes/{number % 100:02d}/{number}/{ps}",
                    "uploader": _person(owner), "createdOn": ps_created,
                    "author": _person(owner), "kind": "REWORK", "approvals": approvals,
                    "sizeInsertions": rnd.randint(1, 300), "sizeDeletions": -rnd.randint(0, 80),
                })
                t += rnd.randint(3600, 86400 * 3)
            status = rnd.choice(("NEW", "MERGED", "MERGED", "ABANDONED"))
            change = {
                "project": PROJECTS[k % 3], "branch": "master",
                "id": f"I{number:040x}", "number": number, "subject": f"Change {number}",
                "owner": _person(owner), "url": f"https://review.example.org/{number}",
                "commitMessage": f"Change {number}\n\nChange-Id: I{number:040x}\n",
                "createdOn": created, "lastUpdated": min(t, end), "open": status == "NEW",
                "status": status, "comments": [c for c in comments if c["timestamp"] <= end],
                "patchSets": patch_sets,
            }
            out.write(json.dumps(change) + "\n")
        out.write(json.dumps({"type": "stats", "rowCount": n_changes}) + "\n")


def run_daily(args: argparse.Namespace) -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    dump = BENCH_DIR / f"dump-{args.changes}.json"
    if not dump.exists() or args.rebuild:
        build_dump(dump, args.changes)
    results = []
    for run in range(args.runs):
        db = BENCH_DIR / f"daily-{run}.db"
        for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            p.unlink(missing_ok=True)
        cfg = BENCH_DIR / f"daily-{run}.toml"
        data = bench_config(f"sqlite:///{db}")
        # An SSH dump carries no group membership: the cores come from core_history.
        data["core_history"] = [{"username": f"user{i}", "joined": "2015-01-01"}
                                for i in range(1, CORES + 1)]
        cfg.write_text(_toml(data))
        # A child process per run, so its peak RSS is this pipeline's alone.
        out = subprocess.run(
            [sys.executable, __file__, "_daily_child", str(cfg), str(dump)],
            check=True, capture_output=True, text=True,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    keys = results[0].keys()
    print(json.dumps({k: statistics.median(r[k] for r in results) for k in keys}))


def _toml(data: dict) -> str:
    lines = []

    def val(v):
        return json.dumps(v) if not isinstance(v, bool) else str(v).lower()

    def section(name: str, d: dict) -> None:
        flat = {k: v for k, v in d.items() if not isinstance(v, dict)}
        lines.append(f"[{name}]")
        lines.extend(f"{k} = {val(v)}" for k, v in flat.items())
        for k, v in d.items():
            if isinstance(v, dict):
                section(f"{name}.{k}", v)

    for name, d in data.items():
        if isinstance(d, list):  # an array of tables, e.g. [[core_history]]
            for item in d:
                lines.append(f"[[{name}]]")
                lines.extend(f"{k} = {v if k in ('joined', 'left') else val(v)}"
                             for k, v in item.items())
            continue
        section(name, d)
    return "\n".join(lines) + "\n"


def daily_child(cfg: str, dump: str) -> None:
    import resource

    from reviewbot.cli import main
    from reviewbot.config import load_config

    t0 = time.perf_counter()
    devnull = open(os.devnull, "w")
    real_stdout, sys.stdout = sys.stdout, devnull
    try:
        code = main(["--config", cfg, "import", dump])
        t_import = time.perf_counter()
        if code != 0:
            raise SystemExit(f"reviewbot import exited {code}")
        code = main(["--config", cfg, "reviewers", "--as-of", AS_OF.strftime("%Y-%m-%d"),
                     "--json"])
    finally:
        sys.stdout = real_stdout
    t_end = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    config = load_config(cfg)
    engine = open_store(config.database.url)
    # Then the judge step (what the worker runs after a store change), and the leaderboard
    # recomputed from the filled store: from the stored judgements, and by replaying votes.
    t_judge = time.perf_counter()
    judge_store(engine, config)
    judge_s = time.perf_counter() - t_judge
    recompute, recompute_cpu, rows = _timed_cpu(standing_read(engine, config, False), 5)
    assert rows[0].judgements == "stored"
    replay, _, _ = _timed_cpu(standing_read(engine, config, True), 5)
    print(json.dumps({
        "import_s": round(t_import - t0, 3), "end_to_end_s": round(t_end - t0, 3),
        "peak_rss_mb": round(peak_mb, 1), "judge_s": round(judge_s, 3),
        "recompute_s": round(recompute, 3), "recompute_cpu_s": round(recompute_cpu, 3),
        "recompute_replay_s": round(replay, 3), "leaderboard_rows": len(rows),
    }))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_daily_child":
        daily_child(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="case", required=True)
    p = sub.add_parser("store")
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--rebuild", action="store_true")
    p.set_defaults(func=run_store)
    p = sub.add_parser("daily")
    p.add_argument("--changes", type=int, default=20_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--rebuild", action="store_true")
    p.set_defaults(func=run_daily)
    p = sub.add_parser("past")
    p.add_argument("--rows", type=int, default=1_100_000)
    p.add_argument("--runs", type=int, default=5)
    p.set_defaults(func=run_past)
    p = sub.add_parser("backtest")
    p.add_argument("--rows", type=int, default=1_100_000)
    p.add_argument("--promotions", type=int, default=30)
    p.add_argument("--runs", type=int, default=3)
    p.set_defaults(func=run_backtest_bench)
    p = sub.add_parser("promotions")
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    p.add_argument("--changes", type=int, default=800)
    p.set_defaults(func=run_promotions)
    p = sub.add_parser("recompute")
    p.add_argument("--config", default=str(BENCH_DIR / "daily-0.toml"))
    p.add_argument("--runs", type=int, default=5)
    p.set_defaults(func=run_recompute)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
