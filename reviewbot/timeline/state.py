"""Timeline: what was true of a change at time T (DESIGN "Change state", "Review state", "Gate").

Every reader — evaluate and why, the core queue and the first-crack queue, the change
pages, the PTL report, standing and the judge step — asks these functions; none
derives "open", "current patch set", "blocked", "waiting on author", "who counts
toward the gate" or "the final review on a patch set" by itself. Pure: plain
snapshots and tuples in, plain answers out; "as of T" means only events at or
before T exist.

Where the current patch set's votes come from: when nothing happened to the change
after T (its `updated` is at or before T) the answer is Gerrit's `labels`, which hold
votes Gerrit copied forward (a sticky -2, votes kept across a trivial rebase);
otherwise each voter's latest vote event on that patch set up to T. Where no vote was
copied the two agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any, Protocol, TypeVar

from reviewbot.timeline.snapshot import (
    BOT_MESSAGE_TAG,
    ChangeSnapshot,
    PatchSetInfo,
    Vote,
    VoteEvent,
)

APPROVED = "approved"
BLOCKED = "blocked"
WAITING_ON_AUTHOR = "waiting_on_author"
WAITING_ON_REVIEWERS = "waiting_on_reviewers"
# DESIGN order: the first that holds.
REVIEW_STATES = (APPROVED, BLOCKED, WAITING_ON_AUTHOR, WAITING_ON_REVIEWERS)
REVIEW_STATE_LABELS = {
    APPROVED: "approved",
    BLOCKED: "blocked",
    WAITING_ON_AUTHOR: "waiting on author",
    WAITING_ON_REVIEWERS: "waiting on reviewers",
}

CODE_REVIEW = "Code-Review"
VERIFIED = "Verified"
WORKFLOW = "Workflow"

Name = Callable[[int], str]
T_Event = TypeVar("T_Event")


class VoteLike(Protocol):
    """What the vote replay reads off an event: a VoteEvent, or the report's VoteRow."""

    @property
    def patch_set(self) -> int: ...
    @property
    def account_id(self) -> int: ...
    @property
    def label(self) -> str: ...
    @property
    def value(self) -> int: ...
    @property
    def date(self) -> datetime: ...
    @property
    def removed(self) -> bool: ...


# --- existence and status ---------------------------------------------------------------


def closed_time(status: str, submitted: datetime | None, closed_at: datetime | None,
                updated: datetime) -> datetime | None:
    """When the change was merged or abandoned (None while it is open)."""
    if status == "MERGED":
        return submitted or closed_at or updated
    if status == "ABANDONED":
        return closed_at or updated
    return None


def status_at(status: str, created: datetime, closed: datetime | None,
              at: datetime) -> str | None:
    """"open" (status NEW, WIP or not), "merged" or "abandoned" at T; None before it existed.

    A change merged or abandoned after T was open at T.
    """
    if created > at:
        return None
    if closed is not None and closed <= at:
        return "merged" if status == "MERGED" else "abandoned"
    return "open"


# Gerrit's words for `status_at`'s answers (None: the change did not exist yet).
GERRIT_STATUS = {"open": "NEW", "merged": "MERGED", "abandoned": "ABANDONED",
                 None: "NOT YET CREATED"}


def live_at(updated: datetime, at: datetime) -> bool:
    """Nothing happened to the change after T: Gerrit's labels are its votes at T."""
    return updated <= at


# --- patch sets and votes ----------------------------------------------------------------


def current_patch_set_at(patch_sets: Sequence[PatchSetInfo], current: int,
                         at: datetime) -> PatchSetInfo | None:
    """The highest patch set uploaded at or before T (the stored current one if none is)."""
    best = None
    for ps in patch_sets:
        if ps.created <= at and (best is None or ps.number > best.number):
            best = ps
    if best is not None:
        return best
    # A change exists from its creation, which is its first upload; tolerate bad data.
    return next((ps for ps in patch_sets if ps.number == current), None)


def latest_votes(events: Iterable[VoteLike], patch_set: int, at: datetime,
                 labels: Sequence[str] | None = None) -> tuple[Vote, ...]:
    """Each voter's latest event per label on one patch set up to T, non-zero ones only.

    DESIGN "Vote history": the vote of X on patch set N is X's latest event on N.
    Events are expected in vote order (date, then message order).
    """
    latest: dict[tuple[int, str], int] = {}
    for e in events:
        if e.patch_set != patch_set or e.date > at:
            continue
        if labels is not None and e.label not in labels:
            continue
        latest[(e.account_id, e.label)] = 0 if e.removed else e.value
    return tuple(Vote(label, account, value)
                 for (account, label), value in latest.items() if value)


