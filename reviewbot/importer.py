"""Import: back-fill the store from SSH `gerrit query --format=JSON` dumps, streamed in batches.

`gerrit query --format=JSON --all-approvals --comments [--files]` prints one
change per line and a final `{"type":"stats",...}` row. Lines are read and
written batch by batch, so a dump of any size needs the memory of one batch.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from reviewbot.allocation import collector_paused
from reviewbot.dump_rows import ChangeRows, ImportFailed, record_of_line, rows_of_lines
from reviewbot.store import session_scope
from reviewbot.store.changes import (
    WriteCounts,
    begin_bulk_load,
    end_bulk_load,
    insert_new_changes,
    upsert_changes,
)
from reviewbot.wire import ChangeRecord

__all__ = ["ImportFailed", "ImportSummary", "import_files", "read_dump"]

log = logging.getLogger(__name__)

BATCH = 2000  # changes per transaction: fewer commits, memory still bounded
# The first import's reading runs in worker processes while the main process writes:
# lines per worker job, and jobs handed out ahead of the writer (bounds memory).
LINES_PER_JOB = 250
JOBS_AHEAD = 4


@dataclass
class ImportSummary:
    files: int = 0
    lines: int = 0
    counts: WriteCounts = field(default_factory=WriteCounts)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "files": self.files,
            "changes_read": self.lines,
            "changes": self.counts.changes,
            "messages": self.counts.messages,
            "votes": self.counts.votes,
            "skipped": self.counts.skipped,
            "seconds": round(self.seconds, 3),
        }


def read_dump(path: Path) -> Iterator[tuple[int, ChangeRecord]]:
    """(bytes read so far, record) for every change line of one dump file."""
    consumed = 0
    with path.open("rb") as handle:
        for lineno, line in enumerate(handle, 1):
            consumed += len(line)
            record = record_of_line(path, lineno, line)
            if record is not None:
                yield consumed, record


def _batches(records: Iterable[tuple[int, ChangeRecord]], size: int):  # noqa: ANN202
    """(bytes read, batch of records) of at most `size` records."""
    batch: list[ChangeRecord] = []
    consumed = 0
    for consumed, record in records:  # noqa: B007 - the last offset is used below
        batch.append(record)
        if len(batch) >= size:
            yield consumed, batch
            batch = []
    if batch:
        yield consumed, batch


def import_files(
    engine: Engine,
    paths: Iterable[str | Path],
    *,
    progress: Callable[[int, int], None] | None = None,  # (bytes done, bytes total)
    batch_size: int = BATCH,
) -> ImportSummary:
    """Import SSH JSON dumps; each batch is one transaction (rerunning writes nothing).

    A first import into an empty SQLite store runs as one transaction instead, with
    the message tables' secondary indexes built once at the end (see
    `store.changes.begin_bulk_load`). What a bad line leaves behind is the same in
    both modes: every batch before it is committed, nothing of its own batch is.
    """
    started = time.perf_counter()
    summary = ImportSummary()
    paths = [Path(p) for p in paths]
    with collector_paused():
        _import_all(engine, paths, summary, progress, batch_size)
    summary.seconds = time.perf_counter() - started
    log.info("imported %d change rows from %d files in %.1fs: %s", summary.lines,
             summary.files, summary.seconds, summary.as_dict())
    return summary


def _import_all(
    engine: Engine,
    paths: list[Path],
    summary: ImportSummary,
    progress: Callable[[int, int], None] | None,
    batch_size: int,
) -> None:
    failure: ImportFailed | None = None
    with session_scope(engine) as session:
        bulk = begin_bulk_load(session)
        if bulk is not None:
            log.info("empty store: bulk import, indexes built at the end")
            try:
                _bulk_import(session, paths, summary, progress, batch_size)
            except ImportFailed as exc:
                failure = exc  # keep the batches before it, as the batch mode does
            end_bulk_load(session, bulk)
    if failure is not None:
        raise failure
    if bulk is None:
        _import(paths, summary, progress, batch_size, lambda batch: _write_batch(engine, batch))


def _write_batch(engine: Engine, batch: list[ChangeRecord]) -> WriteCounts:
    with session_scope(engine) as session:
        return upsert_changes(session, batch)


def _import(
    paths: list[Path],
    summary: ImportSummary,
    progress: Callable[[int, int], None] | None,
    batch_size: int,
    write: Callable[[list[ChangeRecord]], WriteCounts],
) -> None:
    total_bytes = sum(p.stat().st_size for p in paths if p.exists())
    done_bytes = 0
    for path in paths:
        if not path.is_file():
            raise ImportFailed(f"{path}: no such file")
        summary.files += 1
        for consumed, batch in _batches(read_dump(path), batch_size):
            summary.counts.add(write(batch))
            summary.lines += len(batch)
            if progress:
                progress(done_bytes + consumed, total_bytes)
        done_bytes += path.stat().st_size


# -- the first import: reading in worker processes, writing here ---------------------------


def _workers() -> int:
    """Reading a dump costs more CPU than writing it: with a second core, two workers read
    while this process writes. One core: no workers (reading runs here)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 0 if (cores or 1) < 2 else 2


