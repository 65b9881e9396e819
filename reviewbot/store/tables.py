"""Store schema: the SQL tables every step reads and writes (datetimes are naive UTC)."""

# No `from __future__ import annotations`: the fields' annotations are plain types, and as
# strings pydantic and SQLAlchemy each evaluated all ~150 of them back at every start
# (~4 ms of each command, every command importing the tables).

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig


class TableModel(SQLModel):
    """The base of every table model. Its pydantic validator is built when a row object is
    first made or validated, not when this module is imported: most commands read the
    tables' columns only (SQLAlchemy Core, `reviewbot.store`), and building the
    validators of every table cost each of them ~12 ms at start."""

    model_config = SQLModelConfig(defer_build=True)


class Account(TableModel, table=True):
    """A Gerrit account; the numeric id is the identity.

    Accounts seen only in SSH-format imports (which carry no id) get a negative
    synthetic id until a REST sync reveals the real one.
    """

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    username: str | None = Field(default=None, index=True)
    name: str | None = None
    email: str | None = None


class Change(TableModel, table=True):
    # The changes updated since a date, with their revision, from the index alone: whether
    # any stored judgement is stale is asked by every leaderboard and standing read
    # (`store.judgements.any_stale`), and the change rows (commit message, files) are wide.
    __table_args__ = (Index("ix_change_updated_revision", "updated", "revision"),)

    number: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    gerrit_id: str = ""
    change_id: str = ""
    project: str = Field(index=True)
    branch: str
    subject: str = ""
    status: str = Field(index=True)  # NEW, MERGED, ABANDONED
    wip: bool = False
    owner_id: int = Field(sa_type=BigInteger, index=True)
    topic: str | None = None
    hashtags: list[str] = Field(default_factory=list, sa_type=JSON)
    created: datetime = Field(sa_type=DateTime)
    updated: datetime = Field(sa_type=DateTime)
    submitted: datetime | None = Field(default=None, sa_type=DateTime)
    closed_at: datetime | None = Field(default=None, sa_type=DateTime)
    current_patch_set: int = 1
    commit_message: str | None = Field(default=None, sa_type=Text)
    files: list[str] | None = Field(default=None, sa_type=JSON)
    insertions: int = 0
    deletions: int = 0
    # Set when the change left the synced query (deleted, made private, moved).
    missing_since: datetime | None = Field(default=None, sa_type=DateTime)
    source: str = "rest"  # rest | import
    # Moves on every write to the rows judging reads (the change row, its patch sets and
    # messages) and when account adoption renames ids in them: stored review judgements
    # are recognised as current by it (Gerrit's `updated` is whole seconds, and an import
    # may rewrite a change under the same one).
    revision: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class PatchSet(TableModel, table=True):
    __tablename__ = "patch_set"

    change_number: int = Field(primary_key=True, foreign_key="change.number")
    number: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    revision: str = ""
    created: datetime = Field(sa_type=DateTime)
    uploader_id: int | None = Field(default=None, sa_type=BigInteger)
    kind: str | None = None
    insertions: int = 0
    deletions: int = 0


class Message(TableModel, table=True):
    """A change message, with the parts the vote-history parser found in its text."""

    # (author, date) rather than author alone: one reviewer's messages in a window
    # (standing) are a range read, and author-only lookups use it just the same.
    # ix_message_comment_only: the comment-only messages (about a quarter of them), by
    # change and date, with what counting them reads: the leaderboard counts each
    # person's comments on the changes of its window (`review_reads.comment_counts`) from
    # it, not from the wide rows of every message. It is partial: migration 0008 creates
    # it for the messages that change no vote, in the words the reads compile
    # `not_(changes_votes)` to on each database (SQLite's planner uses a partial index
    # only for a read that says its condition). The condition is not repeated here:
    # naming `postgresql_where` makes SQLAlchemy import its PostgreSQL dialect at every
    # start (~20 ms of a SQLite answer), and Alembic's comparison does not read it.
    __table_args__ = (
        Index("ix_message_author_date", "author_id", "date"),
        Index("ix_message_comment_only", "change_number", "date", "author_id", "tag", "id"),
    )

    id: str = Field(primary_key=True)
    change_number: int = Field(foreign_key="change.number", index=True)
    patch_set: int | None = None
    author_id: int | None = Field(default=None, sa_type=BigInteger)
    date: datetime = Field(index=True, sa_type=DateTime)
    tag: str | None = None
    text: str = Field(default="", sa_type=Text)
    inline_comments: int = 0
    free_text: str = Field(default="", sa_type=Text)
    changes_votes: bool = False


