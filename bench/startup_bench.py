"""Start-up bench: wall time of the everyday CLI commands, hyperfine-style (issue 15 A, E).

    .venv/bin/python bench/startup_bench.py [--runs 10] [--changes 20000]

Each command runs as a user runs it (`.venv/bin/reviewbot ...`, a fresh process), after
one warm-up run; printed: median, min and max wall time over --runs, the median and
minimum CPU time (user + sys), and for `--help` how many modules the interpreter
imported. Stores, kept in $BENCH_DIR:

- `queue USER --json` (now: the stored review states) on `queue_bench.build_store`'s
  store (N open changes, 300,000 vote events) after `reviewbot evaluate --full`;
- `reviewers --json` (the daily leaderboard) on a store filled from the 20,000-change
  SSH dump (`standing_bench.build_dump`) by `reviewbot import` and `reviewbot judge`.

Targets: `--help` < 0.3 s, `queue` < 0.6 s, `reviewers` < 0.5 s.

Measured as deployed: an installed package has its modules compiled (pip writes the .pyc
files), so the bench compiles the reviewbot package the commands import (`compileall`)
and runs them without PYTHONDONTWRITEBYTECODE. The development machines set that
variable, and with it every run compiled reviewbot's own modules from source again,
~0.05-0.1 s of each command that no user pays.
"""

from __future__ import annotations

import argparse
import compileall
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

BENCH_DIR = Path(os.environ.get("BENCH_DIR", "/tmp/reviewbot-bench"))
REVIEWBOT = str(Path(sys.executable).parent / "reviewbot")
# The commands' environment: as deployed, bytecode files used and written (see above).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def compile_package() -> None:
    """Compile the reviewbot package the commands import (PYTHONPATH may point at another
    checkout than this bench's), as an install does."""
    where = subprocess.run([sys.executable, "-c", "import reviewbot; print(reviewbot.__path__[0])"],
                           capture_output=True, text=True, check=True, env=ENV).stdout.strip()
    compileall.compile_dir(where, quiet=1)


def wall(command: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + sys) seconds of each run. On a shared machine wall time mostly
    measures the neighbours; CPU time is what the command itself costs."""
    subprocess.run(command, capture_output=True, check=True, env=ENV)  # warm-up (page cache)
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, env=ENV)
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return times, cpu


def queue_store(changes: int, events: int) -> Path:
    from queue_bench import build_store, write_config

    folder = BENCH_DIR / f"queue-store-{changes}-{events}"  # shared with apply_bench
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "bench.db"
    config = write_config(folder, f"sqlite:///{db}")
    if not db.exists():
        build_store(f"sqlite:///{db}", changes, events)
        # Built without verdicts: the evaluate step makes them, as a cycle does.
        subprocess.run([REVIEWBOT, "--config", str(config), "evaluate", "--full"], check=True,
                       capture_output=True)
    return config


def leaderboard_store(changes: int) -> Path:
    from standing_bench import CORES, _toml, bench_config, build_dump

    dump = BENCH_DIR / f"dump-{changes}.json"
    if not dump.exists():
        build_dump(dump, changes)
    db = BENCH_DIR / f"startup-leaderboard-{changes}.db"
    config = db.with_suffix(".toml")
    data = bench_config(f"sqlite:///{db}")
    data["core_history"] = [{"username": f"user{i}", "joined": "2015-01-01"}
                            for i in range(1, CORES + 1)]
    config.write_text(_toml(data))
    if not db.exists():
        for step in (["import", str(dump)], ["judge"]):
            subprocess.run([REVIEWBOT, "--config", str(config), *step], check=True,
                           capture_output=True)
    return config


def modules_for_help() -> int:
    probe = ("import sys\nfrom reviewbot.cli import main\ntry:\n    main(['--help'])\n"
             "except SystemExit:\n    pass\nsys.stdout = sys.__stdout__\n"
             "print(len(sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env=ENV)
    return int(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--changes", type=int, default=20000,
                        help="open changes in the queue store and changes in the dump")
    args = parser.parse_args()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    compile_package()

    from queue_bench import REVIEWER
    from standing_bench import AS_OF

    queue_config = queue_store(args.changes, 300_000)
    board_config = leaderboard_store(args.changes)
    cases = [
        ("reviewbot --help", [REVIEWBOT, "--help"], 0.3),
        (f"queue {REVIEWER} --json", [REVIEWBOT, "--config", str(queue_config), "queue",
                                      REVIEWER, "--json"], 0.6),
        ("reviewers --json", [REVIEWBOT, "--config", str(board_config), "reviewers",
                              "--as-of", AS_OF.strftime("%Y-%m-%d"), "--json"], 0.5),
    ]
    load = os.getloadavg()
    results = {"load_average": [round(x, 2) for x in load],
               "modules_imported_by_help": modules_for_help()}
    for label, command, target in cases:
        times, cpu = wall(command, args.runs)
        median = statistics.median(times)
        results[label] = {"median_s": round(median, 3), "min_s": round(min(times), 3),
                          "max_s": round(max(times), 3),
                          "cpu_median_s": round(statistics.median(cpu), 3),
                          "cpu_min_s": round(min(cpu), 3), "target_s": target,
                          "met": median < target}
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    for key, value in results.items():
        print(f"{key:<26} {json.dumps(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
