"""Rule: the non-core +1 gate — priority, exempt, open or gated, with a sentence to act on.

A branch policy (`[[branch_policy]]`, e.g. `stable/*`) can switch the gate off for its
branches (stable backports go straight to the cores, as the stable team reviews them) or
name the group whose members are core there (`glance-stable-maint`): that group's +1 is a
core's, not a non-core's. Priority and exempt changes are judged first, as everywhere.

Safest behaviour when core membership is unknown (the core group read back
empty): a +1 that might be a core's cannot open the gate, so the change stays
`gated` with `certain=False` and the reason says exactly that. A change with
too few +1s even if every unknown voter were non-core is gated for certain.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from reviewbot.config import BranchPolicy
from reviewbot.rules.verdict import GateVerdict, PriorityMatch
from reviewbot.timeline.people import Roster
from reviewbot.timeline.snapshot import ChangeSnapshot, VoteEvent
from reviewbot.timeline.state import CODE_REVIEW, ChangeState, counts_toward_gate, final_votes

NAME = "gate"
LABEL = "Code-Review"


def _names(ids: Sequence[int], roster: Roster) -> str:
    names = [roster.username(a) for a in ids]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _core_unknown(roster: Roster, account_id: int) -> bool:
    # History entries in config decide for their users even when the group is hidden.
    return not roster.core_known and account_id not in roster.history


def last_noncore_plus1(change: ChangeSnapshot, roster: Roster, at: datetime
                       ) -> tuple[int, int] | None:
    """(patch set, voter) of the newest standing non-core +1 in the vote history up to T.

    "The vote of X on patch set N" is X's latest event on N, so a +1 later
    changed or removed does not count.
    """
    by_patch_set: dict[int, list[VoteEvent]] = {}
    for e in change.vote_events:
        if e.date <= at and e.label == CODE_REVIEW:
            by_patch_set.setdefault(e.patch_set, []).append(e)
    best: tuple[int, int] | None = None
    for ps, events in by_patch_set.items():
        info = change.patch_set(ps)
        for account, e in final_votes(events).items():
            if e.value != 1 or e.removed:
                continue
            if not counts_toward_gate(account, owner=change.owner_id,
                                      uploader=info.uploader_id if info else None,
                                      bots=roster.bots, core=roster.is_core(account, at)):
                continue
            if best is None or ps > best[0]:
                best = (ps, account)
    return best


def judge(
    change: ChangeSnapshot,
    state: ChangeState,
    priorities: Sequence[PriorityMatch],
    exempt_reasons: Sequence[str],
    *,
    roster: Roster,
    min_plus1: int,
    core_group: str,
    in_scope: bool = True,
    frozen: str | None = None,
    policy: BranchPolicy | None = None,
) -> GateVerdict:
    """The gate state of the change as it stood at `state.at` (core membership at that time);
    `policy` is the change's branch policy (None: the default gate)."""
    if not in_scope:
        return GateVerdict("untracked", f"Not tracked: {change.project} ({change.branch}) is "
                           "outside the configured projects and branches.")
    if state.status is None:
        return GateVerdict("closed", f"Did not exist yet on {state.at:%Y-%m-%d %H:%M} UTC "
                           f"(created {change.created:%Y-%m-%d %H:%M} UTC).")
    if state.status != "open":
        return GateVerdict("closed", f"{state.status.capitalize()}; the gate applies only to "
                           "open changes.")
    if change.wip:
        return GateVerdict("wip", "Work in progress; the gate applies once the owner marks it "
                           "ready for review.")
    if priorities:
        listed = ", ".join(f"{p.title} (rank {p.rank})" for p in sorted(priorities,
                                                                          key=lambda p: p.rank))
        return GateVerdict("priority", f"Cycle priority: {listed}; core reviewers review it "
                           "without waiting for a non-core +1.")
    if exempt_reasons:
        return GateVerdict("exempt", "Exempt from the non-core +1 gate: "
                           f"{'; '.join(exempt_reasons)}.")
    if policy is not None and not policy.gate:
        return GateVerdict("open", f"{change.branch}: no non-core gate on {policy.pattern} "
                           "branches; core reviewers review it directly.")
    if frozen:  # rules/freeze.py: feature work after the freeze date, no exception
        return GateVerdict("frozen", frozen)
    if policy is not None and policy.core_group:
        return _judge_votes(change, state, roster.for_group(policy.core_group), min_plus1,
                            policy.core_group)
    return _judge_votes(change, state, roster, min_plus1, core_group)


