"""Queue view: one reviewer's queue as of T from the store — the core queue for a core
reviewer, the first-crack queue for everyone else — and the why-not answer.

Two ways to the same answer. The present ("now", no `as_of`) reads the review and gate
states the evaluate step stored with every verdict (`reviewbot.views.queue_present`). A
past date takes the changes as they stood at T (`reviewbot.views.queue_at`: the settled
ones from their stored states, the others replayed). Tests hold the two equal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from reviewbot.clock import full_days, utcnow
from reviewbot.config import Config
from reviewbot.metrics.queue import (
    FirstCrackItem,
    QueueChange,
    QueueItem,
    ScoreFacts,
    WhyNot,
    build_first_crack,
    build_queue,
    first_crack_reason,
    lead_reasons,
    score,
    why_not,
)
from reviewbot.store.queue_reads import (
    ChangeSummary,
    Reviewer,
    change_summaries,
    is_tracked,
)
from reviewbot.timeline.people import Roster
from reviewbot.timeline.roster import load_roster
from reviewbot.timeline.snapshot import Vote
from reviewbot.timeline.state import votes_of
from reviewbot.views.branch_cores import BranchCores
from reviewbot.views.queue_present import (
    CORE,
    FIRST_CRACK,
    QueueCache,
    build_base,
)


@dataclass(frozen=True, slots=True)
class QueueRow:
    item: QueueItem | FirstCrackItem
    summary: ChangeSummary
    change: QueueChange  # the change at T: current patch set, votes, gate state


@dataclass
class QueueAnswer:
    """One reviewer's queue as of T: what `queue --json`, /api/v1/queue and /queue show."""

    reviewer: Reviewer
    core: bool | None  # None: membership unknown (hidden group), answered as if core
    kind: str  # "core" | "first-crack"
    as_of: datetime
    total: int
    rows: list[QueueRow]
    roster: Roster
    note: str | None = None
    offset: int = 0
    limit: int | None = None

    def as_json(self, config: Config) -> dict[str, Any]:
        """One shape for the CLI's --json and the API."""
        is_core = self.roster.core_test()  # `Roster.is_core`, flattened once per answer
        return {
            "reviewer": self.reviewer.label,
            "account_id": self.reviewer.id,
            "core": self.core,
            "core_known": self.roster.core_known,
            "kind": self.kind,
            "as_of": self.as_of.isoformat(),
            "note": self.note,
            "total": self.total,
            "offset": self.offset,
            "limit": self.limit,
            "items": [self._row_json(row, config, is_core) for row in self.rows],
        }

    def _row_json(self, row: QueueRow, config: Config,
                  is_core: Callable[[int, datetime], bool]) -> dict[str, Any]:
        item, s, change = row.item, row.summary, row.change
        roster = self.roster
        data = {
            "number": item.number,
            "subject": s.subject,
            "project": s.project,
            "branch": s.branch,
            "owner": roster.username(s.owner_id),
            "patch_set": change.current_patch_set,
            "uploaded": item.uploaded.isoformat() if item.uploaded else None,
            "gate_state": change.gate_state,
            "ci": ci_state(change.votes),
            "votes": [{"label": v.label, "value": v.value, "account_id": v.account_id,
                       "by": roster.username(v.account_id),
                       "core": is_core(v.account_id, self.as_of),
                       "bot": roster.is_bot(v.account_id)} for v in change.votes],
            "reasons": list(item.reasons),
            "gerrit_url": f"{config.gerrit_web_base}/c/{s.project}/+/{item.number}",
        }
        if isinstance(item, QueueItem):
            priority = config.priority(item.priority) if item.priority else None
            data.update(priority=item.priority,
                        priority_title=priority.title if priority else None,
                        rank=item.rank, score=item.score)
        else:
            data.update(wait_days=item.wait_days)
        return data


def ci_state(votes: Sequence[Vote]) -> str:
    """"failing", "passed" or "none": the Verified votes on the current patch set."""
    verified = [v.value for v in votes_of(votes, "Verified")]
    if any(v < 0 for v in verified):
        return "failing"
    return "passed" if any(v > 0 for v in verified) else "none"


