"""Sync: poll Gerrit with one query per run and upsert every page into the store.

The cursor (newest `updated` seen) moves only after the whole query was read
and stored, so a failure anywhere leaves it where it was and the next poll
reads the same window again; page upserts are idempotent, so re-reading is
harmless. Group membership is read each run (the bot group "Service Users"
from the account objects of the query itself, see `tagged_bot_group`); every
few runs the set of open changes is reconciled to notice changes that silently
left the query (deleted, made private).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from reviewbot.clock import day_start, format_gerrit_timestamp, parse_gerrit_timestamp, utcnow
from reviewbot.config import Config
from reviewbot.gerrit.client import SYNC_OPTIONS, ChangePage, GerritClient
from reviewbot.gerrit.errors import GerritError, GerritNotFound, GerritProtocolError
from reviewbot.gerrit.records import AccountRef, ChangeRecord
from reviewbot.gerrit.wire import WireError, from_rest, record_from_change_info, rest_account
from reviewbot.store import session_scope
from reviewbot.store.accounts import apply_service_user_tags, replace_group_members
from reviewbot.store.changes import (
    WriteCounts,
    begin_bulk_load,
    end_bulk_load,
    mark_gone,
    mark_missing,
    upsert_changes,
)
from reviewbot.store.state import get_state, set_state
from reviewbot.sync.allocation import collector_paused
from reviewbot.sync.audit_log import sync_core_audit_log
from reviewbot.sync.read_ahead import read_ahead

log = logging.getLogger(__name__)

CURSOR_KEY = "sync_cursor"
POLLS_KEY = "sync_polls_since_reconcile"
VERSION_KEY = "gerrit_version"
LAST_SYNC_KEY = "last_sync"
SERVICE_USERS = "Service Users"  # Gerrit's built-in group (ServiceUserClassifier)


def group_known_key(group: str) -> str:
    return f"group_known:{group}"


@dataclass
class SyncSummary:
    """What one sync run did. `changes`/`messages`/`votes` count rows actually written."""

    changes: int = 0
    messages: int = 0
    votes: int = 0
    patch_sets: int = 0
    current_votes: int = 0
    accounts: int = 0
    group_rows: int = 0
    seen: int = 0  # changes Gerrit returned
    pages: int = 0
    requests: int = 0  # HTTP requests this run, retries included
    query_requests: int = 0  # of which change-query pages (incl. retries)
    seconds: float = 0.0
    since: str | None = None
    cursor: str | None = None
    full: bool = False
    reconciled: bool = False
    marked_missing: int = 0
    unmarked: int = 0
    groups_unknown: list[str] = field(default_factory=list)

    def add(self, counts: WriteCounts) -> None:
        self.changes += counts.changes
        self.messages += counts.messages
        self.votes += counts.votes
        self.patch_sets += counts.patch_sets
        self.current_votes += counts.current_votes
        self.accounts += counts.accounts

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data


def scope_query(config: Config) -> str:
    """`(project:A OR project:B) (branch:X)`: the configured projects and branches.

    Teams with different branches make one such group per set of branches, ORed, so the
    one query never asks for one team's projects on another team's branches."""
    groups = [f"({' OR '.join(f'project:{_quoted(p)}' for p in projects)}) "
              f"({' OR '.join(f'branch:{_quoted(b)}' for b in branches)})"
              for projects, branches in config.scope_groups()]
    return groups[0] if len(groups) == 1 else "(" + " OR ".join(f"({g})" for g in groups) + ")"


def _quoted(value: str) -> str:
    if all(ch.isalnum() or ch in "/._-" for ch in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def changes_query(config: Config, since: datetime) -> str:
    return f'{scope_query(config)} after:"{since:%Y-%m-%d %H:%M:%S}"'


def tagged_bot_group(config: Config, version: str) -> str | None:
    """The bot group when its membership is read from account `tags`, else None.

    Gerrit 3.3+ tags every detailed AccountInfo of a member (recursive) of its
    built-in "Service Users" group with SERVICE_USER, from the group's current
    content, and the sync query already asks for DETAILED_ACCOUNTS. So for the
    default bot group the query pages carry the membership of every account
    that acts on a change, and reading the group over REST is one request per
    sync saved (issue 2 item 9: a back-fill within pages + 2). Any other group
    name, an older or unparseable version, or the same group as the core group
    (read every sync anyway) keeps the REST read.
    """
    group = config.gerrit.bot_group
    if group != SERVICE_USERS or group in config.core_groups:
        return None
    found = re.match(r"(\d+)\.(\d+)", version)
    if found is None or (int(found[1]), int(found[2])) < (3, 3):
        return None
    return group


def _in_scope(config: Config, record: ChangeRecord) -> bool:
    return config.tracks(record.project, record.branch)


def _records(page: ChangePage) -> list[ChangeRecord]:
    try:  # the client validated the page (reviewbot.gerrit.rest_shapes.ChangeInfo)
        return [record_from_change_info(info) for info in page]
    except WireError as exc:
        raise GerritProtocolError(page.url, str(exc)) from None


def sync_once(
    client: GerritClient,
    engine: Engine,
    config: Config,
    *,
    since: datetime | None = None,
    full: bool = False,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SyncSummary:
    """One poll. Raises GerritError (already logged as one line) when Gerrit fails."""
    started = time.perf_counter()
    before = client.requests_made
    summary = SyncSummary(full=full)
    now = now or utcnow()
    try:
        version = client.server_version()
        tag_group = tagged_bot_group(config, version)
        _sync_groups(client, engine, config, summary, version, tag_group)
        cursor, polls = _read_cursor(engine)
        start = since if since is not None else _window_start(config, cursor, full)
        summary.since = format_gerrit_timestamp(start)
        newest = _read_changes(client, engine, config, start, summary, cursor, progress,
                               tag_group)
        reconcile = full or (cursor is not None and polls + 1 >= config.gerrit.reconcile_every)
        _store_cursor(engine, cursor, newest, polls, reconcile, now)
        summary.cursor = format_gerrit_timestamp(newest) if newest else None
        if reconcile:
            _reconcile(client, engine, config, summary, now)
    except GerritError as exc:
        log.error("sync failed, cursor kept: %s", exc)
        raise
    finally:
        summary.requests = client.requests_made - before
        summary.seconds = time.perf_counter() - started
    log.info(
        "sync: %d changes seen, %d written, %d messages, %d votes, %d requests, %.2fs",
        summary.seen, summary.changes, summary.messages, summary.votes, summary.requests,
        summary.seconds,
    )
    return summary


def _read_cursor(engine: Engine) -> tuple[datetime | None, int]:
    """The stored cursor (None before the first sync) and the polls since the last reconcile."""
    with session_scope(engine) as session:
        cursor_text = get_state(session, CURSOR_KEY)
        polls = int(get_state(session, POLLS_KEY) or 0)
    return (parse_gerrit_timestamp(cursor_text) if cursor_text else None), polls


def _window_start(config: Config, cursor: datetime | None, full: bool) -> datetime:
    """Where the query starts: the cycle's start for a full (or first) sync, else the cursor."""
    if full or cursor is None:
        return day_start(config.cycle.start)
    # Slack: changes updated while the previous poll was paging.
    return cursor - timedelta(seconds=config.gerrit.slack_seconds)


