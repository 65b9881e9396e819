"""Configuration: read the TOML file, validate it once, phrase each error as `key.path: problem`."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from reviewbot.config.errors import ConfigError
from reviewbot.config.model import Config

DEFAULT_CONFIG_PATH = "config/reviewbot.toml"


def _key_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path or "(top level)"


def _phrase(error: ErrorDetails) -> str:
    ctx = error.get("ctx") or {}
    kind = error["type"]
    if kind == "greater_than_equal":
        return f"must be >= {ctx['ge']}"
    if kind == "greater_than":
        return f"must be > {ctx['gt']}"
    if kind == "less_than_equal":
        return f"must be <= {ctx['le']}"
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known key"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return error["msg"]


def validate_config(data: dict[str, Any]) -> Config:
    """Validate a parsed TOML mapping; raise ConfigError listing `key.path: problem` lines."""
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if p not in ("function-after",))
            phrase = _phrase(error)
            if not loc and re.match(r"^[a-z_]+([.\[][\w.\[\]]*)?: ", phrase):
                # a whole-file check that already names its key (one line per problem)
                problems.extend(phrase.split("\n"))
            else:
                problems.append(f"{_key_path(loc)}: {phrase}")
        raise ConfigError(problems) from None


def config_path(explicit: str | None = None) -> Path:
    return Path(explicit or os.environ.get("REVIEWBOT_CONFIG") or DEFAULT_CONFIG_PATH)


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate the TOML file; every failure is a ConfigError."""
    file = config_path(str(path) if path else None)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError([f"{file}: cannot read config file ({exc.strerror})"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{file}: not valid TOML ({exc})"]) from None
    return validate_config(data)
