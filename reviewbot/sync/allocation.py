"""Garbage-collector pause for the bulk steps (sync, import, report) of single-purpose processes."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Off until a process says it runs one bulk step at a time (the CLI commands and the
# worker; see `reviewbot.cli.main`). `reviewbot web` and `reviewbot demo` never say so:
# they answer requests on threads, and gc.disable() is process-wide, so a report page
# would switch the collector off under every other request.
_pause_allowed = False


def allow_collector_pause(allowed: bool = True) -> None:
    """Let `collector_paused` pause the collector in this process (or stop letting it)."""
    global _pause_allowed
    _pause_allowed = allowed


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a bulk step allocates records by the 100,000,
    in processes that allowed it (`allow_collector_pause`); elsewhere it changes nothing.

    Decoding a sync or import page allocates ~10^5 dicts and records, and the report
    loads a few hundred thousand long-lived tuples and rows; none of them are garbage
    cycles (refcounting frees the temporaries), yet each burst triggers collections
    that walk every live object of the process: 0.6-0.8 s of a 1.6 s report over
    20,000 changes; with the collector on, a 5,000-change back-fill took ~45 % more
    CPU and a 20,000-change import ~20 % more (bench/RESULTS.md, issue 16). Raising the
    young-generation threshold instead (700 -> 50,000) left the report ~14 % slower than
    pausing, and pausing costs no memory in practice: a 1,900-change back-fill leaves
    ~110 objects of cycle garbage for the collection that runs once the step ends.
    """
    if not _pause_allowed:
        yield
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
