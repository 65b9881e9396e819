"""Actions: plan the write-back, the bot-owned hashtags (and optional gated message) one
open change should get from its verdict, as the difference to what it carries. Pure.

- The bot owns exactly the configured names (`priority_hashtag`, `gated_hashtag`,
  `priority_hashtag_prefix` + each configured priority id), compared case-insensitively
  as Gerrit does; it never adds or removes any other hashtag.
- Only open (NEW, not WIP) changes in the configured projects and branches.
- The gated message (`writeback.gated_message`) goes only with a newly added gated
  hashtag, posted to the patch set that was judged, and never twice on one patch set (the
  log of applied posts and the change's synced messages are both checked).
- A gate verdict the rules could not judge for certain (core membership unknown) neither
  adds nor removes the gated hashtag.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from reviewbot.config import Config
from reviewbot.rules.ruleset import bot_hashtags
from reviewbot.timeline.snapshot import BOT_MESSAGE_TAG, GATE_STATES, ChangeSnapshot

MESSAGE_TAG = BOT_MESSAGE_TAG


class VerdictLike(Protocol):
    """What the plan reads of a verdict (the stored Verdict row has these)."""

    gate_state: str
    gate_reason: str
    priorities: list[str]
    reasons: list[str]
    matches: list[dict[str, Any]]
    gate_certain: bool


def gate_certain(verdict: VerdictLike) -> bool:
    """False when the rules could not judge the gate (stored with the verdict)."""
    return bool(getattr(verdict, "gate_certain", True))


def plan_hashtags(
    verdict: VerdictLike, config: Config, current: Sequence[str] = ()
) -> list[str]:
    """The bot-owned hashtags a change with this verdict should carry (configured spelling).

    `current` matters only for an uncertain gate verdict: the gated hashtag then
    stays as it is.
    """
    wb = config.writeback
    desired: list[str] = []
    ids = [pid for pid in verdict.priorities or () if config.priority(pid) is not None]
    if ids:
        desired.append(wb.priority_hashtag)
        desired += [wb.priority_hashtag_prefix + pid for pid in ids]
    if verdict.gate_state == "gated":
        has_gated = any(h.lower() == wb.gated_hashtag.lower() for h in current)
        if gate_certain(verdict) or has_gated:
            desired.append(wb.gated_hashtag)
    unique: dict[str, str] = {}
    for tag in desired:
        unique.setdefault(tag.lower(), tag)
    return list(unique.values())


def diff_hashtags(
    current: Sequence[str], desired: Sequence[str], owned: frozenset[str]
) -> tuple[list[str], list[str]]:
    """(add, remove): missing desired tags, and owned tags present but no longer desired.

    Tags not in `owned` (lowercase) are never removed, whoever added them.
    """
    have = {h.lower() for h in current}
    want = {d.lower() for d in desired}
    add = [d for d in desired if d.lower() not in have]
    remove = [h for h in current if h.lower() in owned and h.lower() not in want]
    return add, remove


@dataclass(frozen=True)
class ChangePlan:
    number: int
    project: str
    patch_set: int
    current: tuple[str, ...]
    add: tuple[str, ...]
    remove: tuple[str, ...]
    hashtag_reason: str
    message: str | None
    message_reason: str
    reasons: tuple[str, ...]

    @property
    def writes(self) -> int:
        return int(bool(self.add or self.remove)) + int(self.message is not None)


def in_scope(change: ChangeSnapshot, config: Config) -> bool:
    return (
        change.is_open
        and not change.missing
        and change.project in config.gerrit.projects
        and change.branch in config.gerrit.branches
    )


def already_messaged(change: ChangeSnapshot) -> bool:
    """Gerrit already shows our message on the current patch set."""
    return any(
        m.tag == MESSAGE_TAG and m.patch_set == change.current_patch_set for m in change.messages
    )


def plan_change(
    change: ChangeSnapshot, verdict: VerdictLike, config: Config, *, message_posted: bool = False
) -> ChangePlan | None:
    """What to write for one change, or None when nothing should be written."""
    if not in_scope(change, config) or verdict.gate_state not in GATE_STATES:
        return None
    if verdict.gate_state == "frozen":  # held for the next cycle: leave its hashtags as they are
        return None
    wb = config.writeback
    current = tuple(change.hashtags)
    desired = plan_hashtags(verdict, config, current)
    add, remove = diff_hashtags(current, desired, bot_hashtags(config))
    newly_gated = any(t.lower() == wb.gated_hashtag.lower() for t in add)
    message = None
    if (wb.gated_message and newly_gated and not message_posted
            and not already_messaged(change)):
        message = wb.gated_message_text
    if not add and not remove and message is None:
        return None
    return ChangePlan(
        number=change.number,
        project=change.project,
        patch_set=change.current_patch_set,
        current=current,
        add=tuple(add),
        remove=tuple(remove),
        hashtag_reason=_explain(add, remove, verdict, config),
        message=message,
        message_reason=verdict.gate_reason,
        reasons=tuple(verdict.reasons or ()),
    )


def _explain(add: Sequence[str], remove: Sequence[str], verdict: VerdictLike,
             config: Config) -> str:
    wb = config.writeback
    by_id = {m.get("priority"): m for m in verdict.matches or ()}
    parts = []
    for tag in add:
        low = tag.lower()
        if low == wb.gated_hashtag.lower():
            parts.append(f"add {tag}: {verdict.gate_reason}")
        elif low == wb.priority_hashtag.lower():
            titles = ", ".join(str(m.get("title")) for m in verdict.matches or ())
            parts.append(f"add {tag}: cycle priority ({titles or ', '.join(verdict.priorities)})")
        else:
            pid = tag[len(wb.priority_hashtag_prefix):]
            match = by_id.get(pid, {})
            why = "; ".join(match.get("reasons") or ()) or "matches this priority"
            parts.append(f"add {tag}: {match.get('title', pid)}: {why}")
    for tag in remove:
        low = tag.lower()
        if low == wb.gated_hashtag.lower():
            parts.append(f"remove {tag}: no longer gated ({verdict.gate_reason})")
        elif low == wb.priority_hashtag.lower():
            parts.append(f"remove {tag}: no longer matches any cycle priority")
        else:
            parts.append(f"remove {tag}: no longer matches that priority")
    return "; ".join(parts)
