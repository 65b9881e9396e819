"""Bulk steps on two cores: a producer run in a forked process while this one consumes.

A first import parses JSON in one process while the other writes SQLite; each is
about half of the work. The producer's items come over a pipe, pickled; the pipe's
small buffer keeps it at most an item or two ahead, so memory stays that of a few
items. Whatever the producer raises is raised here, at the same place in the
stream (after every item before it), and the producer is stopped whenever the
consumer stops early (a failed write, Ctrl-C).
"""

from __future__ import annotations

import copyreg
import dataclasses
import io
import multiprocessing
import operator
import pickle
import threading
import traceback
from collections.abc import Callable, Generator, Iterable, Iterator
from multiprocessing.connection import Connection
from typing import Any, TypeVar

Item = TypeVar("Item")

_DONE, _ITEM, _RAISED, _CRASHED = range(4)


def can_fork() -> bool:
    """A forked producer is cheap (no second interpreter start) but only safe from a
    process running one thread: a fork copies locks other threads might hold. The CLI
    commands qualify; the web process and the service's threads do not."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def by_fields(*classes: type) -> dict[type, Any]:
    """A pickling dispatch table sending these dataclasses as constructor + field values:
    a third of the default's cost for slotted (and frozen) dataclasses, whose state
    goes through a dict or a `fields()` walk per object."""
    table: dict[type, Any] = dict(copyreg.dispatch_table)
    for cls in classes:
        names = [f.name for f in dataclasses.fields(cls)]
        if len(names) == 1:  # attrgetter of one name gives the value, not a tuple
            table[cls] = lambda obj, cls=cls, name=names[0]: (cls, (getattr(obj, name),))
            continue
        values = operator.attrgetter(*names)
        table[cls] = lambda obj, cls=cls, values=values: (cls, values(obj))
    return table


def produced_beside(
    produce: Callable[..., Iterable[Item]],
    *args: Any,
    name: str,
    pickling: dict[type, Any] | None = None,
) -> Generator[Item, None, None]:
    """The items of `produce(*args)`, made in a forked process named `name`.

    An exception the producer raises is raised here as itself when it can be pickled
    (the import's ImportFailed), else as a RuntimeError carrying its traceback.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    producer = context.Process(target=_produce_into, args=(sender, pickling, produce, args),
                               name=name, daemon=True)
    producer.start()
    sender.close()  # the producer holds the only writing end: its exit means EOF here
    try:
        while True:
            try:
                kind, value = pickle.loads(receiver.recv_bytes())
            except EOFError:
                raise RuntimeError(f"{name} stopped unexpectedly "
                                   f"(exit code {_exit_code(producer)})") from None
            if kind == _ITEM:
                yield value
            elif kind == _DONE:
                return
            elif kind == _RAISED:
                raise value
            else:
                raise RuntimeError(f"{name} failed:\n{value}")
    finally:
        receiver.close()
        if producer.is_alive():
            producer.terminate()
        producer.join()


def _produce_into(sender: Connection, pickling: dict[type, Any] | None,
                  produce: Callable[..., Iterator[Any]], args: tuple[Any, ...]) -> None:
    """The producer process: every item, then how it ended."""
    def send(kind: int, value: Any) -> None:
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
        if pickling is not None:
            pickler.dispatch_table = pickling
        pickler.dump((kind, value))
        sender.send_bytes(buffer.getbuffer())

    ending: tuple[int, Any] = (_DONE, None)
    try:
        for item in produce(*args):
            send(_ITEM, item)
    except (BrokenPipeError, KeyboardInterrupt):
        return  # the consumer stopped reading: it reports why
    except Exception as exc:  # raised on the consumer's side instead
        ending = (_RAISED, exc) if _picklable(exc) else (_CRASHED, traceback.format_exc())
    except BaseException:
        ending = (_CRASHED, traceback.format_exc())
    try:
        send(*ending)
    except BrokenPipeError:
        pass
    finally:
        sender.close()


def _picklable(exc: Exception) -> bool:
    try:
        return type(pickle.loads(pickle.dumps(exc))) is type(exc)
    except Exception:  # any failure means: send the traceback instead
        return False


def _exit_code(process: multiprocessing.process.BaseProcess) -> int | None:
    process.join(timeout=5)
    return process.exitcode
