"""CLI: `reviewbot web` serves the dashboard and JSON API with uvicorn."""

from __future__ import annotations

import argparse
import os

from reviewbot.commands.context import config_from


def _default_port() -> int:
    # Procfile platforms pass the port to bind in $PORT.
    value = os.environ.get("PORT", "")
    return int(value) if value.isdigit() else 8000


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("web", help="serve the dashboard and /api/v1 (uvicorn)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    p.add_argument("--port", type=int, default=None,
                   help="port to bind (default: $PORT, else 8000)")
    p.set_defaults(func=web_command)


def web_command(args: argparse.Namespace) -> int:
    import uvicorn

    from dashboards.app import create_app

    config = config_from(args)
    port = args.port if args.port is not None else _default_port()
    options = {"host": args.host, "port": port, "access_log": bool(args.verbose),
               "timeout_keep_alive": config.web.keep_alive_seconds,
               "log_level": "info" if args.verbose else "warning"}
    if config.web.workers > 1:
        # Each worker process builds its own app (own lanes, own pool) from the same file.
        from reviewbot.config import config_path

        os.environ["REVIEWBOT_CONFIG"] = str(config_path(getattr(args, "config", None)))
        uvicorn.run("dashboards.app:app_from_environment", factory=True,
                    workers=config.web.workers, **options)
        return 0
    uvicorn.run(create_app(config), **options)
    return 0
