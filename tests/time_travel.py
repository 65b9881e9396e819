"""Test support: a copy of a store that holds only what existed at T.

Written from DESIGN's words, not from `reviewbot.timeline.state`, so it can check the timeline:
a change exists from its creation; patch sets, messages and vote events exist from their
dates; a change merged or abandoned after T was open (status NEW) at T; Gerrit's labels
at T are each voter's latest vote event per label on the patch set current at T (votes
Gerrit copied forward exist only where nothing happened after T, so those labels are
kept); `updated` is the change's newest event up to T.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine

from reviewbot.store.tables import (
    Account,
    Change,
    CurrentVote,
    GroupMember,
    LaunchpadRecord,
    Message,
    PatchSet,
    SyncState,
    VoteEventRow,
)


def _closed(row) -> datetime | None:
    if row.status == "MERGED":
        return row.submitted or row.closed_at or row.updated
    if row.status == "ABANDONED":
        return row.closed_at or row.updated
    return None


def _rows(conn, table, *where) -> list[dict]:
    return [dict(r._mapping) for r in conn.execute(select(table).where(*where))]


def truncate_copy(source: Engine, target: Engine, at: datetime) -> None:
    """Fill the (empty, migrated) `target` store with `source` as it was at `at`."""
    c, ps, m, ve, cv = (Change.__table__, PatchSet.__table__, Message.__table__,
                        VoteEventRow.__table__, CurrentVote.__table__)
    with source.connect() as src, target.begin() as dst:
        for table in (Account.__table__, GroupMember.__table__, LaunchpadRecord.__table__):
            rows = _rows(src, table)
            if rows:
                dst.execute(table.insert(), rows)
        keep = [r for r in _rows(src, SyncState.__table__) if r["key"].startswith("group_")]
        if keep:
            dst.execute(SyncState.__table__.insert(), keep)
        changes = {r["number"]: r for r in _rows(src, c, c.c.created <= at)}
        patch_sets = [r for r in _rows(src, ps, ps.c.created <= at)
                      if r["change_number"] in changes]
        messages = [r for r in _rows(src, m, m.c.date <= at) if r["change_number"] in changes]
        events = sorted((r for r in _rows(src, ve, ve.c.date <= at)
                         if r["change_number"] in changes),
                        key=lambda r: (r["change_number"], r["date"], r["message_id"], r["id"]))
        labels = [r for r in _rows(src, cv) if r["change_number"] in changes]
        for number, row in changes.items():
            closed = _closed(_Obj(row))
            if closed is not None and closed > at:
                row.update(status="NEW", submitted=None, closed_at=None)
            if row["updated"] <= at:
                continue  # nothing happened after T: the change as stored is the change at T
            mine = [p for p in patch_sets if p["change_number"] == number]
            current = max((p["number"] for p in mine), default=1)
            row["current_patch_set"] = current
            moments = [row["created"], *(p["created"] for p in mine),
                       *(x["date"] for x in messages if x["change_number"] == number)]
            if closed is not None and closed <= at:
                moments.append(closed)
            row["updated"] = max(moments)
            latest: dict[tuple[int, str], int] = {}
            for e in events:
                if e["change_number"] == number and e["patch_set"] == current:
                    latest[(e["account_id"], e["label"])] = 0 if e["removed"] else e["value"]
            labels = [x for x in labels if x["change_number"] != number] + [
                {"change_number": number, "label": label, "account_id": account, "value": value}
                for (account, label), value in latest.items() if value]
        for table, rows in ((c, list(changes.values())), (ps, patch_sets), (m, messages),
                            (ve, events), (cv, labels)):
            if rows:
                dst.execute(table.insert(), rows)


class _Obj:
    def __init__(self, row: dict):
        self.__dict__.update(row)
