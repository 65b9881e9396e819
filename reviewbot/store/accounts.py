"""Store writes: accounts and group members (ids from REST, synthetic ids for SSH imports)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, or_, select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from reviewbot.store.tables import (
    Account,
    Change,
    CurrentVote,
    GroupMember,
    Message,
    PatchSet,
    VoteEventRow,
)

if TYPE_CHECKING:  # the readers that import `chunks` need no Gerrit records
    from reviewbot.gerrit.records import AccountRef

CHUNK = 900  # stay under SQLite's bound-parameter limit

_ACCOUNT = Account.__table__
_GROUP_MEMBER = GroupMember.__table__
# Where an account id appears; rows move from a synthetic id to the real one.
_ACCOUNT_COLUMNS = (
    (Change.__table__, "owner_id"),
    (PatchSet.__table__, "uploader_id"),
    (Message.__table__, "author_id"),
    (VoteEventRow.__table__, "account_id"),
    (CurrentVote.__table__, "account_id"),
    (GroupMember.__table__, "account_id"),
)


def chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def synthetic_id(key: str) -> int:
    """A stable negative id for an SSH-only account (no numeric id in that format).

    48 bits of a hash: collisions among even a million usernames are unlikely,
    and negative ids never clash with Gerrit's positive ones.
    """
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=6).digest()
    return -(int.from_bytes(digest, "big") + 1)


class AccountResolver:
    """Turns AccountRefs into stored account ids, writing new and changed accounts."""

    def __init__(self, session: Session):
        self.conn: Connection = session.connection()
        self.written = 0
        self._by_key: dict[str, int] = {}

    def prepare(self, refs: Iterable[AccountRef]) -> None:
        """Upsert every account in `refs` (once), so `resolve` is a dict lookup."""
        with_id: dict[int, AccountRef] = {}
        keyed: dict[str, AccountRef] = {}
        # A page mentions the same few hundred (cached, identical) refs ~100,000
        # times: look at each distinct object once.
        for ref in {id(r): r for r in refs}.values():
            if ref is None:
                continue
            if ref.id is not None:
                known = with_id.get(ref.id)
                if known is None or (ref.username and not known.username):
                    with_id[ref.id] = ref
            elif ref.key and ref.key not in self._by_key:
                keyed.setdefault(ref.key, ref)
        if with_id:
            self._upsert_known(with_id)
        if keyed:
            self._resolve_keyed(keyed)

    def resolve(self, ref: AccountRef | None) -> int | None:
        if ref is None:
            return None
        account_id = ref.id
        if account_id is not None:
            return account_id
        key = ref.username or ref.email or ref.name
        return self._by_key.get(key) if key else None

    def _upsert_known(self, refs: dict[int, AccountRef]) -> None:
        existing: dict[int, tuple] = {}
        ids = list(refs)
        for part in chunks(ids):
            for row in self.conn.execute(
                select(_ACCOUNT.c.id, _ACCOUNT.c.username, _ACCOUNT.c.name, _ACCOUNT.c.email)
                .where(_ACCOUNT.c.id.in_(part))
            ):
                existing[row.id] = (row.username, row.name, row.email)
        inserts, updates = [], []
        for account_id, ref in refs.items():
            old = existing.get(account_id)
            if old is None:
                inserts.append({"id": account_id, "username": ref.username, "name": ref.name,
                                "email": ref.email})
                continue
            # Without DETAILED_ACCOUNTS Gerrit sends ids only: never erase known details.
            new = (ref.username or old[0], ref.name or old[1], ref.email or old[2])
            if new != old:
                updates.append({"_id": account_id, "username": new[0], "name": new[1],
                                "email": new[2]})
        if inserts:
            self.conn.execute(_ACCOUNT.insert(), inserts)
        if updates:
            self.conn.execute(
                _ACCOUNT.update().where(_ACCOUNT.c.id == bindparam("_id"))
                .values(username=bindparam("username"), name=bindparam("name"),
                        email=bindparam("email")),
                updates,
            )
        self.written += len(inserts) + len(updates)
        usernames = {ref.username: i for i, ref in refs.items() if ref.username}
        if usernames:
            self._adopt_synthetic(usernames)

    def _adopt_synthetic(self, real_ids: dict[str, int]) -> None:
        """An SSH import stored `jdoe` under a synthetic id; REST now shows jdoe's real id:
        move every row over and drop the synthetic account."""
        names = list(real_ids)
        moves: list[tuple[int, int]] = []
        for part in chunks(names):
            for row in self.conn.execute(
                select(_ACCOUNT.c.id, _ACCOUNT.c.username)
                .where(_ACCOUNT.c.id < 0, _ACCOUNT.c.username.in_(part))
            ):
                moves.append((row.id, real_ids[row.username]))
        for fake, real in moves:
            # Stored review rows name owners, voters and verdict voters by id: the changes
            # where the synthetic id is one of those are judged again. (An uploader id
            # only decides whether a +1 is the uploader's own, which the renaming does
            # not change.)
            self.conn.execute(
                Change.__table__.update()
                .where(or_(Change.owner_id == fake,
                           Change.number.in_(select(VoteEventRow.change_number)
                                             .where(VoteEventRow.account_id == fake)),
                           Change.number.in_(select(Message.change_number)
                                             .where(Message.author_id == fake))))
                .values(revision=Change.revision + 1))
            for table, column in _ACCOUNT_COLUMNS:
                col = table.c[column]
                if table is _GROUP_MEMBER or table is CurrentVote.__table__:
                    # Primary-key columns: drop rows that would collide first.
                    self._drop_collisions(table, column, fake, real)
                self.conn.execute(table.update().where(col == fake).values({column: real}))
            self.conn.execute(_ACCOUNT.delete().where(_ACCOUNT.c.id == fake))
            self.written += 1

    def _drop_collisions(self, table, column: str, fake: int, real: int) -> None:
        keys = [c.name for c in table.primary_key.columns if c.name != column]
        real_rows = {
            tuple(r) for r in self.conn.execute(
                select(*[table.c[k] for k in keys]).where(table.c[column] == real)
            )
        }
        for values in real_rows:
            pairs = zip(keys, values, strict=True)
            cond = [table.c[column] == fake] + [table.c[k] == v for k, v in pairs]
            self.conn.execute(table.delete().where(*cond))

    def _resolve_keyed(self, refs: dict[str, AccountRef]) -> None:
        keys = list(refs)
        found: dict[str, int] = {}
        for part in chunks(keys):
            for row in self.conn.execute(
                select(_ACCOUNT.c.id, _ACCOUNT.c.username).where(_ACCOUNT.c.username.in_(part))
            ):
                # Prefer a real (positive) id over a synthetic one.
                if row.username not in found or row.id > 0:
                    found[row.username] = row.id
        inserts = []
        for key, ref in refs.items():
            account_id = found.get(key)
            if account_id is None:
                account_id = synthetic_id(key)
                # An email- or name-only account keeps its key as username so the
                # next import finds it again.
                inserts.append({"id": account_id, "username": ref.username or key,
                                "name": ref.name, "email": ref.email})
            self._by_key[key] = account_id
        if inserts:
            existing = set()
            for part in chunks([r["id"] for r in inserts]):
                existing |= {r.id for r in self.conn.execute(
                    select(_ACCOUNT.c.id).where(_ACCOUNT.c.id.in_(part)))}
            fresh = [r for r in inserts if r["id"] not in existing]
            if fresh:
                self.conn.execute(_ACCOUNT.insert(), fresh)
                self.written += len(fresh)


def replace_group_members(session: Session, group: str, members: Sequence[AccountRef]) -> int:
    """Make `group`'s stored members exactly `members`; returns rows inserted or deleted."""
    resolver = AccountResolver(session)
    resolver.prepare(members)
    wanted = {account for m in members if (account := resolver.resolve(m)) is not None}
    conn = resolver.conn
    current = {
        r.account_id for r in conn.execute(
            select(_GROUP_MEMBER.c.account_id).where(_GROUP_MEMBER.c.group_name == group)
        )
    }
    add = wanted - current
    drop = current - wanted
    if add:
        conn.execute(_GROUP_MEMBER.insert(),
                     [{"group_name": group, "account_id": a} for a in sorted(add)])
    for part in chunks(sorted(drop)):
        conn.execute(_GROUP_MEMBER.delete().where(
            _GROUP_MEMBER.c.group_name == group, _GROUP_MEMBER.c.account_id.in_(part)))
    return len(add) + len(drop) + resolver.written


