"""Views: the answers about one change — the change itself (also `reviewbot why`), the
change list, where it stands in every queue, and `reviewbot evaluate`'s verdicts."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from reviewbot.views.answers import Answer
from reviewbot.views.answers.queue import VoteOut, WhyNotOut

# --- change (why), evaluate --------------------------------------------------------------


class PriorityMatchOut(Answer):
    priority: str
    title: str
    rank: int
    reasons: list[str]


class VerdictOut(Answer):
    """One change's evaluation: priority matches and gate state, with reasons."""

    number: int
    gate: str
    priorities: list[str]
    reasons: list[str]
    rank: int | None
    gate_reason: str
    gate_certain: bool
    matches: list[PriorityMatchOut]
    exempt_reasons: list[str]
    notes: list[str]
    review_state: str | None
    review_reason: str | None


class EvaluationOut(Answer):
    """`reviewbot evaluate --json`."""

    as_of: str
    stored: bool = Field(description="true: the stored verdicts; false: answered as of T")
    evaluated: int
    changes: list[VerdictOut]
    not_gated: list[VerdictOut]
    priorities_matching_no_change: list[str]


class ChangeVoteOut(Answer):
    by: str
    account_id: int
    label: str
    value: int
    removed: bool
    date: str
    core: bool
    bot: bool


class PatchSetOut(Answer):
    number: int
    created: str
    uploader: str
    votes: list[ChangeVoteOut]


class ChangePriorityOut(Answer):
    id: str
    title: str
    rank: int
    reasons: list[str] = Field(description="each matcher that matched, with its value")


class ChangeOut(Answer):
    """`reviewbot why CHANGE --json` and /api/v1/changes/N: one change as of T (null: the
    present) — its priorities with reasons, gate state with reason, review state, votes per
    patch set, and with a reviewer whether it is in their queue and if not, why.

    Built by `reviewbot.views.change_view.change_answer`, which says which verdict answers
    (the stored one in the present, the change judged at T for a past date).
    """

    number: int
    project: str
    branch: str
    subject: str
    owner: str
    as_of: str | None = Field(description="the time answered for; null: the present")
    status: str = Field(description='Gerrit\'s: "NEW", "MERGED", "ABANDONED", or '
                                    '"NOT YET CREATED" at as_of')
    wip: bool
    topic: str | None
    hashtags: list[str]
    current_patch_set: int | None
    age: str = Field(description="time since the current patch set, e.g. '3 days'")
    ci: Literal["failing", "passed", "none"]
    gerrit_url: str
    core_known: bool = Field(description="false: core membership unknown (the core group "
                                         "read back empty)")
    priorities: list[ChangePriorityOut] = Field(description="matched cycle priorities, best "
                                                            "rank first")
    rank: int | None = Field(description="the best rank among the priorities")
    exempt_reasons: list[str] = Field(description="why the change is exempt from the gate")
    gate_state: str = Field(description="priority, exempt, open, gated, wip, closed or "
                                        "untracked")
    gate_reason: str
    gate_certain: bool = Field(description="false: judged without knowing who is core; "
                                           "write-back does not act on it")
    notes: list[str] = Field(description="what could not be checked (no commit message "
                                         "synced, no Launchpad data...)")
    reasons: list[str] = Field(description="every sentence in reading order: priority "
                                           "matches, exemption, gate, notes")
    review_state: str | None = Field(description="DESIGN's review state of the open change; "
                                                  "null for WIP, closed or untracked")
    review_state_label: str | None
    review_reason: str | None
    current_votes: list[VoteOut]
    patch_sets: list[PatchSetOut] = Field(description="newest first, with their votes")
    evaluated_at: str | None = Field(
        description="when the verdict shown was judged: the stored verdict's time, as_of "
                    "for a past date; null: never stored, judged now for this answer")
    why_not: WhyNotOut | None


class ChangeListItemOut(Answer):
    number: int
    project: str
    branch: str
    subject: str
    owner_id: int
    gate_state: str | None
    priorities: list[str]
    updated: str
    last_human_activity: str


class ChangeListOut(Answer):
    state: str
    total: int
    page: int
    items: list[ChangeListItemOut]


# --- where is my change ----------------------------------------------------------------------


class QueuePlaceOut(Answer):
    reviewer: str
    in_queue: bool
    position: int | None
    total: int
    failed: str | None
    message: str


class FirstCrackPlaceOut(Answer):
    position: int | None
    total: int | None


class WhereOut(Answer):
    """Where a change stands in every core reviewer's queue, and what would move it up."""

    number: int
    subject: str
    project: str
    branch: str
    owner: str
    as_of: str
    tracked: bool
    status: str
    gate_state: str | None
    gate_reason: str
    review_state: str | None
    review_reason: str
    priorities: list[str]
    score: int | None
    score_reasons: list[str]
    headline: str
    queues: list[QueuePlaceOut]
    first_crack: FirstCrackPlaceOut
    moves: list[str]
    gerrit_url: str | None
