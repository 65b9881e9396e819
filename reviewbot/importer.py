"""Import: back-fill the store from SSH `gerrit query --format=JSON` dumps, streamed in batches.

`gerrit query --format=JSON --all-approvals --comments [--files]` prints one
change per line and a final `{"type":"stats",...}` row. Lines are read and
written batch by batch, so a dump of any size needs the memory of one batch.
"""

from __future__ import annotations

import logging
import time
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


# -- the first import: straight to rows, nothing read back --------------------------------


def _jobs(path: Path, size: int) -> Iterator[tuple[int, int, list[bytes]]]:
    """(first line number, byte offset, lines) of runs of at most `size` lines."""
    with path.open("rb") as handle:
        lines: list[bytes] = []
        lineno = offset = start = 0
        for lineno, line in enumerate(handle, 1):  # noqa: B007 - the count is used below
            lines.append(line)
            offset += len(line)
            if len(lines) >= size:
                yield lineno - len(lines) + 1, start, lines
                lines, start = [], offset
        if lines:
            yield lineno - len(lines) + 1, start, lines


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
    loaded: set[int] = set()
    done_bytes = 0
    for path in paths:
        summary.files += 1
        batch: list[ChangeRows] = []
        repeated: list[int] = []
        for first, offset, lines in _jobs(path, batch_size):
            for change in rows_of_lines(str(path), first, offset, lines):
                if change.number in loaded:
                    repeated.append(change.line)
                else:
                    loaded.add(change.number)
                    batch.append(change)
            _write_new(session, path, batch, repeated, summary)
            batch, repeated = [], []
            if progress:
                progress(done_bytes + offset + sum(map(len, lines)), total_bytes)
        done_bytes += path.stat().st_size


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