def final_votes(ps_events: Iterable[T_Event], voter: Callable[[T_Event], int] = attrgetter(
        "account_id")) -> dict[int, T_Event]:
    """Per voter, the latest of one patch set's events of one label (events in vote order).

    "The vote of X on patch set N" is X's latest event on N; a review is the final
    non-zero one (callers drop the zero, removed, ones). `voter` reads the account off
    an event (VoteEvents by default; the report's plain tuples pass an index getter).
    """
    final: dict[int, T_Event] = {}
    for e in ps_events:
        final[voter(e)] = e
    return final


def votes_of(votes: Iterable[Vote], label: str) -> list[Vote]:
    return [v for v in votes if v.label == label and v.value != 0]


def ci_passed(votes: Iterable[Vote]) -> bool:
    return any(v.value > 0 for v in votes_of(votes, VERIFIED))


def newest_minus1(events: Iterable[VoteEvent], patch_set: int, at: datetime) -> datetime | None:
    """Time of the newest Code-Review -1 vote event on the patch set up to T."""
    newest = None
    for e in events:
        if (e.patch_set == patch_set and e.label == CODE_REVIEW and e.value == -1
                and not e.removed and e.date <= at and (newest is None or e.date > newest)):
            newest = e.date
    return newest


def owner_replied(owner_replies: Iterable[datetime], since: datetime, at: datetime) -> bool:
    """The owner posted a (non-autogenerated) message after `since`, up to T."""
    return any(since < d <= at for d in owner_replies)


# --- review state -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReviewState:
    """One of REVIEW_STATES, with the sentence that says why."""

    state: str
    reason: str
    minus1: bool = False  # has a Code-Review -1 (when waiting on reviewers: an answered one)

    @property
    def label(self) -> str:
        return REVIEW_STATE_LABELS[self.state]


def _who(votes: Sequence[Vote], name: Name) -> str:
    # A fixed order, whatever order the votes were stored or replayed in.
    ordered = sorted(votes, key=lambda v: (v.label, str(name(v.account_id)), v.account_id))
    return ", ".join(f"{v.label} {v.value:+d} by {name(v.account_id)}" for v in ordered)


def review_state(votes: Sequence[Vote], patch_set: int, *, newest_minus1_at: datetime | None,
                 uploaded: datetime | None, owner_replies: Iterable[datetime], at: datetime,
                 name: Name = str) -> ReviewState:
    """DESIGN "Review state" of an open change, the first that holds on the current patch set.

    approved (Workflow +1); blocked (Code-Review -2 or Workflow -1); waiting on author
    (a Verified vote below zero, or a Code-Review -1 the owner has not answered: no
    owner message other than an autogenerated one after the newest -1 vote event
    there); else waiting on reviewers. A -1 with no vote event on the patch set (one
    Gerrit copied forward) counts from the upload.
    """
    approvals, blockers, failing, minus1 = [], [], [], []
    for v in votes:  # one pass: a queue as of T asks this of every open change
        label, value = v.label, v.value
        if label == WORKFLOW:
            if value > 0:
                approvals.append(v)
            elif value < 0:
                blockers.append(v)
        elif label == CODE_REVIEW:
            if value <= -2:
                blockers.append(v)
            elif value == -1:
                minus1.append(v)
        elif label == VERIFIED and value < 0:
            failing.append(v)
    if approvals:
        return ReviewState(APPROVED, f"approved on patch set {patch_set} "
                           f"({_who(approvals, name)})")
    if blockers:
        return ReviewState(BLOCKED, f"blocked on patch set {patch_set} ({_who(blockers, name)})")
    if failing:
        return ReviewState(WAITING_ON_AUTHOR, f"waiting on the author: CI failed on patch set "
                           f"{patch_set} ({_who(failing, name)})", bool(minus1))
    if minus1:
        since = newest_minus1_at or uploaded
        if since is None or not owner_replied(owner_replies, since, at):
            return ReviewState(WAITING_ON_AUTHOR, "waiting on the author: a Code-Review -1 "
                               f"on patch set {patch_set} ({_who(minus1, name)}) the owner "
                               "has not answered", True)
        return ReviewState(WAITING_ON_REVIEWERS, "waiting on reviewers: has a -1 the owner "
                           f"answered ({_who(minus1, name)})", True)
    return ReviewState(WAITING_ON_REVIEWERS, "waiting on reviewers")


# --- the state of one change at T ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChangeState:
    """A change as it stood at T: what every reader needs of its present at that time."""

    number: int
    at: datetime
    status: str | None  # None: did not exist yet; "open" | "merged" | "abandoned"
    wip: bool
    owner_id: int
    patch_set: int
    uploaded: datetime | None
    uploader_id: int | None
    votes: tuple[Vote, ...]  # non-zero votes on the current patch set at T
    review: ReviewState | None  # open changes only

    @property
    def is_open(self) -> bool:
        return self.status == "open" and not self.wip

    def voted(self, account_id: int) -> Vote | None:
        """The account's Code-Review vote on the current patch set, if any."""
        return next((v for v in votes_of(self.votes, CODE_REVIEW)
                     if v.account_id == account_id), None)


