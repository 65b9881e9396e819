"""Import: SSH dump lines -> change records -> the plain rows a first import inserts.

A first import into an empty store writes these rows as they are
(`store.changes.insert_new_changes`): no comparison with stored rows, no per-row
SQLAlchemy parameter processing. Free of SQLAlchemy and pydantic, so it can also run
where the store is not imported. Accounts stay `AccountRef`s in the rows (always the
last value); the writer turns them into stored ids.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import orjson

from reviewbot.wire import NUL_ESCAPE, AccountRef, ChangeRecord, WireError, without_nul
from reviewbot.wire_ssh import from_ssh

log = logging.getLogger("reviewbot.importer")  # what it says is the import's to say


class ImportFailed(Exception):
    """A dump line we cannot import; the message names file, line and problem."""


def record_of_line(path: Path | str, lineno: int, line: bytes,
                   notes: list[str] | None = None) -> ChangeRecord | None:
    """One dump line -> its change record; None for blank lines and the stats row.
    Warnings are logged, or added to `notes` when given."""
    if not line.strip():
        return None
    try:
        row = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ImportFailed(f"{path}:{lineno}: not a JSON line ({exc})") from None
    if isinstance(row, dict) and row.get("type") == "stats":
        return None
    if NUL_ESCAPE in line:
        row, removed = without_nul(row)
        if removed:
            note = (f"{path}:{lineno}: removed {removed} NUL characters (a database cannot "
                    "store them); the rest is kept as sent")
            if notes is None:
                log.warning("%s", note)
            else:
                notes.append(note)
    try:
        return from_ssh(row)
    except WireError as exc:
        raise ImportFailed(f"{path}:{lineno}: {exc}") from None


# Column order of each row kind; the account (an AccountRef until the main process
# resolves it) is always the last value, so resolving rebuilds a row as `r[:-1] + (id,)`.
CHANGE_ROW = ("number", "gerrit_id", "change_id", "project", "branch", "subject", "status",
              "wip", "topic", "hashtags", "created", "updated", "submitted", "closed_at",
              "current_patch_set", "commit_message", "files", "insertions", "deletions",
              "source", "owner_id")
PATCH_SET_ROW = ("change_number", "number", "revision", "created", "kind", "insertions",
                 "deletions", "uploader_id")
MESSAGE_ROW = ("id", "change_number", "patch_set", "date", "tag", "text", "inline_comments",
               "free_text", "changes_votes", "author_id")
VOTE_ROW = ("message_id", "change_number", "patch_set", "label", "value", "removed", "date",
            "account_id")


def sqlite_stamp(value: datetime) -> str:
    """A datetime as SQLAlchemy stores it on SQLite (always with microseconds)."""
    text = str(value)  # C-fast; no `.000000` when microseconds are 0
    return text if len(text) > 19 else text + ".000000"


def _stamp(value: datetime | None) -> str | None:
    return None if value is None else sqlite_stamp(value)


class ChangeRows(NamedTuple):
    """A new change's rows for SQLite (datetimes as `sqlite_stamp` text, JSON as text)."""

    number: int
    line: int  # where in its dump (byte offset), to read it again if it repeats
    change: tuple
    patch_sets: list[tuple]
    messages: list[tuple]
    votes: list[tuple]
    current_votes: list[tuple[str, AccountRef, int]]


def change_rows(r: ChangeRecord, offset: int) -> ChangeRows:
    """The rows `store.changes.upsert_changes` writes for a change not stored before."""
    number = r.number
    change = (number, r.gerrit_id, r.change_id, r.project, r.branch, r.subject, r.status,
              r.wip, r.topic, json.dumps(r.hashtags), sqlite_stamp(r.created),
              sqlite_stamp(r.updated), _stamp(r.submitted), _stamp(r.closed_at),
              r.current_patch_set, r.commit_message, json.dumps(r.files), r.insertions,
              r.deletions, r.source, r.owner)
    patch_sets = []
    seen_ps: set[int] = set()
    for ps in r.patch_sets:
        if ps.number not in seen_ps:
            seen_ps.add(ps.number)
            patch_sets.append((number, ps.number, ps.revision, sqlite_stamp(ps.created),
                               ps.kind, ps.insertions, ps.deletions, ps.uploader))
    messages: list[tuple] = []
    votes: list[tuple] = []
    seen: set[str] = set()
    for m in r.messages:
        mid = m.id
        if mid in seen:
            continue
        seen.add(mid)
        parsed = m.parsed
        date = sqlite_stamp(m.date)
        messages.append((mid, number, m.patch_set, date, m.tag, m.text, parsed.inline_comments,
                         parsed.free_text, bool(parsed.votes), m.author))
        if m.patch_set is None or not m.votes:
            continue
        # One row per label: the last vote a message gives a label is the one it gives.
        by_label = {v.label: (mid, number, m.patch_set, v.label, v.value, v.removed, date,
                              v.account) for v in m.votes if v.account is not None}
        votes.extend(by_label.values())
    return ChangeRows(number, offset, change, patch_sets, messages, votes,
                      list(r.current_votes))


def rows_of_lines(path: str, first_lineno: int, offset: int, lines: Sequence[bytes],
                  notes: list[str] | None = None) -> list[ChangeRows]:
    """A worker's job: consecutive dump lines (the first is line `first_lineno`, at byte
    `offset`) -> the rows of their changes, in order."""
    out = []
    for i, line in enumerate(lines):
        record = record_of_line(path, first_lineno + i, line, notes)
        if record is not None:
            out.append(change_rows(record, offset))
        offset += len(line)
    return out

