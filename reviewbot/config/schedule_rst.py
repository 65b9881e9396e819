"""Cycle rollover input: draft the `[cycle]` dates from a release schedule table in an .rst file.

Two real shapes are read, both RST tables with one row per week:

- glance-specs `*-priorities.rst` "Important dates": a list-table with columns like
  `Milestone | Week of | What` (`R-4 | January 23 | O-3 milestone, Glance feature freeze`);
- the OpenStack release schedule (releases.openstack.org `schedule.rst`): a grid table
  `Week | R-N | Cross-project events | Project-specific events` whose event cells are
  `:ref:` labels, resolved to their section titles ("Feature freeze", "RC1 target week").

A row's date is the first day of its week as the table gives it (OpenStack deadlines are
usually that week's Thursday; the draft says so). Dates without a year take the year from
`year`, else from a year written in the file, else the first year that puts the first row on
or after `not_before` (the outgoing cycle's start); later rows move to the next year when
the month wraps. A table that looks like a schedule but cannot be read is an error naming
its line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from reviewbot.config.priorities_rst import RstError

_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august",
                "september", "october", "november", "december")
# Full names and three-letter abbreviations ("Sept" too); a misspelt month is not a date.
MONTHS = {**{m: i for i, m in enumerate(_MONTH_NAMES, 1)},
          **{m[:3]: i for i, m in enumerate(_MONTH_NAMES, 1)}, "sept": 9}
_DATE = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:\s*[-–]\s*(?:([A-Za-z]{3,9})\.?\s+)?"
                   r"(\d{1,2}))?(?:\s*,?\s*(\d{4}))?\b")
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_WEEK_LABEL = re.compile(r"^R\s*([-+])\s*(\d+)\b", re.IGNORECASE)
_REF = re.compile(r":ref:`([^`<]+?)(?:\s*<([^>]+)>)?`")
_LINK = re.compile(r"`([^`<]+?)(?:\s*<[^>]+>)?`_{1,2}")
_LABEL = re.compile(r"^\.\. _([^:]+):\s*$")
_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+])\1{2,}\s*$")
_SPAN = re.compile(r"\b(\d{1,2})\s+([A-Za-z]{3,9})\s+(\d{4})\s*[-–]\s*(\d{1,2})\s+([A-Za-z]{3,9})"
                   r"\s+(\d{4})\b")
_MILESTONE = (re.compile(r"\bmilestone[\s-]*(\d)\b"),
              re.compile(r"\b(?:[a-z]+-)?(\d)\s+milestone\b"))
_RC1 = re.compile(r"\brc[\s-]?1\b")
_FREEZE = re.compile(r"^(.*?)\bfeature[\s-]freeze\b")
_RELEASE = re.compile(r"^(?:the\s+)?(?:([\w-]+)\s+)?(?:coordinated\s+)?release$")


@dataclass
class ScheduleRow:
    line: int  # 1-based line of the row in the file
    week: date
    week_end: date
    label: str  # "R-4", "" when the table has none
    events: list[str]


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


def _month(name: str) -> int | None:
    return MONTHS.get(name.lower())


def _strip(text: str, titles: dict[str, str]) -> str:
    text = _REF.sub(lambda m: titles.get(m.group(2) or m.group(1).strip(), m.group(1)), text)
    text = _LINK.sub(lambda m: m.group(1), text)
    text = re.sub(r"[*`]", "", text)
    return " ".join(text.split())


def _section_titles(lines: list[str]) -> dict[str, str]:
    """`.. _label:` -> the title of the section right after it (what `:ref:` shows)."""
    titles: dict[str, str] = {}
    for i, line in enumerate(lines):
        m = _LABEL.match(line.strip())
        if not m:
            continue
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        if j + 1 < len(lines) and _UNDERLINE.match(lines[j + 1].strip() or "x"):
            titles[m.group(1).strip()] = lines[j].strip()
    return titles


# -- tables, with the line of every row ---------------------------------------------------


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _list_table(lines: list[str], start: int) -> tuple[list[tuple[int, list[str]]], int]:
    """(line, cells) per row of the list-table after `start`, and where it ends."""
    i = start
    while i < len(lines) and not lines[i].lstrip().startswith("* -"):
        if lines[i].strip() and not lines[i].lstrip().startswith(":") and _indent(lines[i]) == 0:
            return [], i
        i += 1
    if i == len(lines):
        return [], i
    base = _indent(lines[i])
    rows: list[tuple[int, list[str]]] = []
    while i < len(lines):
        line = lines[i]
        if line.strip() and _indent(line) < base:
            break
        body = line[base:] if len(line) > base else ""
        if body.startswith("* - ") or body.rstrip() == "* -":
            rows.append((i + 1, [body[4:]]))
        elif body.startswith("  - ") or body.rstrip() == "  -":
            if not rows:
                raise RstError(f"line {i + 1}: a cell before the table's first row")
            rows[-1][1].append(body[4:])
        elif line.strip():
            if not rows:
                raise RstError(f"line {i + 1}: text before the table's first row")
            rows[-1][1][-1] += "\n" + line.strip()
        i += 1
    return rows, i


def _grid_table(lines: list[str], start: int) -> tuple[list[tuple[int, list[str]]], int]:
    """(line, cells) per row of a grid table; a cell's sub-rows are kept as lines of it."""
    end = start
    while end < len(lines) and lines[end].lstrip().startswith(("+", "|")):
        end += 1
    block = [lines[k].rstrip() for k in range(start, end)]
    width = len(block[0])
    # Column cuts: every '+' of every full border line (a header spanning two columns
    # has fewer '+' on its top border than the rows below it).
    cuts = sorted({k for line in block if line.startswith("+") for k, ch in enumerate(line)
                   if ch == "+"})
    for offset, line in enumerate(block):
        if len(line) != width or line[-1] not in "+|":
            raise RstError(f"line {start + offset + 1}: grid table row is {len(line)} "
                           f"characters wide, its border {width}: a '|' or '+' is out of line")
    rows: list[tuple[int, list[str]]] = []
    current: list[list[str]] | None = None
    row_line = start + 1
    for offset, line in enumerate(block):
        if line.startswith("+"):
            if current is not None and any(any(p for p in cell) for cell in current):
                rows.append((row_line, ["\n".join(p for p in cell if p) for cell in current]))
            current = [[] for _ in cuts[:-1]]
            row_line = start + offset + 2
            continue
        if current is None:
            raise RstError(f"line {start + offset + 1}: grid table does not start with a border")
        for k in range(len(cuts) - 1):
            part = line[cuts[k] + 1: cuts[k + 1]].strip()
            if part and not re.fullmatch(r"[-=+|]+", part):
                current[k].append(part.strip("| ").strip())
    return rows, end


