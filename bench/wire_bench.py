"""Wire benchmark: Gerrit JSON -> ChangeRecord alone (REST ChangeInfo pages, SSH dump rows).

    .venv/bin/python bench/wire_bench.py [--changes 2000] [--runs 5]

The decoding step of the sync and the import without HTTP or the store: REST
pages are the sandbox's ChangeInfo (sync options) for a generated cycle, parsed
with orjson as the client does; SSH rows are `bench/standing_bench.py`'s dump
lines. Reports CPU seconds (user+sys of this process, median of --runs) per
1,000 changes for `records_from_page` and for `from_ssh` over the same rows.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rest_pages(changes: int, page_size: int = 500) -> list[list[dict]]:
    from reviewbot.sandbox import SandboxGerrit, generate_cycle
    from reviewbot.sandbox.render import change_bytes
    from reviewbot.sandbox.server import SYNC_OPTIONS

    sb = SandboxGerrit()
    generate_cycle(sb, changes=changes, seed=1)
    with sb.lock:
        raw = [change_bytes(sb, c, frozenset(SYNC_OPTIONS)) for c in sb.changes.values()]
    pages = [b"[" + b",".join(raw[i:i + page_size]) + b"]"
             for i in range(0, len(raw), page_size)]
    return [orjson.loads(p) for p in pages]


def ssh_rows(changes: int) -> list[dict]:
    from standing_bench import build_dump

    path = Path(tempfile.gettempdir()) / f"reviewbot-wire-bench-{changes}.json"
    if not path.exists():
        build_dump(path, changes)
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = _cpu()
        fn()
        out.append(_cpu() - started)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    import reviewbot.wire as wire
    from reviewbot.wire_ssh import from_ssh

    pages = rest_pages(args.changes)
    rows = [r for r in ssh_rows(args.changes) if r.get("type") != "stats"]
    n_rest = sum(len(p) for p in pages)
    if hasattr(wire, "records_from_page"):
        def rest():
            for page in pages:
                wire.records_from_page(page)
    else:
        def rest():
            for page in pages:
                [wire.from_rest(info) for info in page]

    def ssh():
        for row in rows:
            from_ssh(row)

    rest_cpu = timed(rest, args.runs)
    ssh_cpu = timed(ssh, args.runs)
    print(f"load_average             {[round(x, 2) for x in os.getloadavg()]}")
    print(f"rest_changes             {n_rest}")
    print(f"rest_cpu_ms_per_1000     {1000 * statistics.median(rest_cpu) / n_rest * 1000:.0f}"
          f"  (all runs, s: {[round(x, 3) for x in rest_cpu]})")
    print(f"ssh_rows                 {len(rows)}")
    print(f"ssh_cpu_ms_per_1000      {1000 * statistics.median(ssh_cpu) / len(rows) * 1000:.0f}"
          f"  (all runs, s: {[round(x, 3) for x in ssh_cpu]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
