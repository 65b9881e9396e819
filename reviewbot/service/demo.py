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
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from reviewbot.clock import utcnow
from reviewbot.config import Config, Secrets
from reviewbot.store import normalise_url

if TYPE_CHECKING:
    import uvicorn
    from sqlalchemy.engine import Engine

    from reviewbot.sandbox import SandboxGerrit
    from reviewbot.service.worker import Worker

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
    """Start the sandbox, run a first cycle, then serve web + worker until Ctrl-C/SIGTERM;
    what fails to start is said and is exit status 1, and what started is stopped."""
    gerrit_port = args.gerrit_port or urlsplit(config.gerrit.url).port or 8080
    config = _pointed_at(config, gerrit_port)
    poll = float(args.poll_seconds or config.worker.poll_seconds)
    # The pages judge the data's freshness by the interval the worker really polls at.
    config = config.model_copy(update={
        "worker": config.worker.model_copy(update={"poll_seconds": poll})})
    stop = _stop_on_signals()
    now = utcnow()
    config, window = _demo_window(config, args.keep_dates, now)
    _write_run_config(source_path, config, window.moved_by, now)
    sandbox, creds = _generated_sandbox(config, args, window)
    try:
        sandbox.start(port=gerrit_port)
    except OSError as exc:
        _say(f"cannot listen on 127.0.0.1:{gerrit_port} for the sandbox Gerrit ({exc.strerror}); "
             "pass --gerrit-port")
        return 1
    running = _Running()
    try:
        _say(f"sandbox Gerrit at {sandbox.url}")
        engine = _first_cycle(config, creds)
        if stop.is_set():
            return 0
        sandbox.start_activity(args.activity_seconds, seed=args.seed)
        running.start_worker(config, creds, engine, poll)
        if not running.start_web(config, creds, engine, args.host, args.port):
            _say(f"the web app could not start on {args.host}:{args.port}; pass --port")
            return 1
        _say(f"web app on http://{args.host}:{args.port} ; worker polls every {poll:g} s; "
             f"sandbox activity every {args.activity_seconds:g} s. Ctrl-C stops.")
        return running.serve_until(stop)
    finally:
        running.stop()
        sandbox.stop()


def _stop_on_signals() -> threading.Event:
    """Set on SIGINT or SIGTERM: the demo then stops everything in order."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


@dataclass(frozen=True)
class _Window:
    """The stretch the sandbox's history is generated over, and how far [cycle] moved."""

    first_day: datetime
    last_day: datetime
    history_end: datetime | None  # no activity generated after it (None: up to last_day)
    moved_by: int | None  # days; None with --keep-dates


def _demo_window(config: Config, keep_dates: bool, now: datetime) -> tuple[Config, _Window]:
    """The config the demo runs (its cycle moved to today, unless `keep_dates`) and the
    history's window; says which."""
    if keep_dates:
        _say(f"{_cycle_line(config)} (the config's own dates, --keep-dates: waits are "
             "counted up to today, so they are years long)")
        return config, _Window(first_day=_midnight(config.cycle.start),
                               last_day=_midnight(config.cycle.end), history_end=None,
                               moved_by=None)
    config, offset = cycle_moved_to(config, now.date())
    freeze = config.cycle.feature_freeze
    where = (f"{(freeze - now.date()).days} days before feature freeze" if freeze
             else "two thirds of the way through")
    _say(f"{_cycle_line(config)}. Moved {offset.days:+d} days from the config's dates so "
         f"that today, {now.date()}, is inside the cycle, {where} (the config file is left "
         "alone; --keep-dates keeps its dates)")
    return config, _Window(first_day=_midnight(config.cycle.start), last_day=now,
                           history_end=now, moved_by=offset.days)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time())


