"""Sync step (groups): the core group's audit log, read from Gerrit where it may be, and stored.

Stored as membership events in the sync state (one small JSON value), with the
accounts they name; `store.snapshots.load_roster` turns them into "core at t"
for people without a `[[core_history]]` entry, and the backtest into promotions.
"""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine

from reviewbot.gerrit.client import GerritClient
from reviewbot.gerrit.errors import GerritForbidden, GerritNotFound
from reviewbot.gerrit.wire import WireError
from reviewbot.store import session_scope
from reviewbot.store.accounts import AccountResolver
from reviewbot.store.state import get_state, set_state
from reviewbot.timeline.promotions import events_to_json, parse_audit_log

log = logging.getLogger(__name__)


def audit_key(group: str) -> str:
    return f"group_audit:{group}"


def sync_core_audit_log(client: GerritClient, engine: Engine, *, group: str) -> bool:
    """Read `group`'s audit log and store its user events; False (and nothing changed)
    where Gerrit refuses (403: not a group owner; 404) or sends something unreadable:
    promotions then come from `[[core_history]]` alone, as before."""
    try:
        raw = client.group_audit_log(group)
        events, accounts = parse_audit_log(raw, f"group {group!r} audit log")
    except (GerritForbidden, GerritNotFound) as exc:
        log.info("group %r audit log not readable (HTTP %s): promotions come from "
                 "[[core_history]] only", group, exc.status)
        return False
    except WireError as exc:
        log.warning("group %r audit log ignored: %s", group, exc)
        return False
    with session_scope(engine) as session:
        AccountResolver(session).prepare(accounts)
        text = events_to_json(events)
        if get_state(session, audit_key(group)) != text:
            set_state(session, audit_key(group), text)
    return True

