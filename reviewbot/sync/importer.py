"""Import: back-fill the store from SSH `gerrit query --format=JSON` dumps, streamed in batches.

`gerrit query --format=JSON --all-approvals --comments [--files]` prints one
change per line and a final `{"type":"stats",...}` row. Lines are read and
written batch by batch, so a dump of any size needs the memory of one batch.
A large dump is parsed in a forked process while this one writes
(`reviewbot.forked`): parsing and writing each take about half of an import.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

import orjson
from sqlalchemy.engine import Engine

from reviewbot.forked import by_fields, can_fork, produced_beside
from reviewbot.gerrit import records, votes
from reviewbot.gerrit.records import ChangeRecord
from reviewbot.store import session_scope
from reviewbot.store.changes import (
    WriteCounts,
    begin_bulk_load,
    end_bulk_load,
    upsert_changes,
)
from reviewbot.sync.allocation import collector_paused

log = logging.getLogger(__name__)

# Changes per batch (per transaction, unless the bulk path makes the import one). 500:
# an import with the parser beside it peaks at 140 MB in both processes together (PSS)
# against 203 MB with 2,000, in the same time (bench/RESULTS.md).
BATCH = 500
FIRST_BATCH = 125
# Below this many bytes of dumps a second process costs more than it saves.
PARALLEL_MIN_BYTES = 4 << 20


class ImportFailed(Exception):
    """A dump line we cannot import; the message names file, line and problem."""


class ImportTotals(TypedDict):
    """`reviewbot import --json`: an import's totals."""

    files: int
    changes_read: int  # change lines read from the dumps
    changes: int  # rows written (WriteCounts)
    messages: int
    votes: int
    skipped: int  # changes not applied: REST data or newer data is stored
    seconds: float


@dataclass
class ImportSummary:
    files: int = 0
    lines: int = 0
    counts: WriteCounts = field(default_factory=WriteCounts)
    seconds: float = 0.0

    def as_dict(self) -> ImportTotals:
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
    # Imported here: the writing process of an import with a parser process never
    # parses, and the wire shapes cost it ~80 ms of start-up.
    from reviewbot.gerrit.wire import NUL_ESCAPE, WireError, WireJSONError
    from reviewbot.gerrit.wire_ssh import from_ssh_json

    consumed = 0
    with path.open("rb") as handle:
        for lineno, line in enumerate(handle, 1):
            consumed += len(line)
            if not line.strip():
                continue
            try:
                if NUL_ESCAPE in line:  # rare: cleaned as parsed JSON, then read
                    record = _without_nul_record(line, path, lineno)
                else:  # parsed and validated in one pass (pydantic-core); None: stats row
                    record = from_ssh_json(line)
            except (WireJSONError, orjson.JSONDecodeError) as exc:
                raise ImportFailed(f"{path}:{lineno}: not a JSON line ({exc})") from None
            except WireError as exc:
                raise ImportFailed(f"{path}:{lineno}: {exc}") from None
            if record is not None:
                yield consumed, record


def _without_nul_record(line: bytes, path: Path, lineno: int) -> ChangeRecord | None:
    from reviewbot.gerrit.wire import without_nul
    from reviewbot.gerrit.wire_ssh import from_ssh

    row = orjson.loads(line)
    if isinstance(row, dict) and row.get("type") == "stats":
        return None
    row, removed = without_nul(row)
    if removed:
        log.warning("%s:%d: removed %d NUL characters (a database cannot store "
                    "them); the rest is kept as sent", path, lineno, removed)
    return from_ssh(row)


def _batches(records: Iterable[tuple[int, ChangeRecord]], size: int
             ) -> Iterator[tuple[int, list[ChangeRecord]]]:
    """(bytes read, batch of records) of at most `size` records. The first batches are
    smaller (FIRST_BATCH, doubling): a writer waiting for a parser process starts sooner."""
    batch: list[ChangeRecord] = []
    consumed = 0
    limit = min(size, FIRST_BATCH)
    for consumed, record in records:  # the last offset is used below
        batch.append(record)
        if len(batch) >= limit:
            yield consumed, batch
            batch = []
            limit = min(size, limit * 2)
    if batch:
        yield consumed, batch


