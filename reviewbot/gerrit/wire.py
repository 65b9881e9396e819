"""Wire formats -> records: REST ChangeInfo (and, in wire_ssh, SSH query JSON) -> ChangeRecord.

Everything Gerrit sends is validated by pydantic against the wire shapes
(`reviewbot.gerrit.rest_shapes`: ChangeInfo, RevisionInfo, ChangeMessageInfo,
AccountInfo, LabelInfo and ApprovalInfo, CommitInfo) before anything is stored: a
field of the wrong type raises WireError naming where, as pydantic's `loc` does
(`[3] (change 1002). revisions.<sha>.created: Input should be a valid datetime, got
'junk'`), so a bad page is rejected whole, in one error line, instead of half-stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ValidationError

from reviewbot.gerrit.records import (
    MAGIC_PATHS,
    AccountRef,
    ChangeRecord,
    MessageRecord,
    PatchSetRecord,
    closed_at,
    patch_set_at,
    votes_of,
)
from reviewbot.gerrit.rest_shapes import (
    ACCOUNT_INFO,
    CHANGE_INFO,
    CHANGE_PAGE,
    AccountInfo,
    ChangeInfo,
)
from reviewbot.gerrit.votes import parse_message


class WireError(ValueError):
    """A Gerrit record of a shape we do not accept; the message names change and field."""

# -- control characters --------------------------------------------------------

# JSON can only carry a NUL inside a string as this escape (a raw NUL byte is not
# valid JSON), so a byte search finds every one without decoding a page twice.
NUL_ESCAPE = b"\\u0000"


def without_nul(value: Any) -> tuple[Any, int]:
    """`value` with every NUL character removed from its strings (keys too), and how many.

    PostgreSQL's text type cannot hold NUL (SQLite can), so a NUL anyone typed
    into Gerrit would stop every sync on PostgreSQL at the same change. Both
    stores keep the same text instead: NUL is removed at the wire, every other
    character (other control characters included) is kept as sent.
    """
    if isinstance(value, str):
        count = value.count("\x00")
        return (value.replace("\x00", ""), count) if count else (value, 0)
    if isinstance(value, list):
        total = 0
        items = []
        for item in value:
            clean, n = without_nul(item)
            items.append(clean)
            total += n
        return items, total
    if isinstance(value, dict):
        total = 0
        out = {}
        for key, item in value.items():
            clean_key, n = without_nul(key)
            clean, m = without_nul(item)
            out[clean_key] = clean
            total += n + m
        return out, total
    return value, 0

class WireJSONError(WireError):
    """Not JSON at all (truncated, garbled): the bytes, not their shape, are wrong."""


def error_location(loc: tuple[int | str, ...]) -> str:
    """pydantic's `loc`: (3, 'revisions', 'ab', 'created') -> `[3].revisions.ab.created`."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def wire_error(exc: ValidationError, where: str = "", page: Any = None) -> WireError:
    """ONE WireError for a ValidationError: the first problem's location, message and input,
    and how many more there are. `page` (the list, or its bytes) names the change by number."""
    errors = exc.errors(include_url=False, include_context=False)
    first = errors[0]
    if first["type"] == "json_invalid":
        return WireJSONError(f"{where}: {first['msg']}" if where else first["msg"])
    loc = error_location(first["loc"])
    if page is not None and first["loc"] and isinstance(first["loc"][0], int):
        number = _number_at(page, first["loc"][0])
        if number is not None:
            index = f"[{first['loc'][0]}]"
            loc = f"{index} (change {number}){loc[len(index):]}"
    shown = first.get("input")
    got = "" if first["type"] == "missing" else f", got {str(shown)[:40]!r}"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    text = f"{loc}: {first['msg']}{got}{more}" if loc else f"{first['msg']}{got}{more}"
    return WireError(f"{where}: {text}" if where else text)


def _number_at(page: Any, index: int) -> Any:
    try:
        if isinstance(page, (bytes, bytearray, memoryview)):
            page = orjson.loads(page)  # the error path only
        return page[index].get("_number")
    except (orjson.JSONDecodeError, IndexError, KeyError, TypeError, AttributeError):
        return None


