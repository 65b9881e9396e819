"""Wire benchmark: Gerrit JSON -> ChangeRecord alone (REST ChangeInfo pages, SSH dump rows).

    .venv/bin/python bench/wire_bench.py [--changes 2000] [--runs 5]

The decoding step of the sync and the import without HTTP or the store, from the
bytes: REST pages (500 ChangeInfo with the sync options, for a generated cycle)
as the client receives them, parsed and validated, then made records; SSH rows
are `bench/standing_bench.py`'s dump lines, parsed with orjson and read by
`from_ssh` as the importer does. Reports CPU milliseconds (user+sys of this
process, median of --runs) per 1,000 changes.
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


def rest_pages(changes: int, page_size: int = 500) -> list[bytes]:
    from reviewbot.sandbox import SandboxGerrit, generate_cycle
    from reviewbot.sandbox.render import change_bytes
    from reviewbot.sandbox.server import SYNC_OPTIONS

    sb = SandboxGerrit()
    generate_cycle(sb, changes=changes, seed=1)
    with sb.lock:
        raw = [change_bytes(sb, c, frozenset(SYNC_OPTIONS)) for c in sb.changes.values()]
    pages = [b"[" + b",".join(raw[i:i + page_size]) + b"]"
             for i in range(0, len(raw), page_size)]
    return pages


def ssh_rows(changes: int) -> list[bytes]:
    from standing_bench import build_dump

    path = Path(tempfile.gettempdir()) / f"reviewbot-wire-bench-{changes}.json"
    if not path.exists():
        build_dump(path, changes)
    return [line for line in path.read_bytes().splitlines() if line.strip()]


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
    import reviewbot.gerrit.wire as wire
    import reviewbot.gerrit.wire_ssh as wire_ssh

    pages = rest_pages(args.changes)
    rows = [r for r in ssh_rows(args.changes) if orjson.loads(r).get("type") != "stats"]
    n_rest = sum(len(orjson.loads(p)) for p in pages)
    if hasattr(wire, "change_page_from_json"):  # issue 16: pydantic from the bytes
        def rest():
            for page in pages:
                [wire.record_from_change_info(info) for info in wire.change_page_from_json(page)]
    else:  # before: orjson, then the hand-written checks
        def rest():
            for page in pages:
                [wire.from_rest(info) for info in orjson.loads(page)]

    if hasattr(wire_ssh, "from_ssh_json"):  # issue 16: pydantic from the bytes
        def ssh():
            for row in rows:
                wire_ssh.from_ssh_json(row)
    else:
        def ssh():
            for row in rows:
                wire_ssh.from_ssh(orjson.loads(row))

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
