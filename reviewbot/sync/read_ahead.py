"""Sync: the change query's pages read ahead in a thread while the sync writes the current one."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from reviewbot.gerrit.client import ChangePage

T = TypeVar("T")


class read_ahead(Iterator[T]):  # used like a generator function
    """The query's pages, the next one fetched, decoded and normalised (`convert`) in a
    thread while the current one is written: Gerrit's answer and the Python work of
    reading it overlap the store's writes (SQLite releases the GIL while it works). The
    reader starts on a page only once the previous one was taken, so at most two pages
    are held (the one being written and the next); an error reading a page is raised
    where the page would have been; `close()` stops the reader."""

    def __init__(self, pages: Iterable[ChangePage],
                 convert: Callable[[ChangePage], T]) -> None:
        self._convert = convert
        # (page, None), (None, error), or (None, None) after the last page.
        self._ready: queue.Queue[tuple[T | None, BaseException | None]] = \
            queue.Queue(maxsize=1)
        self._taken = threading.Semaphore(1)  # may the reader fetch the next page?
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(iter(pages),),
                                        name="sync-read-ahead", daemon=True)
        self._thread.start()

    def _read(self, pages: Iterator[ChangePage]) -> None:
        try:
            while self._wait_turn():
                page: ChangePage | None = next(pages, None)
                if page is None:
                    self._ready.put((None, None))
                    return
                converted: T | None = self._convert(page)
                page = None  # the raw JSON is not kept while the next turn is awaited
                self._ready.put((converted, None))
                converted = None
        except BaseException as exc:  # handed to the consumer
            self._ready.put((None, exc))

    def _wait_turn(self) -> bool:
        while not self._stop.is_set():
            if self._taken.acquire(timeout=0.2):
                return not self._stop.is_set()
        return False

    def __next__(self) -> T:
        page, error = self._ready.get()
        self._taken.release()
        if error is not None:
            raise error
        if page is None:
            raise StopIteration
        return page

    def close(self) -> None:
        self._stop.set()
        self._taken.release()
        self._thread.join(timeout=5)