def _tables(lines: list[str]) -> list[list[tuple[int, list[str]]]]:
    tables, i = [], 0
    while i < len(lines):
        if lines[i].strip().startswith(".. list-table::"):
            table, i = _list_table(lines, i + 1)
        elif lines[i].startswith("+-"):
            table, i = _grid_table(lines, i)
        else:
            i += 1
            continue
        if table:
            tables.append(table)
    return tables


# -- reading the schedule -----------------------------------------------------------------


def _is_schedule(header: list[str]) -> int | None:
    """The date column of a schedule table's header ("Week", "Week of", "Date"), or None."""
    for k, cell in enumerate(header):
        if re.search(r"\b(week|date|dates)\b", cell.lower()):
            return k
    return None


def _first_date(cell: str, year: int | None) -> tuple[int, int, int | None, tuple[int, int] | None]:
    """(month, day, year or None, (end month, end day) or None) of the cell's first date."""
    if m := _ISO.search(cell):
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        return mo, d, y, None
    for m in _DATE.finditer(cell):
        month = _month(m.group(1))
        if month is None:
            continue
        end = None
        if m.group(4):
            end_month = _month(m.group(3)) if m.group(3) else None
            if m.group(3) and end_month is None:
                continue
            end_day = int(m.group(4))
            if end_month is None:  # "Oct 31-04": the second number is in the next month
                end_month = month if end_day >= int(m.group(2)) else month % 12 + 1
            end = (end_month, end_day)
        return month, int(m.group(2)), int(m.group(5)) if m.group(5) else year, end
    raise ValueError("no date")


