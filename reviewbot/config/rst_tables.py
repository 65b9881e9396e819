"""Configuration input: the RST tables the importers read (list-tables and grid tables),
as (line, cells) rows; a table that cannot be read is an error naming its line."""

from __future__ import annotations

import re


class RstError(ValueError):
    """An .rst file the importers cannot read, and where."""


def indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def list_table(lines: list[str], start: int) -> tuple[list[tuple[int, list[str]]], int]:
    """(line, cells) per row of the list-table after `start`, and where it ends."""
    i = start
    while i < len(lines) and not lines[i].lstrip().startswith("* -"):
        if lines[i].strip() and not lines[i].lstrip().startswith(":") and indent(lines[i]) == 0:
            return [], i
        i += 1
    if i == len(lines):
        return [], i
    base = indent(lines[i])
    rows: list[tuple[int, list[str]]] = []
    while i < len(lines):
        line = lines[i]
        if line.strip() and indent(line) < base:
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


def grid_table(lines: list[str], start: int) -> tuple[list[tuple[int, list[str]]], int]:
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


def tables(lines: list[str]) -> list[list[tuple[int, list[str]]]]:
    """Every list-table and grid table of the file, in order: (line, cells) per row."""
    tables, i = [], 0
    while i < len(lines):
        if lines[i].strip().startswith(".. list-table::"):
            table, i = list_table(lines, i + 1)
        elif lines[i].startswith("+-"):
            table, i = grid_table(lines, i)
        else:
            i += 1
            continue
        if table:
            tables.append(table)
    return tables
