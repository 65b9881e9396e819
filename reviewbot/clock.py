"""Time: the one place that parses Gerrit timestamps and `--as-of` values.

Every datetime inside reviewbot is naive UTC. Gerrit's REST timestamps are UTC
with nanoseconds, SSH/stream-event timestamps are epoch seconds, and people type
dates; all three become naive UTC here and nowhere else.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_AS_OF_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_AS_OF_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]00:?00)?$",
                          re.ASCII)
# What every date a person types may look like; every error about one says this.
AS_OF_FORMS = "use 2017-02-22 (00:00 UTC) or 2017-02-22T12:00:00Z"
# Dates an as-of may name: windows reach back up to 10 years and periods a day forward
# from it, which Python's datetime cannot do near year 1 or 9999; no review is older
# than the Unix epoch.
AS_OF_MIN = datetime(1970, 1, 1)
AS_OF_MAX = datetime(2999, 12, 31, 23, 59, 59)


def utcnow() -> datetime:
    """Now, naive UTC. Tests fake the clock by passing `now`/`as_of` explicitly."""
    return datetime.now(UTC).replace(tzinfo=None)


def parse_gerrit_timestamp(value: str) -> datetime:
    """`2013-02-01 09:59:32.126000000` (UTC, nanoseconds) -> naive UTC datetime."""
    if not isinstance(value, str):
        raise ValueError(f"expected a Gerrit timestamp string, got {type(value).__name__}")
    text = value.strip()
    if "." in text:
        head, frac = text.split(".", 1)
        text = f"{head}.{frac[:6]}"
        fmt = "%Y-%m-%d %H:%M:%S.%f"
    else:
        fmt = "%Y-%m-%d %H:%M:%S"
    return datetime.strptime(text, fmt)


def format_gerrit_timestamp(value: datetime) -> str:
    """Naive UTC datetime -> Gerrit's wire format with 9 fractional digits."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") + "000"


def from_epoch(seconds: int | float) -> datetime:
    """Epoch seconds (SSH query JSON, stream events) -> naive UTC datetime."""
    return datetime.fromtimestamp(float(seconds), UTC).replace(tzinfo=None)


def parse_as_of(value: str) -> datetime:
    """`2017-02-22` (00:00 UTC) or `2017-02-22T12:00:00Z` -> naive UTC.

    Raises ValueError with a message a person can act on: the value and the accepted
    forms, never Python's own parser text (`time data ... does not match format`).
    """
    text = value.strip()
    when = None
    try:
        if _AS_OF_DATE.match(text):
            when = datetime.strptime(text, "%Y-%m-%d")
        elif _AS_OF_STAMP.match(text):
            cleaned = text.replace(" ", "T").removesuffix("Z")
            cleaned = re.sub(r"[+-]00:?00$", "", cleaned)
            when = datetime.fromisoformat(cleaned)
    except ValueError:
        pass  # the right shape but no such day or time (2017-13-45): same answer as below
    if when is None:
        raise ValueError(f"{value!r} is not a date: {AS_OF_FORMS}")
    if not AS_OF_MIN <= when <= AS_OF_MAX:
        raise ValueError(f"{value!r} is out of range: as-of dates go from "
                         f"{AS_OF_MIN:%Y-%m-%d} to {AS_OF_MAX:%Y-%m-%d}")
    return when


def day_start(value: date) -> datetime:
    """A config date means 00:00 UTC of that day."""
    return datetime(value.year, value.month, value.day)


_DAY = timedelta(days=1)


def full_days(start: datetime, end: datetime) -> int:
    """Whole days from start to end (floor), never negative."""
    return max(0, (end - start) // _DAY)
