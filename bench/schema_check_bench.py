"""Start-up schema check: what opening an up-to-date store costs, quick check vs an Alembic run.

Each measurement is a fresh process (imports included, as every command pays them):
`open_store` on a current store (one `SELECT version_num` and a look at the migration
scripts' revision lines), against the same open followed by the Alembic no-op upgrade
every start used to run. Prints the medians.

    .venv/bin/python bench/schema_check_bench.py [--runs 7] [--url postgresql://...]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

QUICK = """
import sys, time
t = time.perf_counter()
from reviewbot.store import open_store
open_store(sys.argv[1]).dispose()
print(time.perf_counter() - t)
"""

ALEMBIC = """
import sys, time
t = time.perf_counter()
from alembic import command
from alembic.config import Config
from reviewbot.store import _MIGRATIONS, make_engine
engine = make_engine(sys.argv[1])
cfg = Config()
cfg.set_main_option("script_location", str(_MIGRATIONS))
with engine.begin() as connection:
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")
engine.dispose()
print(time.perf_counter() - t)
"""


def timed(code: str, url: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True,
                              check=True)
        times.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--url", help="a store URL (default: a new SQLite file)")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    from reviewbot.store import open_store

    open_store(url).dispose()  # the schema is current from here on
    quick = timed(QUICK, url, args.runs)
    alembic = timed(ALEMBIC, url, args.runs)
    print(f"open_store on a current schema: {quick * 1000:.0f} ms (median of {args.runs})")
    print(f"the same with the Alembic no-op upgrade: {alembic * 1000:.0f} ms "
          f"(+{(alembic - quick) * 1000:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