def _read_changes(
    client: GerritClient, engine: Engine, config: Config, start: datetime,
    summary: SyncSummary, newest: datetime | None,
    progress: Callable[[int, int], None] | None, tag_group: str | None,
) -> datetime | None:
    """Query the changes updated since `start` and write every page; returns the newest
    `updated` seen (`newest` when no change is newer)."""
    query_before = client.requests_made
    pages = read_ahead(client.query_changes(changes_query(config, start), SYNC_OPTIONS,
                                            config.gerrit.page_size),
                       lambda page: _ReadPage(len(page), [
                           r for r in _records(page) if _in_scope(config, r)]))
    try:
        with collector_paused():
            newest = _write_pages(engine, config, pages, summary, newest, progress, tag_group)
    finally:
        pages.close()
    summary.query_requests = client.requests_made - query_before
    return newest


def _store_cursor(engine: Engine, cursor: datetime | None, newest: datetime | None,
                  polls: int, reconcile: bool, now: datetime) -> None:
    """Move the cursor to `newest` (the whole query was read and stored) and count the poll."""
    with session_scope(engine) as session:
        if newest is not None and newest != cursor:
            set_state(session, CURSOR_KEY, format_gerrit_timestamp(newest))
        set_state(session, POLLS_KEY, "0" if reconcile else str(polls + 1))
        set_state(session, LAST_SYNC_KEY, format_gerrit_timestamp(now))


@dataclass
class _ReadPage:
    """A query page as the sync writes it: how many changes Gerrit sent, and the records
    of those in scope."""

    seen: int
    records: list[ChangeRecord]


