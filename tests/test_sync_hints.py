"""Sync hints in the store, on SQLite and PostgreSQL: a burst for one change is one refresh,
a whole-cycle hint covers the change hints with it, a hint recorded mid-drain stays."""

from __future__ import annotations

import pytest

from reviewbot.service.hints import drain
from reviewbot.store import session_scope
from reviewbot.store.hints import pending_hints, queue_hint

pytestmark = pytest.mark.postgres


def _waiting(engine) -> list[tuple[int | None, str]]:
    with session_scope(engine) as session:
        return [(h.change_number, h.source) for h in pending_hints(session)]


def test_a_burst_per_change_is_one_refresh_each_in_order_of_first_hint(store_engine):
    for number in (7, 3, 7, 7, 3, 9):
        queue_hint(store_engine, number, "webhook comment-added")
    refreshed: list[int] = []
    outcome = drain(store_engine, refresh=lambda n: refreshed.append(n),
                    full_cycle=lambda: pytest.fail("no whole cycle was asked for"))
    assert refreshed == [7, 3, 9] and outcome.hints == 6 and not outcome.full_cycle
    assert _waiting(store_engine) == []


def test_a_whole_cycle_hint_covers_the_change_hints_waiting_with_it(store_engine):
    queue_hint(store_engine, 4, "webhook patchset-created")
    queued = queue_hint(store_engine, None, "admin")
    assert queued.pending == 2 and queued.hint.change_number is None
    cycles: list[str] = []
    outcome = drain(store_engine, refresh=lambda n: pytest.fail("covered by the cycle"),
                    full_cycle=lambda: cycles.append("cycle"))
    assert cycles == ["cycle"] and outcome.full_cycle and outcome.refreshed == []
    assert _waiting(store_engine) == []


def test_a_hint_recorded_during_the_drain_stays_for_the_next(store_engine):
    queue_hint(store_engine, 5, "webhook comment-added")

    def refresh(number: int) -> None:
        queue_hint(store_engine, number, "webhook comment-added")  # Gerrit moved again

    drain(store_engine, refresh=refresh, full_cycle=lambda: None)
    assert _waiting(store_engine) == [(5, "webhook comment-added")]


def test_failed_refreshes_and_a_crash_still_drop_their_hints(store_engine):
    queue_hint(store_engine, 1, "webhook comment-added")
    queue_hint(store_engine, 2, "webhook comment-added")
    outcome = drain(store_engine, refresh=lambda n: "refresh failed: HTTP 500",
                    full_cycle=lambda: None)
    assert outcome.failed == {1: "refresh failed: HTTP 500", 2: "refresh failed: HTTP 500"}
    queue_hint(store_engine, None, "admin")

    def crash() -> None:
        raise RuntimeError("cycle crashed")

    with pytest.raises(RuntimeError):
        drain(store_engine, refresh=lambda n: None, full_cycle=crash)
    # Kept, every later drain would crash the same way; the poll cycle catches up instead.
    assert _waiting(store_engine) == []
