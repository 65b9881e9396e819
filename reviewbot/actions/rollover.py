"""Actions (rollover): take the bot's own priority hashtags of past cycles off open changes.

Pure planning: `plan_rollover` returns a write-back plan; `reviewbot cycle-start` sends the
plans through `writeback_send.write_plans` (dry-run first, logged, read back).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reviewbot.actions.writeback_plan import ChangePlan
from reviewbot.config import Config
from reviewbot.rules.ruleset import bot_hashtags
from reviewbot.store.tables import Cycle


@dataclass(frozen=True, slots=True)
class OldHashtag:
    cycle: str
    priority_id: str
    title: str


def old_priority_hashtags(config: Config, past: Iterable[Cycle]) -> dict[str, OldHashtag]:
    """lowercase hashtag -> the past priority it stood for: every `prefix + id` the bot
    owned in a past cycle that it does not own in the present one."""
    owned_now = bot_hashtags(config)
    old: dict[str, OldHashtag] = {}
    for row in past:
        if row.name == config.cycle.name:
            continue
        for p in row.priorities:
            tag = (row.priority_hashtag_prefix + str(p["id"])).lower()
            if tag not in owned_now:
                old.setdefault(tag, OldHashtag(row.name, str(p["id"]), str(p.get("title", ""))))
    return old


def plan_rollover(number: int, project: str, patch_set: int, hashtags: Sequence[str],
                  old: dict[str, OldHashtag], present: str) -> ChangePlan | None:
    """The write that takes a change's old-cycle priority hashtags off (None: it has none)."""
    remove = [h for h in hashtags if h.lower() in old]
    if not remove:
        return None
    why = "; ".join(
        f"remove {h}: priority {old[h.lower()].title or old[h.lower()].priority_id!r} of the "
        f"past cycle {old[h.lower()].cycle} (cycle {present} began)" for h in remove)
    return ChangePlan(number=number, project=project, patch_set=patch_set,
                      current=tuple(hashtags), add=(), remove=tuple(remove),
                      hashtag_reason=why, message=None, message_reason="",
                      reasons=(f"cycle {present} began",))
