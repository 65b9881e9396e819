"""Fault-suite support: a sandbox Gerrit of a given size, stores compared by content, and the
sandbox's own truth about what a store should hold."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine

from reviewbot.clock import format_gerrit_timestamp
from reviewbot.store import session_scope
from reviewbot.store.state import get_state
from reviewbot.store.tables import (
    Account,
    Change,
    CurrentVote,
    GroupMember,
    Message,
    PatchSet,
    VoteEventRow,
)
from reviewbot.sync.rest import CURSOR_KEY

# Bookkeeping that says when or in which order rows were written, not what they say.
_NOT_CONTENT = {"change": {"revision"}, "vote_event": {"id"}}
TABLES = (Change, PatchSet, Message, VoteEventRow, CurrentVote, Account, GroupMember)


def _plain(value):
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    return value


def store_content(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of the synced tables (minus bookkeeping), sorted: two stores holding the
    same facts compare equal whatever order or how often they were written."""
    content: dict[str, list[tuple]] = {}
    with session_scope(engine) as session:
        for table in TABLES:
            columns = [c for c in table.__table__.columns
                       if c.name not in _NOT_CONTENT.get(table.__tablename__, set())]
            rows = session.execute(select(*columns)).all()
            content[table.__tablename__] = sorted(
                (tuple(_plain(v) for v in row) for row in rows), key=repr)
        content["cursor"] = [(get_state(session, CURSOR_KEY),)]
    return content


def differences(got: dict, want: dict) -> list[str]:
    """Human-readable differences, table by table (empty when equal)."""
    out = []
    for table in want:
        a, b = Counter(got.get(table, [])), Counter(want[table])
        if a != b:
            out.append(f"{table}: {sum((a - b).values())} extra rows, {sum((b - a).values())} "
                       f"missing (e.g. extra {list(a - b)[:1]}, missing {list(b - a)[:1]})")
    return out


def in_scope(sb, config) -> list:
    return [c for c in sb.changes.values()
            if c.project in config.gerrit.projects and c.branch in config.gerrit.branches
            and not c.private]


def sandbox_truth(sb, config) -> dict:
    """What Gerrit itself holds for the configured scope, straight from the sandbox model."""
    with sb.lock:
        changes = in_scope(sb, config)
        return {
            "changes": sorted((c.number, c.subject, c.status) for c in changes),
            "patch_sets": sorted((c.number, p.number, p.sha) for c in changes
                                 for p in c.patch_sets),
            "messages": sorted((c.number, len(c.messages)) for c in changes),
            "cursor": format_gerrit_timestamp(max(c.updated for c in changes)),
        }


def store_truth(engine: Engine) -> dict:
    """The same facts, read from a store."""
    with session_scope(engine) as session:
        changes = sorted(tuple(r) for r in session.execute(
            select(Change.number, Change.subject, Change.status)))
        patch_sets = sorted(tuple(r) for r in session.execute(
            select(PatchSet.change_number, PatchSet.number, PatchSet.revision)))
        per_change = Counter(n for (n,) in session.execute(select(Message.change_number)))
        cursor = get_state(session, CURSOR_KEY)
    return {"changes": changes, "patch_sets": patch_sets,
            "messages": sorted((n, per_change.get(n, 0)) for n, _, _ in changes),
            "cursor": cursor}


def reached_gerrit(sb) -> list:
    """Writes Gerrit handled (a fault that answered or reset before handling did not reach it)."""
    with sb.lock:
        return [r for r in sb.requests if r.method == "POST" and r.status
                and r.status < 500 and r.status != 429]


def repeated_writes(sb) -> list[str]:
    sent = Counter((r.path, r.body) for r in reached_gerrit(sb))
    return [f"{path} {body!r} x{n}" for (path, body), n in sent.items() if n > 1]


def query_starts(sb) -> list[int]:
    """The `S` offset of every change-query request, in order of arrival (0: first page)."""
    with sb.lock:
        arrived = sorted(sb.requests, key=lambda r: r.received)
        return [int(r.params.get("S", ["0"])[0]) for r in arrived
                if r.method == "GET" and r.path.rstrip("/").endswith("/changes")
                and "after:" in r.params.get("q", [""])[0]]
