"""Sandbox Gerrit query language: the tokens of `q=` and its literal values (quoted, times, ages).

`reviewbot.sandbox.query` parses the tokens into a predicate; every problem is a QueryError
(the server answers 400).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta


class QueryError(ValueError):
    """Bad query syntax or an operator the sandbox (or Gerrit) doesn't know."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lp>\() | (?P<rp>\)) |
        (?P<term>-?[A-Za-z_]+:(?:"(?:[^"\\]|\\.)*"|\{[^}]*\}|[^\s()]+)) |
        (?P<neg>-(?=[(A-Za-z])) |
        (?P<word>"(?:[^"\\]|\\.)*"|[^\s()]+)
    )""",
    re.VERBOSE,
)
_AGE = re.compile(
    r"^(?P<n>\d+)\s*(?P<unit>s|sec|secs|second|seconds|m|min|mins|minute|minutes|"
    r"h|hr|hrs|hour|hours|d|day|days|w|week|weeks|mon|month|months|y|year|years)$"
)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "mon": 2592000, "y": 31536000}


def parse_age(value: str) -> timedelta:
    """`3d`, `2 weeks`, `1mon`: Gerrit's age units (`m` minutes, `mon` months)."""
    m = _AGE.match(value.strip().lower())
    if not m:
        raise QueryError(f"Unsupported age: {value}")
    unit = m["unit"]
    if unit.startswith("mon"):
        seconds = _UNIT_SECONDS["mon"]
    elif unit.startswith("mi"):
        seconds = _UNIT_SECONDS["m"]
    else:
        seconds = _UNIT_SECONDS[unit[0]]
    return timedelta(seconds=int(m["n"]) * seconds)


def tokenize(query: str) -> list[tuple[str, str]]:
    tokens = []
    pos = 0
    text = query.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise QueryError(f"line 1:{pos} no viable alternative at character '{text[pos]}'")
        pos = m.end()
        kind = m.lastgroup
        if kind is None:  # every alternative of _TOKEN is a named group
            raise QueryError(f"line 1:{pos} unnamed token in the sandbox's query grammar")
        tokens.append((kind, m.group(kind)))
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


def unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    if len(value) >= 2 and value[0] == "{" and value[-1] == "}":
        return value[1:-1]
    return value


def parse_time(value: str) -> datetime:
    """`2006-01-02[ 15:04:05[.890]]`, UTC (a trailing ` +0000`/`-0000` is accepted)."""
    text = re.sub(r"\s+[+-]0000$", "", value.strip())
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise QueryError(f'Invalid timestamp "{value}"')