def _jobs(path: Path, size: int) -> Iterator[tuple[int, int, int]]:
    """(first line number, byte offset, byte length) of runs of at most `size` lines."""
    with path.open("rb") as handle:
        count = lineno = offset = start = 0
        for lineno, line in enumerate(handle, 1):  # noqa: B007 - the count is used below
            count += 1
            offset += len(line)
            if count >= size:
                yield lineno - count + 1, start, offset - start
                count, start = 0, offset
        if count:
            yield lineno - count + 1, start, offset - start


class _Readers:
    """Worker processes (`python -m reviewbot.dump_rows`) reading jobs round-robin. A
    subprocess rather than multiprocessing: nothing of the caller's main module is
    imported again in the workers, so any program may call `import_files`."""

    def __init__(self, count: int):
        self.procs = [subprocess.Popen([sys.executable, "-m", "reviewbot.dump_rows"],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                      for _ in range(count)]
        self.sent = self.received = 0

    def send(self, job: tuple) -> None:
        proc = self.procs[self.sent % len(self.procs)]
        pickle.dump(job, proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        proc.stdin.flush()
        self.sent += 1

    def receive(self) -> list[ChangeRows]:
        """The rows of the oldest job not yet received (jobs come back in order)."""
        proc = self.procs[self.received % len(self.procs)]
        self.received += 1
        try:
            kind, value, notes = pickle.load(proc.stdout)
        except EOFError:
            raise ImportFailed(f"an import worker stopped (exit status {proc.wait()})") from None
        for note in notes:
            log.warning("%s", note)
        if kind == "failed":
            raise ImportFailed(value)
        return value

    def close(self) -> None:
        """Stop the workers: at the end of the jobs they exit; after a failure, jobs still
        under way are not waited for."""
        for proc in self.procs:
            proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(timeout=10 if self.received == self.sent else 0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stdout.close()


def _read_ahead(path: Path, readers: _Readers | None, size: int
                ) -> Iterator[tuple[int, list[ChangeRows]]]:
    """(bytes read so far, rows of the changes) job by job of at most `size` lines, in dump
    order; with readers, up to JOBS_AHEAD jobs are read in workers while the caller
    writes (the pipes never hold more: bounded memory, and no deadlock since the oldest
    job is always the one read back)."""
    pending: deque[int] = deque()
    for first, offset, length in _jobs(path, size):
        if readers is None:
            with path.open("rb") as handle:
                handle.seek(offset)
                lines = list(io.BytesIO(handle.read(length)))
            yield offset + length, rows_of_lines(str(path), first, offset, lines)
            continue
        readers.send((str(path), first, offset, length))
        pending.append(offset + length)
        if len(pending) >= JOBS_AHEAD:
            yield pending.popleft(), readers.receive()
    while pending:
        yield pending.popleft(), readers.receive()


def _bulk_import(
    session: Session,
    paths: list[Path],
    summary: ImportSummary,
    progress: Callable[[int, int], None] | None,
    batch_size: int,
) -> None:
    """Every change of `paths` into an empty store, in the session's transaction; batch by
    batch as `_import` does (a bad line keeps the batches before its own). A change met
    twice is read again here and upserted, as a later import would."""
    for path in paths:
        if not path.is_file():
            raise ImportFailed(f"{path}: no such file")
    total_bytes = sum(p.stat().st_size for p in paths)
    workers = _workers()
    readers = _Readers(workers) if workers else None
    loaded: set[int] = set()
    done_bytes = 0
    try:
        for path in paths:
            summary.files += 1
            batch: list[ChangeRows] = []
            repeated: list[int] = []
            # Jobs never span two batches: a bad line fails its own batch only.
            for consumed, rows in _read_ahead(path, readers, min(LINES_PER_JOB, batch_size)):
                for change in rows:
                    if change.number in loaded:
                        repeated.append(change.line)
                    else:
                        loaded.add(change.number)
                        batch.append(change)
                if len(batch) + len(repeated) >= batch_size:
                    _write_new(session, path, batch, repeated, summary)
                    batch, repeated = [], []
                    if progress:
                        progress(done_bytes + consumed, total_bytes)
            _write_new(session, path, batch, repeated, summary)
            done_bytes += path.stat().st_size
            if progress:
                progress(done_bytes, total_bytes)
    finally:
        if readers is not None:
            readers.close()


def _write_new(session: Session, path: Path, batch: list[ChangeRows], repeated: list[int],
               summary: ImportSummary) -> None:
    summary.counts.add(insert_new_changes(session, batch))
    summary.lines += len(batch) + len(repeated)
    if repeated:
        with path.open("rb") as handle:
            for offset in repeated:
                handle.seek(offset)
                record = record_of_line(path, 0, handle.readline())
                if record is not None:
                    summary.counts.add(upsert_changes(session, [record]))