def _rows(table: list[tuple[int, list[str]]], titles: dict[str, str], year: int | None,
          not_before: date | None) -> list[ScheduleRow]:
    header_line, header = table[0]
    at = _is_schedule(header)
    assert at is not None
    width = len(header)
    parsed: list[tuple[int, int, int, int | None, tuple[int, int] | None, str, list[str]]] = []
    for line, cells in table[1:]:
        if len(cells) != width:
            raise RstError(f"line {line}: schedule row has {len(cells)} cells, the header (line "
                           f"{header_line}) has {width}")
        raw = _strip(cells[at].replace("\n", " "), titles)
        if not raw:
            raise RstError(f"line {line}: schedule row has no date in its "
                           f"{header[at].strip()!r} cell")
        try:
            month, day, explicit, end = _first_date(raw, None)
        except ValueError:
            raise RstError(f"line {line}: {raw!r} is not a date (expected e.g. 'November 7', "
                           "'Nov 07-11' or '2016-11-07')") from None
        label, events = "", []
        for k, cell in enumerate(cells):
            if k == at:
                continue
            text = _strip(cell.replace("\n", " "), titles) if "\n" not in cell else None
            if text is not None and _WEEK_LABEL.match(text) and not label:
                label = text.split()[0] if " " in text else text
                continue
            parts = cell.split("\n") if cell.count("\n") and cell.lstrip().startswith(":ref:") \
                else [cell.replace("\n", " ")]
            for part in parts:
                for event in re.split(r"[;,]|\band\b", _strip(part, titles)):
                    if event.strip():
                        events.append(event.strip())
        parsed.append((line, month, day, explicit, end, label, events))
    if not parsed:
        raise RstError(f"line {header_line}: schedule table has a header and no rows")
    first_year = parsed[0][3] or year
    if first_year is None and not_before is not None:
        first_year = not_before.year
        try:
            if date(first_year, parsed[0][1], parsed[0][2]) < not_before:
                first_year += 1
        except ValueError:
            pass
    if first_year is None:
        raise RstError(f"line {parsed[0][0]}: the schedule's dates carry no year and the file "
                       "names none: pass --year (the year of the first row)")
    rows: list[ScheduleRow] = []
    current_year, last_month = first_year, parsed[0][1]
    for line, month, day, explicit, end, label, events in parsed:
        if explicit is not None:
            current_year = explicit
        elif month < last_month:
            current_year += 1
        last_month = month
        try:
            week = date(current_year, month, day)
            if end is None:
                week_end = week + timedelta(days=4)
            else:
                end_year = current_year + (1 if end[0] < month else 0)
                week_end = date(end_year, end[0], end[1])
        except ValueError as exc:
            raise RstError(f"line {line}: not a date in {current_year}: {exc}") from None
        if rows and week < rows[-1].week:
            raise RstError(f"line {line}: {week} comes before the row above it ({rows[-1].week}):"
                           " the schedule's rows must run in date order")
        rows.append(ScheduleRow(line, week, week_end, label, events))
    return rows


def _document_span(lines: list[str]) -> tuple[date, date] | None:
    """"31 October 2016 - 24 February 2017 (16 weeks)": the cycle the schedule states."""
    for line in lines[:30]:
        if m := _SPAN.search(line):
            start_month, end_month = _month(m.group(2)), _month(m.group(5))
            if start_month and end_month:
                return (date(int(m.group(3)), start_month, int(m.group(1))),
                        date(int(m.group(6)), end_month, int(m.group(4))))
    return None


def read_schedule(text: str, *, year: int | None = None, not_before: date | None = None
                  ) -> list[ScheduleRow]:
    """The rows of the first schedule table in the file ([] when it has none)."""
    lines = text.splitlines()
    titles = _section_titles(lines)
    if year is None and (span := _document_span(lines)):
        year = span[0].year
    for table in _tables(lines):
        if len(table) >= 1 and _is_schedule(table[0][1]) is not None:
            return _rows(table, titles, year, not_before)
    return []


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
    span = _document_span(lines)
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
