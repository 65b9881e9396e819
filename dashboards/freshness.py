"""Web: how fresh the data is, for every page's footer (the last successful sync, in words)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# The limit /healthz uses (stale after 3 poll intervals without a good sync), not a copy.
from dashboards.routes.ops import STALE_INTERVALS


@dataclass(frozen=True)
class Freshness:
    synced: datetime | None  # the last successful sync, naive UTC; None: never
    ago: str  # "3 min ago"
    exact: str  # "2026-12-03 07:40 UTC"
    stale: bool
    limit_seconds: float

    @property
    def limit(self) -> str:
        return interval(self.limit_seconds)

    @property
    def iso(self) -> str:
        return self.synced.isoformat(timespec="seconds") + "Z" if self.synced else ""


def ago(seconds: float) -> str:
    """An age in the largest whole unit: "just now", "3 min ago", "2 h ago", "5 days ago"."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return "just now"
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if unit == 'day' and n != 1 else ''} ago"
    return "just now"  # unreachable: every age of a minute or more has a unit above


def freshness(synced: datetime | None, now: datetime, poll_seconds: float) -> Freshness:
    """The footer's facts: stale when never synced or older than STALE_INTERVALS polls."""
    limit = STALE_INTERVALS * poll_seconds
    if synced is None:
        return Freshness(None, "never", "no successful sync yet", True, limit)
    age = (now - synced).total_seconds()
    return Freshness(synced, ago(age), synced.strftime("%Y-%m-%d %H:%M:%S UTC"),
                     age > limit, limit)


def interval(seconds: float) -> str:
    """A poll limit in words: "45 s", "15 min", "2 h"."""
    seconds = int(seconds)
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"