def naive_utc(value: datetime) -> datetime:
    """Gerrit's timestamps are UTC without a zone; one given with a zone is converted."""
    if value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


MISSING = object()


def read_field(
    obj: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any = MISSING
) -> Any:
    """obj[key], type-checked; `default` when absent or null, WireError if required.

    Only for the group audit log (`reviewbot.timeline.promotions`); change records have models.
    """
    value = obj.get(key, MISSING)
    if type(value) is kind:  # the common case, checked cheaply
        return value
    if value is MISSING or value is None:
        if default is MISSING:
            raise WireError(f"{where}: field {key!r} is missing")
        return default
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise WireError(
            f"{where}: field {key!r} should be {names}, got {type(value).__name__} "
            f"{str(value)[:40]!r}"
        )
    return value


# The same few people recur on every change: (id, username, name, email, service user) -> ref.
_ACCOUNTS: dict[tuple[int | None, str | None, str | None, str | None, bool | None],
                AccountRef] = {}
SERVICE_USER_TAG = "SERVICE_USER"


def account_ref(info: AccountInfo | None) -> AccountRef | None:
    """A validated AccountInfo -> AccountRef (None without `_account_id`)."""
    if info is None:
        return None
    tags = info.get("tags")
    key = (info.get("_account_id"), info.get("username"), info.get("name"), info.get("email"),
           None if tags is None else SERVICE_USER_TAG in tags)
    ref = _ACCOUNTS.get(key)
    if ref is not None:
        return ref
    account_id, username, name, email, tagged = key
    if account_id is None:
        return None
    if tagged is None and (username or name or email):
        # Detailed (DETAILED_ACCOUNTS) but untagged: Gerrit omits empty `tags`, so
        # this account is not a service user. An id-only object tells nothing.
        tagged = False
    ref = AccountRef(account_id, username, name, email, tagged)
    if len(_ACCOUNTS) > 50_000:
        _ACCOUNTS.clear()
    _ACCOUNTS[key] = ref
    return ref


def rest_account(obj: Any, where: str) -> AccountRef | None:
    """An AccountInfo (e.g. a group member), validated -> AccountRef (None without an id)."""
    if obj is None:
        return None
    try:
        return account_ref(ACCOUNT_INFO.validate_python(obj))
    except ValidationError as exc:
        raise wire_error(exc, where) from None

# -- REST ChangeInfo ---------------------------------------------------------


def change_page_from_json(raw: bytes | memoryview) -> list[ChangeInfo]:
    """A change-query response body (without the XSSI prefix), parsed and validated at once.

    WireJSONError when the bytes are not JSON; WireError naming the change and the
    location of the first problem when a ChangeInfo has the wrong shape.
    """
    if isinstance(raw, memoryview):
        raw = raw.tobytes()  # pydantic-core reads bytes, not views
    try:
        return CHANGE_PAGE.validate_json(raw)
    except ValidationError as exc:
        raise wire_error(exc, page=raw) from None


def from_rest(info: Any) -> ChangeRecord:
    """A ChangeInfo queried with the sync options (parsed JSON) -> ChangeRecord."""
    try:
        valid = CHANGE_INFO.validate_python(info)
    except ValidationError as exc:
        number = info.get("_number") if isinstance(info, dict) else None
        raise wire_error(exc, f"change {number}" if number is not None else "ChangeInfo") \
            from None
    return record_from_change_info(valid)


