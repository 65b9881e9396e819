"""Gerrit REST shapes: the TypedDicts Gerrit's JSON is validated against (ChangeInfo and parts).

The shapes are TypedDicts validated by pydantic-core, not BaseModel classes: the
same checks and error locations, but no model instance per account and message.
On a back-fill page BaseModel took 3x the CPU of the old hand-written reader;
TypedDicts, validated straight from the response bytes (`validate_json`), cost
less than orjson's parse alone (bench/wire_bench.py). Fields we do not read are
ignored, never built.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Required

from pydantic import ConfigDict, Field, TypeAdapter, with_config
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from reviewbot.gerrit.records import MAX_ACCOUNT_ID, MAX_NUMBER

# Strict: a string where a number belongs (or a number where a string does) is an
# error, as Gerrit never sends one; timestamps are parsed by pydantic-core (C speed):
# Gerrit's `2013-02-01 09:59:32.126000000`, and ISO 8601 with a zone, made naive UTC.
WIRE = ConfigDict(extra="ignore", strict=True)
Number = Annotated[int, Field(gt=0, le=MAX_NUMBER)]
AccountId = Annotated[int, Field(gt=0, le=MAX_ACCOUNT_ID)]
Timestamp = Annotated[datetime, Field(strict=False)]


@with_config(WIRE)
class AccountInfo(TypedDict, total=False):
    _account_id: AccountId | None  # None: e.g. a reviewer added by email
    username: str | None
    name: str | None
    email: str | None
    tags: list[str] | None  # Gerrit 3.3+, detailed accounts only: SERVICE_USER


@with_config(WIRE)
class ApprovalInfo(AccountInfo, total=False):
    value: int | None


@with_config(WIRE)
class LabelInfo(TypedDict, total=False):
    all: list[ApprovalInfo] | None


@with_config(WIRE)
class CommitInfo(TypedDict, total=False):
    message: str | None


@with_config(WIRE)
class FileInfo(TypedDict, total=False):
    """Only the paths (the keys of `files`) are read."""


@with_config(WIRE)
class RevisionInfo(TypedDict, total=False):
    _number: Required[Number | Literal["edit"]]
    created: Timestamp | None  # required but for a change edit: checked when read
    uploader: AccountInfo | None
    kind: str | None
    commit: CommitInfo | None
    files: dict[str, FileInfo | None] | None


@with_config(WIRE)
class ChangeMessageInfo(TypedDict, total=False):
    id: Required[str]
    author: AccountInfo | None
    date: Required[Timestamp]
    tag: str | None
    message: str | None
    _revision_number: int | None
    accounts_in_message: list[AccountInfo] | None  # Gerrit 3.5+


@with_config(WIRE)
class ChangeInfo(TypedDict, total=False):
    _number: Required[Number]
    id: str | None
    change_id: str | None
    project: Required[str]
    branch: Required[str]
    subject: str | None
    status: Required[str]
    work_in_progress: bool | None
    owner: Required[AccountInfo]
    topic: str | None
    hashtags: list[str] | None
    created: Required[Timestamp]
    updated: Required[Timestamp]
    submitted: Timestamp | None
    current_revision: str | None
    current_revision_number: int | None
    insertions: int | None
    deletions: int | None
    revisions: dict[str, RevisionInfo] | None
    messages: list[ChangeMessageInfo] | None
    labels: dict[str, LabelInfo] | None
    _more_changes: bool | None  # on the last ChangeInfo of a page that has a next page


ACCOUNT_INFO: TypeAdapter[AccountInfo] = TypeAdapter(AccountInfo)
CHANGE_INFO: TypeAdapter[ChangeInfo] = TypeAdapter(ChangeInfo)
CHANGE_PAGE: TypeAdapter[list[ChangeInfo]] = TypeAdapter(list[ChangeInfo])