def _kind(core: bool | None) -> str:
    return FIRST_CRACK if core is False else CORE


def _note(reviewer: Reviewer, core: bool | None, cores: BranchCores | None = None,
          at: datetime | None = None) -> str | None:
    if (core and cores is not None and at is not None
            and cores.roster.core_status(reviewer.id, at) is False):
        groups = [g for g in cores.groups if cores.roster.for_group(g).core_status(
            reviewer.id, at)]
        return (f"{reviewer.label} is core only where {', '.join(groups)} are the core "
                "reviewers ([[branch_policy]]): this queue holds those branches' changes.")
    if core is False:
        return (f"{reviewer.label} is not a core reviewer at this date: this is the first-crack "
                "queue, the gated changes waiting for a non-core +1 that opens them to the "
                "cores.")
    if core is None:
        return ("Core membership is unknown: the core group read back empty from Gerrit (it "
                "may be hidden from the bot's account), so this queue is shown as if "
                f"{reviewer.label} were core, and no +2 counts as a core +2.")
    return None


def queue_for(session: Session, config: Config, reviewer: Reviewer, as_of: datetime | None,
              *, offset: int = 0, limit: int | None = None,
              cache: QueueCache | None = None, now: datetime | None = None) -> QueueAnswer:
    """The reviewer's queue as of T (None: the present, from the stored states, scored at
    `now`, the clock by default): the core queue when they are core at T, else the
    first-crack queue."""
    end = None if limit is None else offset + limit
    page: list[tuple[QueueItem | FirstCrackItem, QueueChange]]
    if as_of is None:
        now = now or utcnow()
        if cache is not None:
            base = cache.base(session)
        else:  # a one-off answer: read only this reviewer's candidates
            roster = load_roster(session, config)
            base = build_base(session, config, reviewer_id=reviewer.id, roster=roster,
                              kinds=(_kind(BranchCores(config, roster).reviewer_status(
                                  reviewer.id, now)),))
        roster = base.roster
        cores = BranchCores(config, roster)
        core = cores.reviewer_status(reviewer.id, now)
        excluded = base.excluded(reviewer.id)
        if core is False:
            ranked = [c for c in base.first_crack_order() if c.number not in excluded]
            total = len(ranked)
            page = [(_first_crack_item(c, now), c) for c in ranked[offset:end]]
        else:
            ordered = [row for row in base.core_order(now) if row[2].number not in excluded
                       and cores.allows(reviewer.id, row[2], now)]
            total = len(ordered)
            page = [(_core_item(c, t, facts, now, roster), c)
                    for _k, t, c, facts in ordered[offset:end]]
    else:
        from reviewbot.views.queue_at import changes_at  # the past only: evaluates changes

        now = as_of
        changes, roster = changes_at(session, config, now)
        by_number = {c.number: c for c in changes}
        cores = BranchCores(config, roster)
        core = cores.reviewer_status(reviewer.id, now)
        if core is False:
            found: Sequence[QueueItem | FirstCrackItem] = build_first_crack(
                changes, reviewer.id, now, roster.username)
        else:
            core_now = roster.core_at(now).__contains__
            found = build_queue([c for c in changes if cores.allows(reviewer.id, c, now)],
                                reviewer.id, core_now, now, roster.username,
                                cores.for_change(now, core_now))
        total = len(found)
        page = [(it, by_number[it.number]) for it in found[offset:end]]
    summaries = change_summaries(session, [it.number for it, _c in page])
    return QueueAnswer(reviewer, core, _kind(core), now, total,
                       [QueueRow(it, summaries[it.number], c) for it, c in page], roster,
                       _note(reviewer, core, cores, now), offset, limit)