class VoteEventRow(TableModel, table=True):
    """One vote cast, changed or removed, as read from a change message."""

    __tablename__ = "vote_event"
    __table_args__ = (
        UniqueConstraint("message_id", "label", name="uq_vote_event_message_label"),
        # One reviewer's votes in a date range (standing, core effort) read from the
        # index alone: the trailing columns save a table lookup per vote.
        Index("ix_vote_event_account_date_wide", "account_id", "date", "label",
              "change_number", "patch_set", "value"),
        Index("ix_vote_event_change_ps", "change_number", "patch_set"),
        # Covering index for the PTL report's largest read (one label's events of a set
        # of changes, by patch set and time): read from the index alone, no table rows.
        Index("ix_vote_event_report", "change_number", "label", "patch_set", "date",
              "account_id", "value", "removed"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(foreign_key="message.id")
    change_number: int = Field(foreign_key="change.number")
    patch_set: int
    account_id: int = Field(sa_type=BigInteger)
    label: str
    value: int  # 0 when removed
    removed: bool = False
    date: datetime = Field(sa_type=DateTime)


class CurrentVote(TableModel, table=True):
    """Gerrit's `labels` on the current patch set (includes votes copied forward)."""

    __tablename__ = "current_vote"

    change_number: int = Field(primary_key=True, foreign_key="change.number")
    label: str = Field(primary_key=True)
    account_id: int = Field(primary_key=True, sa_type=BigInteger)
    value: int


class GroupMember(TableModel, table=True):
    __tablename__ = "group_member"

    group_name: str = Field(primary_key=True)
    account_id: int = Field(primary_key=True, sa_type=BigInteger)


class SyncState(TableModel, table=True):
    """Small key/value facts about syncing: cursor, server version, group visibility."""

    __tablename__ = "sync_state"

    key: str = Field(primary_key=True)
    value: str = Field(default="", sa_type=Text)
    updated: datetime = Field(sa_type=DateTime)


class Verdict(TableModel, table=True):
    """The latest evaluation of one change: priority matches and gate state, with reasons."""

    change_number: int = Field(primary_key=True, foreign_key="change.number")
    gate_state: str = Field(index=True)  # priority | exempt | open | gated | closed
    gate_reason: str = ""
    priorities: list[str] = Field(default_factory=list, sa_type=JSON)
    rank: int | None = None
    # Matched gate.exempt (kept for closed changes too, whose gate_state is "closed").
    exempt: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # False when the gate could not be judged (core membership unknown, evaluation error):
    # the state is then the cautious one and write-back must not act on it.
    gate_certain: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    reasons: list[str] = Field(default_factory=list, sa_type=JSON)
    matches: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    evaluated_at: datetime = Field(sa_type=DateTime)
    # DESIGN "Review state" of an open change when evaluated (None for closed and WIP).
    review_state: str | None = None
    review_reason: str | None = None
    # `change.revision` the verdict was computed from: evaluate skips changes that did
    # not move since (unless the rules, roster or Launchpad data changed).
    evaluated_revision: int = Field(default=-1, sa_column_kwargs={"server_default": "-1"})


class ActionLog(TableModel, table=True):
    """Every planned or applied write to Gerrit, with its reason and result."""

    __tablename__ = "action_log"

    id: int | None = Field(default=None, primary_key=True)
    change_number: int = Field(index=True)
    patch_set: int | None = None
    action: str  # add-hashtags | remove-hashtags | gated-message
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    reason: str = ""
    result: str  # planned | applied | failed | forbidden
    error: str | None = None
    created: datetime = Field(index=True, sa_type=DateTime)


class DigestLog(TableModel, table=True):
    """Every planned, sent or failed digest (daily core digest, weekly PTL summary).

    At most one digest per person per UTC day and channel is sent: a `sent` row for
    (username, day, channel) stops the next one; `digest_id` is the Matrix txnId too,
    so a retry after a lost answer is idempotent on the server.
    """

    __tablename__ = "digest_log"

    id: int | None = Field(default=None, primary_key=True)
    digest_id: str = Field(index=True)  # e.g. daily:carol:2017-01-20
    username: str = Field(index=True)
    day: date = Field(index=True, sa_type=Date)
    kinds: str  # "daily", "weekly" or "daily+weekly": what the one digest of the day held
    channel: str  # email | matrix
    destination: str  # address or room id
    result: str  # planned | sent | failed
    reason: str = ""
    error: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created: datetime = Field(index=True, sa_type=DateTime)


class Cycle(TableModel, table=True):
    """A release cycle's definition as it was when the bot ran it (written by `cycle-start`).

    The config's `[cycle]` is the present cycle; a row under another name is a past one,
    kept so its report still reads as it did at its end and so the bot knows which
    priority hashtags it wrote then (`priority_hashtag_prefix` + each priority id).
    """

    name: str = Field(primary_key=True)
    start: date = Field(sa_type=Date)
    end: date = Field(sa_type=Date)
    definition: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # the [cycle] keys
    priorities: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    priority_hashtag_prefix: str = ""
    recorded: datetime = Field(sa_type=DateTime)  # last written from a config
    ended: datetime | None = Field(default=None, sa_type=DateTime)  # when the next one began


class LaunchpadRecord(TableModel, table=True):
    """Cached Launchpad facts about one bug or blueprint."""

    __tablename__ = "launchpad_record"

    kind: str = Field(primary_key=True)  # bug | blueprint
    key: str = Field(primary_key=True)
    found: bool = True
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    fetched_at: datetime = Field(sa_type=DateTime)
    error: str | None = None


_REVIEW_INDEX_COLUMNS = ("account_id", "date", "change_number", "month", "value", "owner_id",
                  "judged", "disagrees", "caught", "thoughtful", "gate_open",
                  "gate_open_confirmed", "first_crack", "priority", "quick_large_plus1")


class StoredReview(TableModel, table=True):
    """One counted review (a reviewer's final non-zero Code-Review vote on a patch set of
    someone else's change) with every judgement the standing metrics use, judged on all
    the data stored when it was written (see `reviewbot.evaluate.review_judgements`)."""

    __tablename__ = "review"
    # One reviewer's reviews (their page) by range; the leaderboard's GROUP BY is answered
    # from this index alone (every column it counts is in it; SQLite stores 0/1 in no
    # payload bytes), never touching the wide rows with their message ids.
    __table_args__ = (Index("ix_review_account_date", *_REVIEW_INDEX_COLUMNS),)

    change_number: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    patch_set: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    account_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    owner_id: int = Field(sa_type=BigInteger)
    value: int
    date: datetime = Field(sa_type=DateTime)
    month: int  # year * 12 + month - 1 (UTC): months active are counted in SQL
    message_id: str
    core_at_time: bool
    priority: bool
    thoughtful: bool
    judged: bool
    disagrees: bool
    caught: bool
    gate_open: bool
    gate_open_confirmed: bool
    first_crack: bool
    quick_large_plus1: bool
    # The verdict (newest core review on the patch set), for the learning feed's links.
    verdict_account_id: int | None = Field(default=None, sa_type=BigInteger)
    verdict_value: int | None = None
    verdict_date: datetime | None = Field(default=None, sa_type=DateTime)
    verdict_message_id: str | None = None


class JudgedChange(TableModel, table=True):
    """What a change's stored reviews were judged on: a change whose `revision` or
    priority/exempt facts differ from these needs judging again."""

    __tablename__ = "judged_change"

    change_number: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    revision: int
    priority: bool
    exempt: bool


class AppliedChange(TableModel, table=True):
    """What the apply step last settled for an open change: its `revision` and the verdict
    facts the plan reads. A change whose revision or facts differ is planned again; the
    others are not read at all (`reviewbot.actions.writeback`)."""

    __tablename__ = "applied_change"

    change_number: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    revision: int
    gate_state: str
    priorities: str  # the verdict's priorities exactly as stored (JSON text)
    gate_certain: bool
    # Writes a dry run planned and did not send (0 once everything was written).
    pending_writes: int = 0


class SyncHint(TableModel, table=True):
    """A request to refresh one change (a webhook) or run a whole cycle (the admin API).

    The web process only records it; the leading worker drains the table within a
    second (reviewbot.service.hints), so the web never talks to Gerrit and a hint outlives
    a restart of either process.
    """

    __tablename__ = "sync_hint"

    id: int | None = Field(default=None, primary_key=True)
    change_number: int | None = Field(default=None, index=True)  # None: a full cycle
    received: datetime = Field(sa_type=DateTime)
    source: str = ""  # e.g. "webhook comment-added", "admin"