def _write_run_config(source_path: Path, config: Config, moved_by: int | None,
                      now: datetime) -> None:
    """Write the configuration the demo runs (write_demo_config) and say how to use it."""
    how = (f"[cycle] dates moved {moved_by:+d} days so that today is inside the cycle"
           if moved_by is not None else "[cycle] dates as in the source (--keep-dates)")
    written = write_demo_config(source_path, config, (
        f"Written by `reviewbot demo` on {now:%Y-%m-%d %H:%M} UTC; rewritten at every start.\n"
        f"The configuration the demo runs: {source_path} with gerrit.url = "
        f"{config.gerrit.url} and {how}.\nQuery the demo's store with it, e.g. "
        f"reviewbot --config {_shown(Path(config.data_dir) / DEMO_CONFIG_NAME)} report"))
    _say(f"wrote the configuration this demo runs to {_shown(written)}; the CLI reads what "
         f"the pages show with: reviewbot --config {_shown(written)} report")


def _generated_sandbox(config: Config, args: argparse.Namespace, window: _Window
                       ) -> tuple[SandboxGerrit, Secrets]:
    """The sandbox Gerrit with the cycle's history generated (not listening yet) and the
    bot's credentials for it."""
    from reviewbot.sandbox import SandboxGerrit, generate_cycle

    _say(f"generating a Glance Ocata-like cycle with {args.changes} changes (seed {args.seed}) "
         f"from {window.first_day.date()} to {window.last_day.date()}")
    sandbox = SandboxGerrit()
    generate_cycle(sandbox, changes=args.changes, seed=args.seed, start=window.first_day,
                   end=window.last_day, not_after=window.history_end)
    username, password = add_demo_bot(sandbox, config)
    # Child processes (e.g. `honcho start` from this shell) would read these;
    # they are only in this process's environment, never written anywhere.
    os.environ["REVIEWBOT_GERRIT_USERNAME"] = username
    os.environ["REVIEWBOT_GERRIT_PASSWORD"] = password
    return sandbox, Secrets.from_env()


def _first_cycle(config: Config, creds: Secrets) -> Engine:
    """A fresh store with one cycle run into it (under the cycle lock); says its summary."""
    from reviewbot.service.coordination import cycle_guard
    from reviewbot.service.cycle import run_cycle
    from reviewbot.store import open_store

    _fresh_sqlite(config)
    engine = open_store(config.database.url)
    with cycle_guard(config):
        first = run_cycle(config, creds, engine)
    _say("first " + first.log_line())
    return engine


@dataclass
class _Running:
    """The worker and the web app once started, stopped web first, then the worker."""

    worker: Worker | None = None
    server: uvicorn.Server | None = None
    web_thread: threading.Thread | None = None

    def start_worker(self, config: Config, creds: Secrets, engine: Engine, poll: float) -> None:
        from reviewbot.service.worker import Worker

        self.worker = Worker(config, creds, engine, poll_seconds=poll)
        self.worker.start(first_run_delay=poll)

    def start_web(self, config: Config, creds: Secrets, engine: Engine, host: str,
                  port: int) -> bool:
        """Serve the web app in a thread; False when it is not up within 15 s."""
        import uvicorn

        from dashboards.app import create_app

        app = create_app(config, secrets=creds, engine=engine)
        server = self.server = uvicorn.Server(uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="off"))
        # In a thread uvicorn installs no signal handlers; ours (_stop_on_signals) decide.
        web_thread = self.web_thread = threading.Thread(target=server.run, name="web",
                                                        daemon=True)
        web_thread.start()
        deadline = time.monotonic() + 15
        while not server.started and web_thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        return bool(server.started)

    def serve_until(self, stop: threading.Event) -> int:
        """Wait for `stop` (0) or for the web app to stop on its own (1)."""
        while not stop.wait(0.5):
            if self.web_thread is None or not self.web_thread.is_alive():
                _say("the web app stopped unexpectedly")
                return 1
        _say("stopping")
        return 0

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.web_thread is not None:
            self.web_thread.join(10)
        if self.worker is not None:
            self.worker.stop()
            self.worker.wait_and_shutdown()
