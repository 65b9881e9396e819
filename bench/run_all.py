"""Run every bench script at small-but-meaningful sizes and print one summary table.

    .venv/bin/python bench/run_all.py [--only NAME ...] [--reviewstats PATH]
                                      [--reviewstats-python PYTHON] [--budget SECONDS]

`make bench` runs this. Sizes are chosen so the whole run stays under 15 minutes on the
2-core machine while each bench still measures its target at a size where the cost
shows (the full-size commands are in each script's docstring and in bench/RESULTS.md).
A bench script not listed in PLAN below still runs, with its own defaults, so a new
bench is never silently left out. Each bench runs in its own process with a time limit;
its output is kept in $BENCH_DIR/run_all/<name>.txt and its last lines are shown.
The reviewstats comparison runs only with --reviewstats (or $REVIEWSTATS); without
it, it says that it skipped.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
BENCH_DIR = Path(os.environ.get("BENCH_DIR", "/tmp/reviewbot-bench"))

# (script, arguments, time limit in seconds, how many output lines to show)
PLAN: list[tuple[str, list[str], int, int]] = [
    ("startup_bench.py", ["--runs", "7"], 150, 8),
    ("evaluate_bench.py", ["--changes", "20000", "--runs", "3"], 90, 6),
    ("sync_bench.py", ["--changes", "10000", "--runs", "2"], 150, 17),
    ("apply_bench.py", ["--changes", "20000", "--runs", "3"], 150, 5),
    ("import_bench.py", ["--changes", "10000", "--runs", "2"], 120, 7),
    ("report_bench.py", ["--changes", "10000", "--runs", "3"], 150, 10),
    ("queue_bench.py", ["--changes", "10000", "--events", "150000", "--requests", "100"],
     180, 12),
    ("standing_bench.py", ["daily", "--changes", "10000", "--runs", "1"], 120, 2),
    ("change_list_bench.py", ["--changes", "10000", "--runs", "5"], 90, 6),
    ("sandbox_bench.py", ["--changes", "5000", "--runs", "2"], 90, 12),
    ("web_load.py", ["--db", "sqlite", "--clients", "50", "--seconds", "15", "--changes",
                     "1000"], 180, 3),
    ("reviewstats_compare.py", ["--changes", "10000", "--rounds", "2"], 150, 18),
]
DEFAULT_LIMIT = 120


def _plan(only: list[str]) -> list[tuple[str, list[str], int, int]]:
    listed = {name for name, *_ in PLAN}
    extra = sorted(p.name for p in BENCH.glob("*.py")
                   if p.name not in listed and p.name != Path(__file__).name
                   and not p.name.startswith("_"))
    plan = PLAN + [(name, [], DEFAULT_LIMIT, 10) for name in extra]
    if only:
        plan = [row for row in plan if any(o in row[0] for o in only)]
    return plan


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[], help="run only benches named so")
    parser.add_argument("--reviewstats", default=os.environ.get("REVIEWSTATS"),
                        help="reviewstats checkout for the side-by-side bench")
    parser.add_argument("--reviewstats-python", default=os.environ.get("REVIEWSTATS_PYTHON"),
                        help="interpreter with reviewstats' requirements")
    parser.add_argument("--budget", type=float, default=15 * 60,
                        help="stop starting benches after this many seconds (900)")
    args = parser.parse_args()

    logs = BENCH_DIR / "run_all"
    logs.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    rows = []
    for name, bench_args, limit, shown in _plan(args.only):
        if name == "reviewstats_compare.py":
            if args.reviewstats:
                bench_args = [*bench_args, "--reviewstats", args.reviewstats]
            if args.reviewstats_python:
                bench_args = [*bench_args, "--reviewstats-python", args.reviewstats_python]
        spent = time.monotonic() - started
        if spent + limit > args.budget:
            rows.append((name, "not run (budget)", 0.0, []))
            continue
        command = [sys.executable, str(BENCH / name), *bench_args]
        print(f"== {name} {' '.join(bench_args)}  (load {os.getloadavg()[0]:.2f})", flush=True)
        t0 = time.monotonic()
        try:
            out = subprocess.run(command, capture_output=True, text=True, timeout=limit,
                                 cwd=BENCH.parent, check=False)
            status = "ok" if out.returncode == 0 else f"exit {out.returncode}"
            text = out.stdout + (out.stderr if out.returncode else "")
        except subprocess.TimeoutExpired as exc:
            status = f"timeout {limit}s"
            text = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (
                exc.stdout or "")
        seconds = time.monotonic() - t0
        (logs / f"{name.removesuffix('.py')}.txt").write_text(text)
        lines = [line for line in text.splitlines() if line.strip()][-shown:]
        for line in lines:
            print(f"   {line}")
        rows.append((name, status, seconds, lines))

    total = time.monotonic() - started
    print()
    print(f"{'bench':<26} {'status':<18} {'seconds':>8}")
    for name, status, seconds, _ in rows:
        print(f"{name:<26} {status:<18} {seconds:>8.1f}")
    print(f"{'total':<26} {'':<18} {total:>8.1f}   load average now "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; outputs in {logs}")
    return 0 if all(status in ("ok",) for _, status, _, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
