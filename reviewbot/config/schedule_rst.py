"""Cycle rollover input: read the week rows of a release schedule table in an .rst file.

Two real shapes are read, both RST tables with one row per week:

- glance-specs `*-priorities.rst` "Important dates": a list-table with columns like
  `Milestone | Week of | What` (`R-4 | January 23 | O-3 milestone, Glance feature freeze`);
- the OpenStack release schedule (releases.openstack.org `schedule.rst`): a grid table
  `Week | R-N | Cross-project events | Project-specific events` whose event cells are
  `:ref:` labels, resolved to their section titles ("Feature freeze", "RC1 target week").

A row's date is the first day of its week as the table gives it (OpenStack deadlines are
usually that week's Thursday; the draft, `reviewbot.config.cycle_draft`, says so). Dates
without a year take the year from `year`, else from a year written in the file, else the
first year that puts the first row on or after `not_before` (the outgoing cycle's start);
later rows move to the next year when the month wraps. A table that looks like a schedule
but cannot be read is an error naming its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from reviewbot.config.rst_tables import RstError, tables

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


@dataclass
class ScheduleRow:
    line: int  # 1-based line of the row in the file
    week: date
    week_end: date
    label: str  # "R-4", "" when the table has none
    events: list[str]


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


# A row as read, before its year is known: (line, month, day, year written in it or None,
# (end month, end day) or None, week label, events).
_ReadRow = tuple[int, int, int, int | None, tuple[int, int] | None, str, list[str]]


def _rows(table: list[tuple[int, list[str]]], titles: dict[str, str], year: int | None,
          not_before: date | None) -> list[ScheduleRow]:
    header_line, header = table[0]
    at = _is_schedule(header)
    assert at is not None
    read: list[_ReadRow] = []
    for line, cells in table[1:]:
        if len(cells) != len(header):
            raise RstError(f"line {line}: schedule row has {len(cells)} cells, the header (line "
                           f"{header_line}) has {len(header)}")
        month, day, explicit, end = _row_date(line, cells[at], header[at], titles)
        read.append((line, month, day, explicit, end, *_label_and_events(cells, at, titles)))
    if not read:
        raise RstError(f"line {header_line}: schedule table has a header and no rows")
    return _dated(read, _first_year(read, year, not_before))


def _row_date(line: int, cell: str, column: str, titles: dict[str, str]
              ) -> tuple[int, int, int | None, tuple[int, int] | None]:
    """The first date of a row's date cell, as `_first_date` gives it."""
    raw = _strip(cell.replace("\n", " "), titles)
    if not raw:
        raise RstError(f"line {line}: schedule row has no date in its {column.strip()!r} cell")
    try:
        return _first_date(raw, None)
    except ValueError:
        raise RstError(f"line {line}: {raw!r} is not a date (expected e.g. 'November 7', "
                       "'Nov 07-11' or '2016-11-07')") from None


def _label_and_events(cells: list[str], at: int, titles: dict[str, str]) -> tuple[str, list[str]]:
    """The week label ("R-4") and the events of a row's other cells."""
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
    return label, events


def _first_year(read: list[_ReadRow], year: int | None, not_before: date | None) -> int:
    """The first row's year: written in it, else `year`, else the first on or after
    `not_before`."""
    first_year = read[0][3] or year
    if first_year is None and not_before is not None:
        first_year = not_before.year
        try:
            if date(first_year, read[0][1], read[0][2]) < not_before:
                first_year += 1
        except ValueError:
            pass
    if first_year is None:
        raise RstError(f"line {read[0][0]}: the schedule's dates carry no year and the file "
                       "names none: pass --year (the year of the first row)")
    return first_year


def _dated(read: list[_ReadRow], first_year: int) -> list[ScheduleRow]:
    """The rows with their years: a row's own, else carried down, +1 when the month wraps."""
    rows: list[ScheduleRow] = []
    current_year, last_month = first_year, read[0][1]
    for line, month, day, explicit, end, label, events in read:
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


def document_span(lines: list[str]) -> tuple[date, date] | None:
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
    if year is None and (span := document_span(lines)):
        year = span[0].year
    for table in tables(lines):
        if len(table) >= 1 and _is_schedule(table[0][1]) is not None:
            return _rows(table, titles, year, not_before)
    return []