def queue_sizes(session: Session, config: Config, as_of: datetime | None,
                cache: QueueCache | None = None, now: datetime | None = None
                ) -> tuple[list[tuple[int, int]], Roster]:
    """(account, queue size) of every core reviewer at T, for the picker."""
    if as_of is None:
        now = now or utcnow()
        base = cache.base(session) if cache is not None else build_base(session, config)
        ordered = [row[2] for row in base.core_order(now)]
        branch_cores = BranchCores(config, base.roster)
        cores = sorted(branch_cores.reviewers_at(now), key=base.roster.username)
        return [(a, sum(1 for c in ordered if c.number not in base.excluded(a)
                        and branch_cores.allows(a, c, now))) for a in cores], base.roster
    from reviewbot.views.queue_at import changes_at

    changes, roster = changes_at(session, config, as_of)
    core_at = roster.core_at(as_of)
    branch_cores = BranchCores(config, roster)
    return [(a, len(build_queue([c for c in changes if branch_cores.allows(a, c, as_of)], a,
                                core_at.__contains__, as_of,
                                core_for=branch_cores.for_change(as_of, core_at.__contains__))))
            for a in sorted(branch_cores.reviewers_at(as_of), key=roster.username)], roster


def _first_crack_item(change: QueueChange, now: datetime) -> FirstCrackItem:
    days = full_days(change.uploaded, now) if change.uploaded else 0
    return FirstCrackItem(change.number, change.uploaded, days,
                          (first_crack_reason(change.current_patch_set, days),))


def _core_item(change: QueueChange, total: int, facts: ScoreFacts, now: datetime,
               roster: Roster) -> QueueItem:
    """A core queue row with its reasons (the stored verdict's lead reasons, the score's);
    `facts` are the score's inputs at `now` as the queue order computed them (who is core
    on the change's branch decides which +2s count)."""
    _same, reasons = score(facts, now, roster.username)
    return QueueItem(change.number, facts.priority, facts.rank, total,
                     tuple(lead_reasons(change)) + tuple(reasons), change.uploaded)


def why_not_for(session: Session, config: Config, number: int, reviewer: Reviewer,
                as_of: datetime | None, *, cache: QueueCache | None = None,
                now: datetime | None = None) -> WhyNot | None:
    """DESIGN "Why-not" for change `number` and the reviewer at T (None: the present at
    `now`); None if the change is unknown."""
    from reviewbot.views.queue_at import changes_at

    at = as_of or now or utcnow()
    changes, roster = changes_at(session, config, at, numbers=[number])
    if not changes:
        return None
    change = changes[0]
    if not is_tracked(session, config, number):
        return WhyNot(number, reviewer.label, False, "open",
                      f"Change {number} is outside the configured projects and branches.")
    cores = BranchCores(config, roster)
    core = cores.reviewer_status(reviewer.id, at)
    answer = why_not(change, reviewer.id, reviewer.label, reviewer_is_core=core,
                     name=roster.username)
    if not answer.in_queue:
        return answer
    if core is not False and not cores.allows(reviewer.id, change, at):
        group = cores.group_of(change.branch) or config.gerrit.core_group
        return WhyNot(number, reviewer.label, False, "branch",
                      f"Change {number} targets {change.branch}, whose core reviewers are "
                      f"the members of {group}; {reviewer.label} is not one of them.")
    whole = queue_for(session, config, reviewer, as_of, cache=cache, now=at)
    position = next((i for i, row in enumerate(whole.rows, 1) if row.item.number == number),
                    None)
    if position is None:
        # The stored present lags the change (not evaluated since it moved): say so.
        return WhyNot(number, reviewer.label, False, "gate",
                      f"Change {number} qualifies for {reviewer.label}'s "
                      f"{'first-crack ' if core is False else ''}queue but is not in it yet: "
                      "it has not been evaluated since it last changed (run `reviewbot "
                      "evaluate`).", kind=answer.kind)
    item = whole.rows[position - 1].item
    where = "first-crack queue" if core is False else "queue"
    message = f"Change {number} is in {reviewer.label}'s {where} at position {position} " \
              f"of {whole.total}"
    if isinstance(item, QueueItem):
        message += f" (score {item.score})"
    return WhyNot(number, reviewer.label, True, None, message + ".", position, whole.total,
                  item.score if isinstance(item, QueueItem) else None, item.reasons,
                  kind=answer.kind)