def record_from_change_info(info: ChangeInfo) -> ChangeRecord:
    """A validated ChangeInfo -> ChangeRecord (what the checks of the types cannot say is
    checked here, naming the location the same way)."""
    number = info["_number"]
    where = f"change {number}"
    owner = account_ref(info["owner"])
    if owner is None:
        raise WireError(f"{where}: owner._account_id: Field required")
    patch_sets, current_number, commit_message, files = _patch_sets(info, where)
    insertions = info.get("insertions") or 0
    deletions = info.get("deletions") or 0
    for ps in patch_sets:
        if ps.number == current_number:
            ps.insertions, ps.deletions = insertions, deletions

    people = [owner] + [p.uploader for p in patch_sets if p.uploader]
    messages = _messages(info, people)
    current_votes = _current_votes(info, people)
    for m in messages:
        m.votes = votes_of(m.author, m.parsed, m.text, people)
        if m.patch_set is None and m.votes:
            m.patch_set = patch_set_at(patch_sets, m.date)

    status = info["status"]
    updated = naive_utc(info["updated"])
    submitted = info.get("submitted")
    submitted = naive_utc(submitted) if submitted is not None else None
    return ChangeRecord(
        number=number,
        gerrit_id=info.get("id") or "",
        change_id=info.get("change_id") or "",
        project=info["project"],
        branch=info["branch"],
        subject=info.get("subject") or "",
        status=status,
        wip=bool(info.get("work_in_progress")),
        owner=owner,
        topic=info.get("topic") or None,
        hashtags=list(info.get("hashtags") or ()),
        created=naive_utc(info["created"]),
        updated=updated,
        submitted=submitted,
        closed_at=closed_at(status, submitted, updated, messages),
        current_patch_set=current_number,
        commit_message=commit_message,
        files=files,
        insertions=insertions,
        deletions=deletions,
        patch_sets=patch_sets,
        messages=messages,
        current_votes=current_votes,
        source="rest",
    )


def _patch_sets(
    info: ChangeInfo, where: str
) -> tuple[list[PatchSetRecord], int, str | None, list[str] | None]:
    """The patch sets, oldest first; the current one's number (Gerrit's, else the newest);
    its commit message and files (None when the query did not ask for them)."""
    patch_sets: list[PatchSetRecord] = []
    commit_message = None
    files = None
    current_sha = info.get("current_revision")
    current_number = info.get("current_revision_number")
    for sha, rev in (info.get("revisions") or {}).items():
        ps_number = rev["_number"]
        if ps_number == "edit":
            continue
        created = rev.get("created")
        if created is None:
            raise WireError(f"{where}: revisions.{sha}.created: Field required")
        patch_sets.append(PatchSetRecord(
            ps_number, sha, naive_utc(created), account_ref(rev.get("uploader")), rev.get("kind"),
        ))
        if sha == current_sha or current_sha is None and ps_number == current_number:
            current_number = ps_number
            commit = rev.get("commit")
            if commit is not None:
                commit_message = commit.get("message")
            paths = rev.get("files")
            if paths is not None:
                files = sorted(p for p in paths if p not in MAGIC_PATHS)
    patch_sets.sort(key=lambda p: p.number)
    if current_number is None:
        current_number = patch_sets[-1].number if patch_sets else 1
    return patch_sets, current_number, commit_message, files


def _messages(info: ChangeInfo, people: list[AccountRef]) -> list[MessageRecord]:
    """The messages, their votes not yet read; adds the accounts they name to `people` (whom
    a `Removed Label±V by WHO` may mean)."""
    messages: list[MessageRecord] = []
    for raw in info.get("messages") or ():
        text = raw.get("message") or ""
        parsed = parse_message(text)
        named = raw.get("accounts_in_message")
        if named:
            people += [ref for ref in map(account_ref, named) if ref]
        author = raw.get("author")
        messages.append(MessageRecord(
            raw["id"], account_ref(author) if author is not None else None,
            naive_utc(raw["date"]), raw.get("tag"),
            raw.get("_revision_number") or parsed.patch_set, text, parsed,
        ))
    return messages


def _current_votes(info: ChangeInfo, people: list[AccountRef]) -> list[tuple[str, AccountRef, int]]:
    """Gerrit's labels: (label, voter, value) of every non-zero vote; adds the voters to
    `people`."""
    current_votes: list[tuple[str, AccountRef, int]] = []
    for label, label_info in (info.get("labels") or {}).items():
        for approval in label_info.get("all") or ():
            value = approval.get("value")
            account = account_ref(approval)
            if value and account is not None:
                current_votes.append((label, account, value))
                people.append(account)
    return current_votes
