"""A producer in a forked process: its items in order, its failure at the same place."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os

import pytest

from reviewbot.forked import by_fields, produced_beside


def _count_then_fail(n: int, fail: bool):
    for i in range(n):
        yield i, os.getpid()
    if fail:
        raise ValueError(f"line {n}: bad")


def _unpicklable_failure():
    yield 1
    raise _Odd("x", 2)


class _Odd(Exception):
    def __init__(self, a, b):  # pickling calls _Odd(*args) with one argument
        super().__init__(f"{a}{b}")


def test_items_come_in_order_from_another_process():
    items = list(produced_beside(_count_then_fail, 2000, False, name="counter"))
    assert [i for i, _ in items] == list(range(2000))
    assert {pid for _, pid in items} == {items[0][1]} != {os.getpid()}
    assert not multiprocessing.active_children()


def test_a_failure_comes_after_every_item_before_it():
    seen = []
    with pytest.raises(ValueError, match="line 3: bad"):
        for i, _ in produced_beside(_count_then_fail, 3, True, name="counter"):
            seen.append(i)
    assert seen == [0, 1, 2]
    with pytest.raises(RuntimeError, match=r"odd producer failed:(.|\n)*_Odd"):
        list(produced_beside(_unpicklable_failure, name="odd producer"))
    assert not multiprocessing.active_children()


@dataclasses.dataclass(frozen=True, slots=True)
class _One:
    value: int


@dataclasses.dataclass(slots=True)
class _Two:
    one: _One
    name: str


def _records():
    yield [_Two(_One(1), "a"), _Two(_One(2), "b")]


def test_records_cross_by_their_fields():
    (got,) = produced_beside(_records, name="records", pickling=by_fields(_One, _Two))
    assert got == [_Two(_One(1), "a"), _Two(_One(2), "b")]