def apply_service_user_tags(session: Session, group: str, refs: Iterable[AccountRef]) -> int:
    """Membership of `group` ("Service Users") from the SERVICE_USER tag of accounts seen.

    A tagged account becomes a member; one seen detailed but untagged stops being
    one; accounts not seen (or seen id-only) keep their stored membership.
    Returns rows inserted or deleted.
    """
    seen: dict[int, bool] = {}
    for ref in {id(r): r for r in refs if r is not None}.values():
        if ref.id is not None and ref.service_user is not None:
            seen[ref.id] = seen.get(ref.id, False) or ref.service_user
    if not seen:
        return 0
    conn = session.connection()
    current = {
        r.account_id for r in conn.execute(
            select(_GROUP_MEMBER.c.account_id).where(_GROUP_MEMBER.c.group_name == group)
        )
    }
    add = {a for a, tagged in seen.items() if tagged} - current
    drop = {a for a in current if seen.get(a) is False}
    if add:
        conn.execute(_GROUP_MEMBER.insert(),
                     [{"group_name": group, "account_id": a} for a in sorted(add)])
    for part in chunks(sorted(drop)):
        conn.execute(_GROUP_MEMBER.delete().where(
            _GROUP_MEMBER.c.group_name == group, _GROUP_MEMBER.c.account_id.in_(part)))
    return len(add) + len(drop)