def _write_pages(
    engine: Engine,
    config: Config,
    pages: Iterable[_ReadPage],
    summary: SyncSummary,
    newest: datetime | None,
    progress: Callable[[int, int], None] | None,
    tag_group: str | None = None,
) -> datetime | None:
    """Each page in its own transaction; returns the newest `updated` seen.

    With `tag_group`, the accounts on the page also update that group's members
    (their SERVICE_USER tag), in the page's transaction.

    The first back-fill into an empty SQLite store is one transaction instead, with the
    message tables' secondary indexes built once at the end (`begin_bulk_load`, as the
    first import does): maintaining them row by row made the store, not Gerrit or the
    decoding, the back-fill's largest cost. A failure rolls it all back; the cursor has
    not moved, so the next sync reads the same window again, as after any failure.
    """
    with session_scope(engine) as session:
        bulk = begin_bulk_load(session)
        if bulk is not None:
            log.info("empty store: first back-fill in one transaction, indexes built at the end")
            for page in pages:
                newest = _write_page(session, page, summary, newest, tag_group)
                if progress:
                    progress(summary.seen, summary.pages)
            end_bulk_load(session, bulk)
            return newest
    for page in pages:
        with session_scope(engine) as session:
            newest = _write_page(session, page, summary, newest, tag_group)
        if progress:
            progress(summary.seen, summary.pages)
    return newest


def _write_page(session: Session, page: _ReadPage, summary: SyncSummary,
                newest: datetime | None, tag_group: str | None) -> datetime | None:
    records = page.records
    summary.add(upsert_changes(session, records))
    if tag_group:
        summary.group_rows += apply_service_user_tags(
            session, tag_group, (a for r in records for a in r.accounts())
        )
    summary.pages += 1
    summary.seen += page.seen
    for r in records:
        if newest is None or r.updated > newest:
            newest = r.updated
    return newest


def _sync_groups(
    client: GerritClient, engine: Engine, config: Config, summary: SyncSummary, version: str,
    tag_group: str | None = None,
) -> None:
    """Core and bot group members. An empty list means "cannot see", never "nobody".

    `tag_group` is not read here: the query pages carry its membership.
    """
    # Every team's core group (one sync serves all the teams of the deployment), the bot
    # group, and the branch policies' core groups (stable-maint).
    core_groups = config.core_groups
    groups = [g for g in dict.fromkeys((*core_groups, config.gerrit.bot_group,
                                        *(p.core_group for p in config.branch_policy)))
              if g and g != tag_group]
    read: dict[str, list[AccountRef]] = {}
    # The core group's audit log (promotions with dates) changes only with its members:
    # read when they changed (the first sync included), one request then, none otherwise.
    audit_wanted: list[str] = []
    for group in groups:
        try:
            members = client.group_members(group, recursive=True)
        except GerritNotFound:
            members = []
        read[group] = [a for a in (rest_account(m, f"group {group}") for m in members) if a]
    with session_scope(engine) as session:
        if get_state(session, VERSION_KEY) != version:
            set_state(session, VERSION_KEY, version)
        for group, accounts in read.items():
            if not accounts:
                log.warning(
                    "group %r read back empty (not visible to this account?): membership "
                    "unknown, keeping the previously stored members", group,
                )
                summary.groups_unknown.append(group)
                if get_state(session, group_known_key(group)) != "false":
                    set_state(session, group_known_key(group), "false")
                continue
            changed = replace_group_members(session, group, accounts)
            summary.group_rows += changed
            if get_state(session, group_known_key(group)) != "true":
                set_state(session, group_known_key(group), "true")
            if group in core_groups and changed:
                audit_wanted.append(group)
    for group in audit_wanted:
        sync_core_audit_log(client, engine, group=group)


def _reconcile(
    client: GerritClient, engine: Engine, config: Config, summary: SyncSummary, now: datetime
) -> None:
    """Open changes Gerrit no longer returns get `missing_since`; returning ones lose it."""
    open_numbers: set[int] = set()
    query = f"{scope_query(config)} status:open"
    for page in client.query_changes(query, (), config.gerrit.page_size):
        open_numbers.update(c["_number"] for c in page)
    with session_scope(engine) as session:
        summary.marked_missing, summary.unmarked = mark_missing(
            session, projects=config.gerrit.projects, branches=config.gerrit.branches,
            open_numbers=open_numbers, now=now,
        )
    summary.reconciled = True
    if summary.marked_missing:
        log.warning("reconcile: %d open changes no longer visible in Gerrit (deleted or "
                    "private), marked missing", summary.marked_missing)


def refresh_change(
    client: GerritClient, engine: Engine, config: Config, number: int,
    *, now: datetime | None = None,
) -> WriteCounts:
    """Re-read one change (e.g. on a webhook hint) with the sync options and upsert it.

    A change Gerrit no longer shows (404) is marked missing; one outside the
    configured projects/branches is ignored. The cursor is not touched.
    """
    counts = WriteCounts()
    try:
        info = client.get_change(number, SYNC_OPTIONS)
    except GerritNotFound:
        with session_scope(engine) as session:
            mark_gone(session, number, now or utcnow())
        return counts
    try:
        record = from_rest(info)
    except WireError as exc:
        raise GerritProtocolError(client.last_url or client.url, str(exc)) from None
    if not _in_scope(config, record):
        return counts
    with session_scope(engine) as session:
        counts.add(upsert_changes(session, [record]))
    return counts
