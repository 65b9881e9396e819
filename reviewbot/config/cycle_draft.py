"""Cycle rollover input: draft the `[cycle]` dates from a release schedule's rows, as TOML.

Feature freeze, RC and release weeks and the milestones are recognised in the rows' events
(`reviewbot.config.schedule_rst` reads them); each date carries a comment saying where it
came from, for the PTL to review before using it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from reviewbot.config.schedule_rst import ScheduleRow, document_span, read_schedule

_MILESTONE = (re.compile(r"\bmilestone[\s-]*(\d)\b"),
              re.compile(r"\b(?:[a-z]+-)?(\d)\s+milestone\b"))
_RC1 = re.compile(r"\brc[\s-]?1\b")
_FREEZE = re.compile(r"^(.*?)\bfeature[\s-]freeze\b")
_RELEASE = re.compile(r"^(?:the\s+)?(?:([\w-]+)\s+)?(?:coordinated\s+)?release$")


@dataclass
class DraftCycle:
    """The `[cycle]` keys a schedule gives, each with where it came from."""

    name: str
    start: date | None = None
    end: date | None = None
    feature_freeze: date | None = None
    rc: date | None = None
    release: date | None = None
    milestones: dict[str, date] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)
    rows: int = 0  # schedule rows read (0: the file has no schedule table)


def _team_words(projects: list[str]) -> set[str]:
    words = set()
    for project in projects:
        leaf = project.rsplit("/", 1)[-1].lower()
        words |= {leaf, leaf.replace("_", "-")}
        words |= set(re.split(r"[-_]", leaf)) - {"python", "specs", "client", "store"}
    return words


def draft_cycle(text: str, name: str, *, year: int | None = None,
                not_before: date | None = None, projects: Sequence[str] = ()) -> DraftCycle:
    """The `[cycle]` of `name` as the file's schedule gives it (`rows` 0: no schedule)."""
    lines = text.splitlines()
    draft = DraftCycle(name)
    rows = read_schedule(text, year=year, not_before=not_before)
    draft.rows = len(rows)
    if not rows:
        return draft
    team = _team_words(list(projects))
    initial = name[:1].upper()
    other_releases: list[str] = []

    def note(key: str, row: ScheduleRow, event: str) -> None:
        draft.comments.append(f"{key}: week of {row.week} ({row.label or 'line ' + str(row.line)}"
                              f"): {event!r}")

    for row in rows:
        for event in row.events:
            low = event.lower()
            for pattern in _MILESTONE:
                if (m := pattern.search(low)) and f"{initial}-{m.group(1)}" not in draft.milestones:
                    draft.milestones[f"{initial}-{m.group(1)}"] = row.week
                    note(f"milestones {initial}-{m.group(1)}", row, event)
                    break
            if (m := _FREEZE.search(low)) and draft.feature_freeze is None:
                owner = m.group(1).strip(" -:")
                if not owner or owner.split()[-1] in team or owner.split()[-1].endswith("-3"):
                    draft.feature_freeze = row.week
                    note("feature_freeze", row, event)
            if _RC1.search(low) and draft.rc is None:
                draft.rc = row.week
                note("rc", row, event)
            bare = re.sub(r"\([^)]*\)", "", low).strip(" .")
            if (m := _RELEASE.match(bare)) and draft.release is None:
                word = (m.group(1) or "").lower()
                if word in ("", "final", name.lower()):
                    draft.release = row.week
                    note("release", row, event)
                elif word not in team and "-" not in word:
                    other_releases.append(event)
    span = document_span(lines)
    labelled = [r for r in rows if r.label]
    if span:
        draft.start, draft.end = span
        draft.comments.append(f"start, end: the schedule's own span {span[0]} - {span[1]}")
    else:
        first = labelled[0] if labelled else rows[0]
        draft.start = first.week
        draft.end = draft.release or rows[-1].week_end
        draft.comments.append(f"start: the first week of the schedule ({first.week}, line "
                              f"{first.line}); end: "
                              + ("the release week" if draft.release else "its last week"))
    if draft.release is None and other_releases:
        draft.comments.append(f"the schedule names {other_releases[0]!r}, not the {name} "
                              "release: is this the right file?")
    draft.comments.append("dates are the first day of each week; OpenStack deadlines are "
                          "usually that week's Thursday: adjust where your team differs")
    return draft


def cycle_toml(draft: DraftCycle, *, source: str) -> str:
    """The `[cycle]` block of the draft, each date with a comment saying where it came from."""
    out = [f"# Draft [cycle] from {source} (reviewbot cycle-start).",
           "# Review every date before using it."]
    out += [f"# {c}" for c in draft.comments]
    out += ["[cycle]", f"name = {json.dumps(draft.name)}"]
    if draft.rows == 0:
        out.append(f"# {source} has no release schedule table: fill in the dates by hand.")
    for key in ("start", "end", "feature_freeze", "rc", "release"):
        value = getattr(draft, key)
        if value is not None:
            out.append(f"{key} = {value.isoformat()}")
        elif key in ("start", "end"):
            out.append(f"# {key} = YYYY-MM-DD  (required)")
    if draft.milestones:
        pairs = ", ".join(f"{json.dumps(k)} = {v.isoformat()}" for k, v in draft.milestones.items())
        out.append(f"milestones = {{ {pairs} }}")
    return "\n".join(out) + "\n"
