"""Side by side with OpenStack's reviewstats: its `reviewers` vs our import + judge + leaderboard.

    .venv/bin/python bench/reviewstats_compare.py --reviewstats PATH \
        [--reviewstats-python PYTHON] [--changes 20000] [--rounds 3] [--json OUT]

PATH is a checkout of https://opendev.org/openstack/reviewstats (not on PyPI; never part of
this repository); PYTHON an interpreter with its requirements installed (paramiko,
prettytable, PyYAML, requests...; default: this one). Without PATH the bench says so and
exits 0.

Both sides read the same 20,000-change `gerrit query --format=JSON --all-approvals
--comments` dump (`standing_bench.build_dump`, deterministic, cached in $BENCH_DIR):

- reviewstats: `reviewers -p glance.json -d DAYS` (DAYS covering the whole dump, so every
  vote in it is counted, as our judge step judges every review), run whole and
  unchanged: its `utils.get_changes` pages through `gerrit query` over SSH (`limit:5`,
  then `--start N`), keeps every change in memory and writes its pickle cache
  (`.glance-changes.pickle`, in a fresh folder each run: a first run, as ours is).
  Offline, two things are replaced: paramiko's SSHClient by one that answers each
  query from the dump file (pages of 500 lines and the stats row, as Gerrit prints
  them), and the download of the governance projects.yaml by an empty answer (the
  project file names the repositories and the core team).
- ours: `reviewbot import DUMP`, `reviewbot judge`, `reviewbot reviewers --json` into a
  fresh SQLite store, each a fresh process run as a user runs it (`python -m
  reviewbot.cli`, interpreter start and exit included; the package's bytecode compiled
  first, as an install does).

The two alternate (ABBA order across rounds) so machine load hits both alike. Wall time
is each process's, CPU time and peak RSS each process's with the children it waited for
(peak RSS: the largest single process; ours: the largest of the three steps), peak PSS
that of each process and its children together (ours: the largest step; our import
parses a large dump in a forked second process, which RSS alone would miss).
Printed: medians, the ratios ours/reviewstats, and the load average before and after.
"""

from __future__ import annotations

import sys

# The reviewstats driver runs under reviewstats' interpreter: no reviewbot import on this path.
if len(sys.argv) > 1 and sys.argv[1] == "_reviewstats":
    import io
    import json
    import re

    checkout, dump, project_file, days = sys.argv[2:6]
    sys.path.insert(0, checkout)
    # pbr versions a source checkout from its git tags; a shallow or tagless clone has
    # none, and reviewstats' __init__ would fail on import. The version is never used.
    import os

    os.environ.setdefault("PBR_VERSION", "0.0.0")
    from reviewstats import utils
    from reviewstats.cmd import reviewers

    # Where each change line of the dump starts (the last line is the stats row).
    offsets, position = [], 0
    with open(dump, "rb") as raw:
        for line in raw:
            offsets.append(position)
            position += len(line)
    offsets.pop()

    class DumpSSHClient:
        """paramiko.SSHClient answering `gerrit query ... [--start N] [limit:5]` from the
        dump: pages of at most 500 rows (Gerrit's SSH query limit), each followed by the
        stats row, as the server prints them."""

        def load_system_host_keys(self) -> None: ...
        def set_missing_host_key_policy(self, policy: object) -> None: ...
        def connect(self, *args: object, **kwargs: object) -> None: ...
        def close(self) -> None: ...

        def exec_command(self, command: str) -> tuple:
            found = re.search(r"--start (\d+)", command)
            first = int(found.group(1)) if found else 0
            rows = offsets[first: first + (5 if "limit:5" in command else 500)]
            lines = []
            with open(dump, encoding="utf-8") as text:
                for offset in rows[:1]:
                    text.seek(offset)
                    lines = [text.readline() for _ in rows]
            lines.append(json.dumps({"type": "stats", "rowCount": len(rows)}) + "\n")
            return None, iter(lines), None

    utils.paramiko.SSHClient = DumpSSHClient
    utils.get_remote_data = lambda address, datatype="json": {}
    sys.argv = ["reviewers", "-p", project_file, "-d", days]  # its main reads sys.argv
    real_stdout, sys.stdout = sys.stdout, io.StringIO()
    try:
        code = reviewers.main()
        table = sys.stdout.getvalue()
    finally:
        sys.stdout = real_stdout
    total = next((line for line in table.splitlines() if line.startswith("Total reviews:")), "")
    print(json.dumps({"code": code, "summary": total}))  # time and memory: measured outside
    raise SystemExit(0)

