"""CLI: `reviewbot sandbox` serves the sandbox Gerrit with a generated Glance Ocata-like cycle."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time

log = logging.getLogger("reviewbot.sandbox")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "sandbox",
        help="serve a fake Gerrit (REST over HTTP) with a generated Glance Ocata-like cycle",
    )
    p.add_argument("--changes", type=int, default=300, help="changes to generate (default 300)")
    p.add_argument("--seed", type=int, default=1, help="generator seed (same seed, same data)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 = any free)")
    p.add_argument(
        "--activity",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="every SECONDS add a new vote or upload 'now' (default: off)",
    )
    p.add_argument(
        "--no-prewarm",
        action="store_true",
        help="don't pre-render the sync option set in the background",
    )
    p.set_defaults(func=run_sandbox)


def run_sandbox(args: argparse.Namespace) -> int:
    from reviewbot.sandbox import BOT_PASSWORD, BOT_USERNAME, SandboxGerrit, generate_cycle

    if args.changes < 0:
        print("--changes must be >= 0", file=sys.stderr)
        return 2
    started = time.monotonic()
    sb = SandboxGerrit()
    generate_cycle(sb, changes=args.changes, seed=args.seed)
    try:
        url = sb.start(port=args.port, host=args.host)
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    if args.activity > 0:
        sb.start_activity(every_seconds=args.activity, seed=args.seed)
    activity = f"every {args.activity:g}s" if args.activity > 0 else "off"
    # Machine-readable first line: tools that spawn the sandbox wait for it.
    print(f"SANDBOX_URL={url}", flush=True)
    print(
        f"sandbox Gerrit on {url}: {args.changes} changes (seed {args.seed}) generated in "
        f"{time.monotonic() - started:.1f}s; core group glance-core, bot group Service Users\n"
        f"write-back credentials: REVIEWBOT_GERRIT_USERNAME={BOT_USERNAME} "
        f"REVIEWBOT_GERRIT_PASSWORD={BOT_PASSWORD}\n"
        f"activity: {activity}; "
        "Ctrl-C to stop",
        flush=True,
    )
    if not args.no_prewarm:

        def prewarm() -> None:
            rendered = sb.prewarm()
            # Machine-readable too: `sandbox_process(prewarm=True)` waits for this line.
            # One write call, after the banner, so lines never interleave.
            sys.stdout.write(f"SANDBOX_PREWARMED={rendered}\n")
            sys.stdout.flush()

        threading.Thread(target=prewarm, name="sandbox-prewarm", daemon=True).start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sb.stop()
    return 0
