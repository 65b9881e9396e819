"""Demo: sandbox Gerrit with live activity, a first cycle, then web app + worker in one process.

Everything runs in threads of one process (sandbox HTTP server, its activity
generator, the APScheduler worker, uvicorn), so Ctrl-C or SIGTERM stops all
of it in order: web first, then the worker after its running step, then the
sandbox. The Procfile's `web:` and `worker:` are the same code run as two
processes.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import sys
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from reviewbot.clock import utcnow
from reviewbot.config import Config, Secrets
from reviewbot.store import normalise_url

if TYPE_CHECKING:
    from reviewbot.sandbox import SandboxGerrit

log = logging.getLogger(__name__)

# Where "today" falls in the demo's cycle: this many days before feature
# freeze, the busy stretch where the queue and the gate matter most.
DAYS_BEFORE_FREEZE = 21


def cycle_moved_to(config: Config, today: date) -> tuple[Config, timedelta]:
    """The config with its [cycle] (and core history) dates moved so `today` is inside the cycle.

    The sandbox generates a Glance Ocata-like history; replayed at its 2016
    dates, every wait would be years long next to the real clock. Moving the
    whole cycle keeps its length and milestone spacing and puts today
    DAYS_BEFORE_FREEZE days before feature freeze (or two thirds of the way
    through a cycle without one). Only this in-memory copy changes.
    """
    cycle = config.cycle
    if cycle.feature_freeze is not None:
        target = cycle.feature_freeze - timedelta(days=DAYS_BEFORE_FREEZE)
        target = max(cycle.start, min(target, cycle.end))
    else:
        target = cycle.start + (cycle.end - cycle.start) * 2 // 3
    offset = timedelta(days=(today - target).days)
    moved = cycle.model_copy(update={
        "start": cycle.start + offset,
        "end": cycle.end + offset,
        "feature_freeze": cycle.feature_freeze + offset if cycle.feature_freeze else None,
        "milestones": {name: day + offset for name, day in cycle.milestones.items()},
    })
    history = [entry.model_copy(update={
        "joined": entry.joined + offset,
        "left": entry.left + offset if entry.left else None,
    }) for entry in config.core_history]
    return config.model_copy(update={"cycle": moved, "core_history": history}), offset


def _cycle_line(config: Config) -> str:
    cycle = config.cycle
    freeze = cycle.feature_freeze
    marks = [(cycle.start, "start")]
    marks += [(day, name + (" = feature freeze" if day == freeze else ""))
              for name, day in cycle.milestones.items()]
    if freeze is not None and freeze not in cycle.milestones.values():
        marks.append((freeze, "feature freeze"))
    marks.append((cycle.end, "end"))
    return f"cycle {cycle.name}: " + ", ".join(f"{name} {day}" for day, name in sorted(marks))


DEMO_CONFIG_NAME = "demo.toml"


def demo_config_text(source: dict[str, Any], config: Config, note: str) -> str:
    """The TOML of the configuration the demo really runs: the source file's own keys with
    the demo's [cycle], [[core_history]] and gerrit.url put in, so the CLI reads the same
    dates over the same data as the pages."""
    import tomli_w

    data = dict(source)
    data["gerrit"] = {**source.get("gerrit", {}), "url": config.gerrit.url}
    data["cycle"] = config.cycle.model_dump(exclude_none=True)
    if config.core_history or "core_history" in source:
        data["core_history"] = [e.model_dump(exclude_none=True) for e in config.core_history]
    header = "".join(f"# {line}\n" for line in note.splitlines())
    return header + "\n" + tomli_w.dumps(data)


def write_demo_config(source_path: Path, config: Config, note: str) -> Path:
    """Write demo_config_text next to the demo's data (data_dir/demo.toml); returns its path."""
    import tomllib

    target = Path(config.data_dir) / DEMO_CONFIG_NAME
    if target.resolve() == source_path.resolve():
        raise SystemExit(f"reviewbot demo: {source_path} would be overwritten by the demo's own "
                         f"configuration; name the config file anything but {DEMO_CONFIG_NAME}")
    source = tomllib.loads(source_path.read_text(encoding="utf-8"))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(demo_config_text(source, config, note), encoding="utf-8")
    return target