import argparse
import compileall
import json
import os
import statistics
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(os.environ.get("BENCH_DIR", "/tmp/reviewbot-bench"))
DUMP_START = datetime(2016, 3, 1)  # standing_bench.build_dump's first change


# Both sides run as deployed: bytecode files used (and written once), not every module
# compiled again on every run as under the development machines' PYTHONDONTWRITEBYTECODE.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _tree_pss_kib(pid: int) -> int:
    """Proportional set size of a process and its descendants (Linux): memory shared
    between a process and its forked child is counted once, split between them."""
    total = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            total = next((int(line.split()[1]) for line in rollup if line.startswith("Pss:")), 0)
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            total += sum(_tree_pss_kib(int(child)) for child in children.read().split())
    except (OSError, ValueError):
        pass  # it ended while being read
    return total


def _timed(command: list[str], cwd: str | None = None, env: dict | None = None) -> dict:
    """Run one process to its end: wall time, CPU time and peak RSS (of it and the
    children it waited for: the largest single process), and the peak PSS of it and its
    children together, sampled every 100 ms (ours parses a large dump in a forked second
    process, which RSS alone would miss; each sample reads /proc/PID/smaps_rollup, ~1.5 ms
    of CPU per process, taken from the cores the processes measured run on)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True, cwd=cwd,
                                   env={**ENV, **(env or {})})
        peak_pss = 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak_pss = max(peak_pss, _tree_pss_kib(process.pid))
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command[:6])}... failed ({process.returncode}):\n"
                         f"{stderr[-2000:]}")
    return {"seconds": seconds, "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_rss_mb": usage.ru_maxrss / 1024, "peak_pss_mb": peak_pss / 1024,
            "stdout": stdout}


def run_reviewstats(python: str, checkout: Path, dump: Path, project_file: Path) -> dict:
    days = (datetime.utcnow() - DUMP_START).days + 2
    with tempfile.TemporaryDirectory() as cwd:  # its pickle cache goes to the cwd
        result = _timed([python, __file__, "_reviewstats", str(checkout), str(dump),
                         str(project_file), str(days)], cwd=cwd)
    summary = json.loads(result["stdout"].strip().splitlines()[-1])
    if summary["code"] not in (0, None):
        raise SystemExit(f"reviewstats exited {summary['code']}")
    return {**result, "summary": summary["summary"]}


def run_ours(dump: Path, folder: Path) -> dict:
    from standing_bench import AS_OF, CORES, _toml, bench_config

    db = folder / "compare.db"
    for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        p.unlink(missing_ok=True)
    config = folder / "compare.toml"
    data = bench_config(f"sqlite:///{db}")
    # An SSH dump carries no group membership: the cores come from core_history.
    data["core_history"] = [{"username": f"user{i}", "joined": "2015-01-01"}
                            for i in range(1, CORES + 1)]
    config.write_text(_toml(data))
    steps = {}
    for name, args in (("import", ["import", str(dump)]), ("judge", ["judge"]),
                       ("reviewers", ["reviewers", "--as-of", AS_OF.strftime("%Y-%m-%d"),
                                      "--json"])):
        # As a user runs it: `python -m reviewbot.cli` is `reviewbot` (the console script)
        # without the editable install's finder; from a folder holding no package.
        steps[name] = _timed([sys.executable, "-m", "reviewbot.cli", "--config", str(config),
                              *args], cwd=str(folder), env={"PYTHONPATH": str(ROOT)})
    return {
        "import_s": steps["import"]["seconds"], "judge_s": steps["judge"]["seconds"],
        "reviewers_s": steps["reviewers"]["seconds"],
        "import_judge_s": steps["import"]["seconds"] + steps["judge"]["seconds"],
        "import_judge_cpu_s": steps["import"]["cpu_s"] + steps["judge"]["cpu_s"],
        "total_s": sum(s["seconds"] for s in steps.values()),
        "peak_rss_mb": max(s["peak_rss_mb"] for s in steps.values()),
        "peak_pss_mb": max(s["peak_pss_mb"] for s in steps.values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviewstats", type=Path, help="path of a reviewstats checkout")
    parser.add_argument("--reviewstats-python", default=sys.executable,
                        help="interpreter with reviewstats' requirements (default: this one)")
    parser.add_argument("--changes", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    checkout = args.reviewstats
    if checkout is None or not (checkout / "reviewstats" / "cmd" / "reviewers.py").exists():
        print(f"reviewstats comparison skipped: no reviewstats checkout at "
              f"{checkout or '(no --reviewstats given)'}; clone "
              "https://opendev.org/openstack/reviewstats and pass --reviewstats PATH")
        return 0
    probe = subprocess.run([args.reviewstats_python, "-c", "import paramiko, prettytable, yaml"],
                           capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        print(f"reviewstats comparison skipped: {args.reviewstats_python} lacks reviewstats' "
              "requirements (pip install -r requirements.txt in a separate venv and pass "
              "--reviewstats-python)")
        return 0

    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(ROOT))
    from standing_bench import CORES, PROJECTS, build_dump

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    dump = BENCH_DIR / f"dump-{args.changes}.json"
    if not dump.exists():
        build_dump(dump, args.changes)
    project_file = BENCH_DIR / "reviewstats-glance.json"
    project_file.write_text(json.dumps({
        "name": "glance", "subprojects": PROJECTS,
        "core-team": [f"user{i}" for i in range(1, CORES + 1)]}))

    compileall.compile_dir(str(ROOT / "reviewbot"), quiet=1)
    load_before = os.getloadavg()
    theirs, ours = [], []
    for round_ in range(args.rounds):
        order = ("theirs", "ours") if round_ % 2 == 0 else ("ours", "theirs")
        for side in order:
            if side == "theirs":
                theirs.append(run_reviewstats(args.reviewstats_python, checkout, dump,
                                              project_file))
            else:
                ours.append(run_ours(dump, BENCH_DIR))
        print(f"round {round_ + 1}: reviewstats {theirs[-1]['seconds']:.2f} s "
              f"{theirs[-1]['peak_rss_mb']:.0f} MB; ours import {ours[-1]['import_s']:.2f} s + "
              f"judge {ours[-1]['judge_s']:.2f} s + reviewers {ours[-1]['reviewers_s']:.2f} s, "
              f"{ours[-1]['peak_rss_mb']:.0f} MB (all processes, PSS: reviewstats "
              f"{theirs[-1]['peak_pss_mb']:.0f} MB, ours {ours[-1]['peak_pss_mb']:.0f} MB)",
              flush=True)
    load_after = os.getloadavg()
    print(f"reviewstats counted: {theirs[-1]['summary']}")

    def median(rows: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    rs_s, rs_mb = median(theirs, "seconds"), median(theirs, "peak_rss_mb")
    results = {
        "changes": args.changes,
        "dump_mb": round(dump.stat().st_size / 2**20),
        "rounds": args.rounds,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "reviewstats_s": round(rs_s, 2),
        "reviewstats_peak_rss_mb": round(rs_mb),
        "ours_import_s": round(median(ours, "import_s"), 2),
        "ours_judge_s": round(median(ours, "judge_s"), 2),
        "ours_reviewers_s": round(median(ours, "reviewers_s"), 2),
        "ours_import_judge_s": round(median(ours, "import_judge_s"), 2),
        "ours_total_s": round(median(ours, "total_s"), 2),
        "ours_peak_rss_mb": round(median(ours, "peak_rss_mb")),
        "reviewstats_cpu_s": round(median(theirs, "cpu_s"), 2),
        "ours_import_judge_cpu_s": round(median(ours, "import_judge_cpu_s"), 2),
        "ratio_import_judge_cpu": round(median(ours, "import_judge_cpu_s")
                                        / median(theirs, "cpu_s"), 2),
        "ratio_import_judge_wall": round(median(ours, "import_judge_s") / rs_s, 2),
        "ratio_total_wall": round(median(ours, "total_s") / rs_s, 2),
        "ratio_peak_rss": round(median(ours, "peak_rss_mb") / rs_mb, 2),
        "reviewstats_peak_pss_mb": round(median(theirs, "peak_pss_mb")),
        "ours_peak_pss_mb": round(median(ours, "peak_pss_mb")),
        "ratio_peak_pss": round(median(ours, "peak_pss_mb") / median(theirs, "peak_pss_mb"), 2),
    }
    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"{key.ljust(width)}  {value}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
