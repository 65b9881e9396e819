"""Rules: facts read once per change (footers, topic, hashtags, files) and shared by matchers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from reviewbot.timeline.people import Roster
from reviewbot.timeline.snapshot import ChangeSnapshot

# `[Partially-]Implements: blueprint|bp NAME` on its own line, any case.
_BLUEPRINT_FOOTER = re.compile(
    r"^[ \t]*(?:partially-)?implements[ \t]*:[ \t]*(?:blueprint|bp)[ \t]+"
    r"([A-Za-z0-9][A-Za-z0-9.+_-]*)",
    re.IGNORECASE | re.MULTILINE,
)
# `Closes-Bug|Partial-Bug|Related-Bug: [#]N[, #M...]`, any case.
_BUG_FOOTER = re.compile(
    r"^[ \t]*(closes-bug|partial-bug|related-bug)[ \t]*:[ \t]*(#?\d+(?:[ \t]*,[ \t]*#?\d+)*)",
    re.IGNORECASE | re.MULTILINE,
)
_FOOTER_NAMES = {
    "closes-bug": "Closes-Bug",
    "partial-bug": "Partial-Bug",
    "related-bug": "Related-Bug",
}
_TOPIC_BP = re.compile(r"^bp/(.+)$", re.IGNORECASE)
_TOPIC_BUG = re.compile(r"^bug/#?(\d+)$", re.IGNORECASE)

# Gerrit lists the commit message as a file of every patch set; it is not a file.
COMMIT_MSG = "/COMMIT_MSG"
_NOT_FILES = frozenset({COMMIT_MSG, "/MERGE_LIST", "/PATCHSET_LEVEL"})


@dataclass(slots=True)  # not frozen: built 20,000 times per cycle, and only rules read it
class ChangeFacts:
    """What matchers read, parsed once per change however many priorities there are."""

    change: ChangeSnapshot
    # blueprint name (lowercase) -> where it was seen ("commit footer", "topic bp/x")
    blueprints: dict[str, str]
    # bug number -> where it was seen ("Closes-Bug footer", "topic bug/N")
    bugs: dict[int, str]
    # lowercase hashtag -> as written, without the bot's own hashtags
    hashtags: dict[str, str]
    files: tuple[str, ...] | None
    owner_username: str | None


def read_facts(
    change: ChangeSnapshot, roster: Roster | None, bot_hashtags: frozenset[str]
) -> ChangeFacts:
    """Parse footers, topic and hashtags; `bot_hashtags` are lowercase and never matched."""
    blueprints: dict[str, str] = {}
    bugs: dict[int, str] = {}
    message = change.commit_message or ""
    for m in _BLUEPRINT_FOOTER.finditer(message):
        # A trailing full stop is prose, not part of the name.
        name = m.group(1).rstrip(".").lower()
        # DESIGN's wording: both footer kinds are "commit footer" for blueprints.
        blueprints.setdefault(name, "commit footer")
    for m in _BUG_FOOTER.finditer(message):
        kind = _FOOTER_NAMES[m.group(1).lower()]
        for number in re.findall(r"\d+", m.group(2)):
            bugs.setdefault(int(number), f"{kind} footer")
    topic = change.topic or ""
    if bp := _TOPIC_BP.match(topic):
        blueprints.setdefault(bp.group(1).lower(), f"topic {topic}")
    if bug := _TOPIC_BUG.match(topic):
        bugs.setdefault(int(bug.group(1)), f"topic {topic}")
    hashtags = {
        h.lower(): h for h in change.hashtags if h.lower() not in bot_hashtags
    }
    files = None
    if change.files is not None:
        files = tuple(f for f in change.files if f not in _NOT_FILES)
    owner = roster.usernames.get(change.owner_id) if roster is not None else None
    return ChangeFacts(change, blueprints, bugs, hashtags, files, owner)