def state_at(change: ChangeSnapshot, at: datetime, name: Name = str) -> ChangeState:
    """The change at T from its stored patch sets, votes, vote events and owner replies."""
    closed = closed_time(change.status, change.submitted, change.closed_at, change.updated)
    status = status_at(change.status, change.created, closed, at)
    if live_at(change.updated, at):
        ps = change.current
        votes = tuple(v for v in change.current_votes if v.value)
    else:
        ps = current_patch_set_at(change.patch_sets, change.current_patch_set, at)
        number = ps.number if ps else change.current_patch_set
        votes = latest_votes(change.vote_events, number, at)
    number = ps.number if ps else change.current_patch_set
    uploaded = ps.created if ps else None
    review = None
    if status == "open":
        review = review_state(
            votes, number, newest_minus1_at=newest_minus1(change.vote_events, number, at),
            uploaded=uploaded, owner_replies=change.owner_replies, at=at, name=name)
    return ChangeState(change.number, at, status, change.wip, change.owner_id, number,
                       uploaded, ps.uploader_id if ps else None, votes, review)


# --- who counts toward the gate -------------------------------------------------------------


def counts_toward_gate(account: int, *, owner: int, uploader: int | None, bots: frozenset[int],
                       core: bool) -> bool:
    """DESIGN "Gate": a +1 qualifies when its voter is not core (at that time), not a bot,
    and neither the change owner nor the patch set's uploader."""
    return not core and account not in bots and account != owner and account != uploader


def plus1_replay(ps_events: Sequence[tuple[Any, ...]], core_flags: Sequence[bool], *, owner: int,
                 uploader: int | None, bots: frozenset[int], need: int
                 ) -> tuple[list[int], dict[int, datetime], datetime | None]:
    """Replay one patch set's Code-Review events in vote order, counting qualifying +1s.

    `ps_events` are (change, patch set, account, value, date, ...) tuples (VoteEvent-like
    order of the first five fields is not assumed: see the indices below), `core_flags`
    says per event whether its voter was core when casting it. Each voter's latest vote
    counts (a changed or removed +1 is gone). Returns the count after each event, the
    accounts whose +1 brought the count from need - 1 to need (with the time; DESIGN
    `gate_opens`), and when the patch set first had `need` qualifying +1s.
    """
    positive: set[int] = set()
    after: list[int] = []
    openers: dict[int, datetime] = {}
    opened: datetime | None = None
    for e, core in zip(ps_events, core_flags, strict=True):
        account, value, date = e[2], e[3], e[4]
        if value > 0 and counts_toward_gate(account, owner=owner, uploader=uploader,
                                            bots=bots, core=core):
            if account not in positive:
                positive.add(account)
                if len(positive) == need:
                    openers[account] = date
        else:
            positive.discard(account)
            openers.pop(account, None)  # vote changed or removed: that +1 is gone
        after.append(len(positive))
        if opened is None and len(positive) >= need:
            opened = date
    return after, openers, opened


# --- human activity -------------------------------------------------------------------------


def last_human_activity(created: datetime, uploads: Iterable[tuple[datetime, int | None]],
                        messages: Iterable[tuple[datetime, int | None, str | None]],
                        bots: frozenset[int], at: datetime) -> datetime:
    """The latest upload, vote or message at or before T by an account that is not a bot.

    `uploads` are (created, uploader) of patch sets, `messages` (date, author, tag); a
    vote is a message. The bot's own hashtag writes move Gerrit's `updated` but are no
    activity (DESIGN "PTL report", stale), and its own messages (BOT_MESSAGE_TAG) and
    author-less system messages never count either.
    """
    latest = created
    for when, uploader in uploads:
        if latest < when <= at and uploader not in bots:
            latest = when
    for when, author, tag in messages:
        if latest < when <= at and is_human_message(author, tag, bots):
            latest = when
    return latest


def is_human_message(author: int | None, tag: str | None, bots: frozenset[int]) -> bool:
    return author is not None and author not in bots and tag != BOT_MESSAGE_TAG


def change_activity(change: ChangeSnapshot, bots: frozenset[int], at: datetime) -> datetime:
    """`last_human_activity` of a snapshot loaded with its messages."""
    return last_human_activity(
        change.created, ((ps.created, ps.uploader_id) for ps in change.patch_sets),
        ((m.date, m.author_id, m.tag) for m in change.messages), bots, at)
