"""Store writes, the pure half: one page of change records as the rows the store keeps.

`store.changes.write_page` stores these rows; everything that needs no database is
done here. Account columns hold the id each account will most likely be stored under:
Gerrit's id, or for an SSH-only account its synthetic id (`store.accounts.synthetic_id`).
The writer resolves `PageRows.accounts` (`store.accounts.AccountResolver`) and rewrites
only the rows whose account is stored under another id (an SSH name a REST sync already
stored with its real id): a first import rewrites none.

An import builds the rows in its writing process, not in its parser process: built in
the parser, they cost less CPU in all but made the parser the slower of the two, and
the 20k-change import ~0.4 s slower (bench/RESULTS.md, session 7).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reviewbot.gerrit.records import AccountRef, ChangeRecord
from reviewbot.store.accounts import synthetic_id

# Columns of the rows below, in order; an account column holds the account's likely id
# (`likely_id`; None: no account, or one that cannot be stored: no id, no key).
CHANGE_COLUMNS = (
    "number", "gerrit_id", "change_id", "project", "branch", "subject", "status", "wip",
    "owner_id", "topic", "hashtags", "created", "updated", "submitted", "closed_at",
    "current_patch_set", "commit_message", "files", "insertions", "deletions",
    "missing_since", "source",
)
CHANGE_OWNER = CHANGE_COLUMNS.index("owner_id")
PATCH_SET_COLUMNS = ("change_number", "number", "revision", "created", "uploader_id", "kind",
                     "insertions", "deletions")
PATCH_SET_UPLOADER = PATCH_SET_COLUMNS.index("uploader_id")
MESSAGE_COLUMNS = ("id", "change_number", "patch_set", "author_id", "date", "tag", "text",
                   "inline_comments", "free_text", "changes_votes")
MESSAGE_AUTHOR = MESSAGE_COLUMNS.index("author_id")
VOTE_COLUMNS = ("message_id", "change_number", "patch_set", "account_id", "label", "value",
                "removed", "date")
VOTE_ACCOUNT = VOTE_COLUMNS.index("account_id")


@dataclass(slots=True)
class ChangeRows:
    """One change's rows. Datetimes of the change and patch-set rows stay datetimes (the
    writer compares them with stored rows); message and vote dates are already in the
    store's format (`stamp`), as messages are only ever inserted."""

    number: int
    source: str
    updated: datetime
    change: tuple  # CHANGE_COLUMNS
    patch_sets: list[tuple]  # PATCH_SET_COLUMNS
    messages: list[tuple]  # MESSAGE_COLUMNS; each message id once in the page
    votes: list[tuple]  # VOTE_COLUMNS; one per message and label
    current_votes: list[tuple[str, int, int]]  # (label, account's likely id, value != 0)


@dataclass(slots=True)
class PageRows:
    changes: list[ChangeRows]
    accounts: list[AccountRef]  # every account the rows name (once per object)


def likely_id(ref: AccountRef) -> int | None:
    """The id `ref` will most likely be stored under (see the module's docstring);
    None when it cannot be stored (no id, no key)."""
    if ref.id is not None:
        return ref.id
    key = ref.key
    return synthetic_id(key) if key else None


def page_rows(records: Sequence[ChangeRecord], stamp: Callable[[datetime], Any]) -> PageRows:
    """The rows of `records` (one page; a change repeated keeps its last record).
    `stamp`: `store.changes.stamp_for` the store."""
    accounts: list[AccountRef] = []
    # By identity: parsed records share a few hundred account objects (the records keep
    # them alive, so an object's id is never reused while the page is built).
    known: dict[int, int | None] = {}

    def account(ref: AccountRef | None) -> int | None:
        if ref is None:
            return None
        found = known.get(id(ref), 0)
        if found != 0:  # 0 is no account id, real or synthetic
            return found
        found = known[id(ref)] = likely_id(ref)
        if found is not None:
            accounts.append(ref)
        return found

    seen_messages: set[str] = set()
    by_number = {r.number: r for r in records}
    changes = [_change_rows(r, account, stamp, seen_messages) for r in by_number.values()]
    return PageRows(changes, accounts)


def _change_rows(r: ChangeRecord, account: Callable[[AccountRef | None], int | None],
                 stamp: Callable[[datetime], Any], seen_messages: set[str]) -> ChangeRows:
    number = r.number
    change = (number, r.gerrit_id, r.change_id, r.project, r.branch, r.subject, r.status,
              r.wip, account(r.owner), r.topic, r.hashtags, r.created, r.updated, r.submitted,
              r.closed_at, r.current_patch_set, r.commit_message, r.files, r.insertions,
              r.deletions, None, r.source)
    patch_sets = [(number, ps.number, ps.revision, ps.created, account(ps.uploader), ps.kind,
                   ps.insertions, ps.deletions) for ps in r.patch_sets]
    messages: list[tuple] = []
    votes: list[tuple] = []
    # Flags as 0/1: sqlite3 binds a bool through its adaptation protocol, and Core's
    # Boolean takes 0/1 on PostgreSQL.
    for m in r.messages:
        mid = m.id
        if mid in seen_messages:
            continue
        seen_messages.add(mid)
        parsed = m.parsed
        date = stamp(m.date)  # once per message, for the message and its vote events
        messages.append((mid, number, m.patch_set, account(m.author), date, m.tag, m.text,
                         parsed.inline_comments, parsed.free_text, 1 if parsed.votes else 0))
        if m.patch_set is None or not m.votes:
            continue
        if len(m.votes) == 1:  # the common case: one label per message
            v = m.votes[0]
            voter = account(v.account)
            if voter is not None:
                votes.append((mid, number, m.patch_set, voter, v.label, v.value,
                              v.removed + 0, date))
            continue
        by_label = {}  # a label voted twice in one message: the last vote counts
        for v in m.votes:
            voter = account(v.account)
            if voter is not None:
                by_label[v.label] = (mid, number, m.patch_set, voter, v.label, v.value,
                                     v.removed + 0, date)
        votes.extend(by_label.values())
    current = [(label, voter, value) for label, ref, value in r.current_votes
               if value and (voter := account(ref)) is not None]
    return ChangeRows(number, r.source, r.updated, change, patch_sets, messages, votes,
                      current)