def _judge_votes(change: ChangeSnapshot, state: ChangeState, roster: Roster, need: int,
                 core_group: str) -> GateVerdict:
    """Open with `need` qualifying non-core +1s on the patch set current at `state.at`,
    else gated (for certain, or not when voters of unknown membership could open it)."""
    ps = state.patch_set
    qualifying, unknown, excluded = _classify_plus1s(change, state, roster)
    if len(qualifying) >= need:
        plural = "+1" if len(qualifying) == 1 else "+1s"
        return GateVerdict("open", f"Open for core review: non-core {plural} from "
                           f"{_names(qualifying, roster)} on patch set {ps}.")
    group = (f"Gerrit returned no members for {core_group}" if core_group
             else "no gerrit.core_group is configured")
    if unknown and len(qualifying) + len(unknown) >= need:
        return GateVerdict(
            "gated",
            "Not a cycle priority; the gate cannot be judged: core group membership unknown "
            f"({group}), so the +1 from {_names(unknown, roster)} on patch set {ps} may be a "
            "core reviewer's.",
            certain=False,
        )

    have = len(qualifying)
    if need == 1:
        head = f"Not a cycle priority; waiting for a non-core +1 on patch set {ps}"
    else:
        head = (f"Not a cycle priority; {have} of {need} non-core +1s on patch set {ps}, "
                f"waiting for {need - have} more")
    details: list[str] = []
    last = last_noncore_plus1(change, roster, state.at)
    if last is not None and last[0] < ps:
        details.append(f"the last non-core +1 was on patch set {last[0]}, before the new upload")
    elif have == 0 and last is None:
        details.append("no non-core reviewer has +1'd it yet")
    details += excluded
    if unknown:
        details.append(f"core group membership unknown ({group})")
    tail = f" ({'; '.join(details)})" if details else ""
    return GateVerdict("gated", f"{head}{tail}.")


def _classify_plus1s(change: ChangeSnapshot, state: ChangeState, roster: Roster
                     ) -> tuple[list[int], list[int], list[str]]:
    """The +1s of `state`: (qualifying voters, voters whose core membership is unknown,
    why each other +1 does not count), in a fixed order whatever order the votes came in."""
    ps = state.patch_set
    uploader = state.uploader_id
    qualifying: list[int] = []
    unknown: list[int] = []
    excluded: list[str] = []
    plus1s = [v for v in state.votes if v.label == LABEL and v.value == 1]
    if len(plus1s) > 1:
        plus1s.sort(key=lambda v: (roster.username(v.account_id), v.account_id))
    for vote in plus1s:
        a = vote.account_id
        if roster.is_bot(a):
            excluded.append(f"the bot {roster.username(a)}'s +1 does not count")
        elif a == change.owner_id:
            excluded.append("the owner's own +1 does not count")
        elif a == uploader:
            excluded.append(f"the +1 from {roster.username(a)}, who uploaded patch set {ps}, "
                            "does not count")
        elif _core_unknown(roster, a):
            unknown.append(a)
        elif roster.is_core(a, state.at):
            excluded.append(f"core reviewer {roster.username(a)}'s +1 does not count "
                            "toward the non-core gate")
        else:
            qualifying.append(a)
    return qualifying, unknown, excluded