def import_files(
    engine: Engine,
    paths: Iterable[str | Path],
    *,
    progress: Callable[[int, int], None] | None = None,  # (bytes done, bytes total)
    batch_size: int = BATCH,
    parallel: bool | None = None,
) -> ImportSummary:
    """Import SSH JSON dumps; each batch is one transaction (rerunning writes nothing).

    A first import into an empty SQLite store runs as one transaction instead, with
    the message tables' secondary indexes built once at the end (see
    `store.changes.begin_bulk_load`). What a bad line leaves behind is the same in
    both modes: every batch before it is committed, nothing of its own batch is.

    `parallel`: parse in a second process while this one writes; None decides by the
    dumps' size and whether this process can fork safely (`forked.can_fork`).
    """
    started = time.perf_counter()
    summary = ImportSummary()
    files = [Path(p) for p in paths]
    if parallel is None:
        parallel = can_fork() and _size(files) >= PARALLEL_MIN_BYTES
    with collector_paused():
        _import_all(engine, files, summary, progress, batch_size, parallel)
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
    parallel: bool,
) -> None:
    parsed = (_parsed_beside if parallel else _parsed)(paths, batch_size)
    try:
        _write_all(engine, parsed, summary, progress, _size(paths))
    finally:
        parsed.close()  # stops the parser process when the writing failed


def _write_all(
    engine: Engine,
    parsed: Iterator[ParsedItem],
    summary: ImportSummary,
    progress: Callable[[int, int], None] | None,
    total_bytes: int,
) -> None:
    failure: ImportFailed | None = None
    with session_scope(engine) as session:
        bulk = begin_bulk_load(session)
        if bulk is not None:
            log.info("empty store: bulk import, indexes built at the end")
            try:
                _import(parsed, summary, progress, total_bytes,
                        lambda batch: upsert_changes(session, batch))
            except ImportFailed as exc:
                failure = exc  # keep the batches before it, as the batch mode does
            end_bulk_load(session, bulk)
    if failure is not None:
        raise failure
    if bulk is None:
        _import(parsed, summary, progress, total_bytes,
                lambda batch: _write_batch(engine, batch))


def _write_batch(engine: Engine, batch: list[ChangeRecord]) -> WriteCounts:
    with session_scope(engine) as session:
        return upsert_changes(session, batch)


def _import(
    parsed: Iterator[ParsedItem],
    summary: ImportSummary,
    progress: Callable[[int, int], None] | None,
    total_bytes: int,
    write: Callable[[list[ChangeRecord]], WriteCounts],
) -> None:
    done_bytes = 0  # of the files before the one being read
    file_bytes = 0
    for kind, consumed, batch in parsed:
        if kind == "file":
            summary.files += 1
            done_bytes += file_bytes
            file_bytes = consumed  # a file's item carries its size
            continue
        summary.counts.add(write(batch))
        summary.lines += len(batch)
        if progress:
            progress(done_bytes + consumed, total_bytes)


def _size(paths: list[Path]) -> int:
    return sum(p.stat().st_size for p in paths if p.is_file())


# What parsing yields, in dump order: ("file", its size, []) when a file starts, then
# ("batch", bytes of that file read so far, records) for each batch of its changes.
ParsedItem = tuple[str, int, list[ChangeRecord]]


def _parsed(paths: list[Path], batch_size: int) -> Generator[ParsedItem, None, None]:
    """The dumps parsed in this process; ImportFailed at the first file or line that
    cannot be read, after everything before it."""
    for path in paths:
        if not path.is_file():
            raise ImportFailed(f"{path}: no such file")
        yield "file", path.stat().st_size, []
        for consumed, batch in _batches(read_dump(path), batch_size):
            yield "batch", consumed, batch


def _parsed_beside(paths: list[Path], batch_size: int) -> Generator[ParsedItem, None, None]:
    """`_parsed`, run in a forked process while this one writes: the same items and the
    same ImportFailed at the same place."""
    return produced_beside(_parsed_paused, paths, batch_size, name="the dump parser process",
                           pickling=_RECORD_PICKLING)


def _parsed_paused(paths: list[Path], batch_size: int) -> Iterator[ParsedItem]:
    with collector_paused():
        yield from _parsed(paths, batch_size)


# The parser sends ~10^6 record objects per 20k changes.
_RECORD_PICKLING = by_fields(
    records.ChangeRecord, records.PatchSetRecord, records.MessageRecord, records.VoteRecord,
    records.AccountRef, votes.ParsedMessage, votes.ParsedVote)
