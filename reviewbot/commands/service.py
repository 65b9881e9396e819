"""CLI: cycle, worker and demo (the bot as a running service)."""

from __future__ import annotations

import argparse
import logging

from reviewbot.commands.context import (
    CYCLE_BUSY_EXIT,
    add_json,
    config_from,
    engine_from,
    print_json,
    run_under_cycle_lock,
)

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "cycle", help="run one sync -> Launchpad -> evaluate -> apply pass and exit",
        description="One pass of the worker's loop. Exits 1 if any step failed, "
                    f"{CYCLE_BUSY_EXIT} if another process is running a cycle right now.")
    add_json(p)
    p.set_defaults(func=cycle_command)

    p = subparsers.add_parser(
        "worker", help="run cycles every [worker] poll_seconds until SIGTERM",
        description="Runs the cycle on a schedule. Several workers may run against one "
                    "PostgreSQL database: one leads, the others stand by and take over "
                    "within one poll interval. SIGTERM/SIGINT finish the current cycle's "
                    "step, then exit 0.")
    p.add_argument("--poll-seconds", type=float, help="override [worker] poll_seconds")
    p.set_defaults(func=worker_command)

    p = subparsers.add_parser(
        "demo", help="sandbox Gerrit with live activity + first cycle + web + worker",
        description="Starts the sandbox Gerrit (a generated Glance Ocata-like cycle) on the "
                    "config's gerrit.url port, runs a first cycle into a fresh store, then "
                    "serves the web app and runs the worker until Ctrl-C. The config's "
                    "[cycle] dates are moved so that today falls three weeks before feature "
                    "freeze, and the generated history runs from the moved start to now; "
                    "the configuration it runs (moved dates, sandbox URL) is written to "
                    "DATA_DIR/demo.toml for the CLI: reviewbot --config "
                    "data/sandbox/demo.toml report.")
    p.add_argument("--changes", type=int, default=300, help="changes to generate (300)")
    p.add_argument("--seed", type=int, default=7, help="generator seed (7)")
    p.add_argument("--host", default="127.0.0.1", help="web host (127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="web port (8000)")
    p.add_argument("--gerrit-port", type=int,
                   help="sandbox port (default: the port of gerrit.url in the config)")
    p.add_argument("--activity-seconds", type=float, default=3.0,
                   help="seconds between new sandbox votes/uploads (3)")
    p.add_argument("--poll-seconds", type=float,
                   help="worker poll interval (default: [worker] poll_seconds)")
    p.add_argument("--keep-dates", action="store_true",
                   help="generate the cycle at the config's own [cycle] dates instead of "
                        "moving it to today (waits are then counted from those dates)")
    p.set_defaults(func=demo_command)


def cycle_command(args: argparse.Namespace) -> int:
    from reviewbot.config import Secrets
    from reviewbot.service.cycle import CycleSummary, run_cycle

    config = config_from(args)
    engine = engine_from(config)

    def show(summary: CycleSummary) -> int:
        if args.json:
            print_json(summary.to_dict())
        else:
            print(summary.log_line())
            for name, outcome in summary.steps.items():
                state = ("skipped: " + outcome.skipped if outcome.skipped
                         else "ok" if outcome.ok else "FAILED: " + (outcome.error or ""))
                print(f"  {name:<10} {outcome.seconds:7.2f}s  {state}")
        return 1 if summary.errors else 0

    return run_under_cycle_lock(
        config, lambda: run_cycle(config, Secrets.from_env(), engine), show)


def worker_command(args: argparse.Namespace) -> int:
    from reviewbot.config import Secrets
    from reviewbot.service.worker import Worker

    config = config_from(args)
    engine = engine_from(config)
    worker = Worker(config, Secrets.from_env(), engine, poll_seconds=args.poll_seconds)
    return worker.run_forever()


def demo_command(args: argparse.Namespace) -> int:
    from reviewbot.config import config_path
    from reviewbot.service.demo import run_demo

    return run_demo(config_from(args), args, config_path(getattr(args, "config", None)))