def _shown(path: Path) -> str:
    """A path as typed from the current directory: relative below it, absolute elsewhere."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path.resolve())


def _pointed_at(config: Config, port: int) -> Config:
    url = f"http://127.0.0.1:{port}"
    return config.model_copy(update={"gerrit": config.gerrit.model_copy(update={"url": url})})


def _fresh_sqlite(config: Config) -> None:
    """The sandbox is generated anew each run, so the demo store starts empty too."""
    url = normalise_url(config.database.url)
    if not url.startswith("sqlite:///") or url.startswith("sqlite:///:memory:"):
        return
    db = Path(url[len("sqlite:///"):]).expanduser()
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        path.unlink(missing_ok=True)


def _say(text: str) -> None:
    print(f"reviewbot demo: {text}", file=sys.stderr, flush=True)


def add_demo_bot(sandbox: SandboxGerrit, config: Config) -> tuple[str, str]:
    """The sandbox's bot account with a password made up now: demo-only, never stored or shown.

    The generator's bot account comes with a fixed test password; the demo
    replaces it, so nothing committed to the repository opens the demo Gerrit.
    """
    from reviewbot.sandbox import BOT_USERNAME

    password = secrets.token_urlsafe(18)
    with sandbox.lock:
        if BOT_USERNAME in sandbox.by_username:
            account = sandbox.account(BOT_USERNAME)
            account.password = password
            account.may_edit_hashtags = True
        else:
            sandbox.add_account(BOT_USERNAME, "Review Bot", password=password)
    if sandbox.find_group(config.gerrit.bot_group) is not None:
        sandbox.add_group_member(config.gerrit.bot_group, BOT_USERNAME)
    return BOT_USERNAME, password


def run_demo(config: Config, args: argparse.Namespace, source_path: Path) -> int:
    import uvicorn

    from dashboards.app import create_app
    from reviewbot.sandbox import SandboxGerrit, generate_cycle
    from reviewbot.service.coordination import cycle_guard
    from reviewbot.service.cycle import run_cycle
    from reviewbot.service.worker import Worker
    from reviewbot.store import open_store

    gerrit_port = args.gerrit_port or urlsplit(config.gerrit.url).port or 8080
    config = _pointed_at(config, gerrit_port)
    poll = float(args.poll_seconds or config.worker.poll_seconds)
    # The pages judge the data's freshness by the interval the worker really polls at.
    config = config.model_copy(update={
        "worker": config.worker.model_copy(update={"poll_seconds": poll})})

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    now = utcnow()
    moved_by = None
    if args.keep_dates:
        first_day = datetime.combine(config.cycle.start, datetime.min.time())
        last_day = datetime.combine(config.cycle.end, datetime.min.time())
        history_end = None
        _say(f"{_cycle_line(config)} (the config's own dates, --keep-dates: waits are "
             "counted up to today, so they are years long)")
    else:
        config, offset = cycle_moved_to(config, now.date())
        moved_by = offset.days
        first_day = datetime.combine(config.cycle.start, datetime.min.time())
        last_day = history_end = now
        freeze = config.cycle.feature_freeze
        where = (f"{(freeze - now.date()).days} days before feature freeze" if freeze
                 else "two thirds of the way through")
        _say(f"{_cycle_line(config)}. Moved {offset.days:+d} days from the config's dates so "
             f"that today, {now.date()}, is inside the cycle, {where} (the config file is left "
             "alone; --keep-dates keeps its dates)")
    how = (f"[cycle] dates moved {moved_by:+d} days so that today is inside the cycle"
           if moved_by is not None else "[cycle] dates as in the source (--keep-dates)")
    written = write_demo_config(source_path, config, (
        f"Written by `reviewbot demo` on {now:%Y-%m-%d %H:%M} UTC; rewritten at every start.\n"
        f"The configuration the demo runs: {source_path} with gerrit.url = "
        f"{config.gerrit.url} and {how}.\nQuery the demo's store with it, e.g. "
        f"reviewbot --config {_shown(Path(config.data_dir) / DEMO_CONFIG_NAME)} report"))
    _say(f"wrote the configuration this demo runs to {_shown(written)}; the CLI reads what "
         f"the pages show with: reviewbot --config {_shown(written)} report")
    _say(f"generating a Glance Ocata-like cycle with {args.changes} changes (seed {args.seed}) "
         f"from {first_day.date()} to {last_day.date()}")
    sandbox = SandboxGerrit()
    generate_cycle(sandbox, changes=args.changes, seed=args.seed, start=first_day,
                   end=last_day, not_after=history_end)
    username, password = add_demo_bot(sandbox, config)
    # Child processes (e.g. `honcho start` from this shell) would read these;
    # they are only in this process's environment, never written anywhere.
    os.environ["REVIEWBOT_GERRIT_USERNAME"] = username
    os.environ["REVIEWBOT_GERRIT_PASSWORD"] = password
    creds = Secrets.from_env()
    try:
        sandbox.start(port=gerrit_port)
    except OSError as exc:
        _say(f"cannot listen on 127.0.0.1:{gerrit_port} for the sandbox Gerrit ({exc.strerror}); "
             "pass --gerrit-port")
        return 1
    server = None
    worker = None
    web_thread = None
    try:
        _say(f"sandbox Gerrit at {sandbox.url}")
        _fresh_sqlite(config)
        engine = open_store(config.database.url)
        with cycle_guard(config):
            first = run_cycle(config, creds, engine)
        _say("first " + first.log_line())
        if stop.is_set():
            return 0
        sandbox.start_activity(args.activity_seconds, seed=args.seed)
        worker = Worker(config, creds, engine, poll_seconds=poll)
        worker.start(first_run_delay=poll)
        app = create_app(config, secrets=creds, engine=engine)
        server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port,
                                               log_level="warning", lifespan="off"))
        # In a thread uvicorn installs no signal handlers; ours above decide.
        web_thread = threading.Thread(target=server.run, name="web", daemon=True)
        web_thread.start()
        deadline = time.monotonic() + 15
        while not server.started and web_thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not server.started:
            _say(f"the web app could not start on {args.host}:{args.port}; pass --port")
            return 1
        _say(f"web app on http://{args.host}:{args.port} ; worker polls every {poll:g} s; "
             f"sandbox activity every {args.activity_seconds:g} s. Ctrl-C stops.")
        while not stop.wait(0.5):
            if not web_thread.is_alive():
                _say("the web app stopped unexpectedly")
                return 1
        _say("stopping")
        return 0
    finally:
        if server is not None:
            server.should_exit = True
        if web_thread is not None:
            web_thread.join(10)
        if worker is not None:
            worker.stop()
            worker.wait_and_shutdown()
        sandbox.stop()
