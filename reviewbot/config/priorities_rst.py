"""Priorities import: draft `[[priorities]]` TOML from a glance-specs `*-priorities.rst` file.

The draft says what the file says and nothing more: a blueprint link gives that
blueprint, a bug link that bug, a spec page the blueprint named like its file
(glance-specs names specs after their blueprint; a file name that cannot be a
Launchpad name gives none), a spec still under review that review's change
number. Each carries a TOML comment saying where it came from and what to check;
an item whose cells link none of these gets no matcher and says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlparse

from reviewbot.config.rst_tables import RstError, tables

_TARGET = re.compile(r"^\.\. _([^:]+?):\s+(\S+)\s*$")
_REFERENCE = re.compile(r"`([^`<]+?)(?:\s*<([^>]+)>)?`_{1,2}")
_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+])\1{2,}\s*$")
_LAUNCHPAD_PERSON = re.compile(r"launchpad\.net/~([a-z0-9][a-z0-9.+-]*)")
_BUG_LINK = re.compile(r"bugs\.launchpad\.net/([^/]+)/\+bug/(\d+)")
_BLUEPRINT_LINK = re.compile(r"blueprints\.launchpad\.net/([^/]+)/\+spec/([^/?#\s]+)")
_REVIEW_LINK = re.compile(r"review\.(?:openstack|opendev)\.org/.*?(\d{4,})")
# What Launchpad accepts as a blueprint name (no '_', no upper case).
_LAUNCHPAD_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]*$")


@dataclass
class Row:
    section: str
    cells: list[str]


@dataclass
class DraftPriority:
    id: str
    title: str
    rank: int
    section: str
    owners: list[str] = field(default_factory=list)
    blueprints: list[str] = field(default_factory=list)
    bugs: list[int] = field(default_factory=list)
    changes: list[int] = field(default_factory=list)
    spec: str | None = None
    comments: list[str] = field(default_factory=list)


def _norm(name: str) -> str:
    return " ".join(name.split()).lower()


def _targets(lines: list[str]) -> dict[str, str]:
    return {_norm(m.group(1)): m.group(2) for line in lines if (m := _TARGET.match(line))}


def _rows(text: str) -> list[Row]:
    lines = text.splitlines()
    # The section title each line falls under (a title is a line underlined at least
    # as long as itself).
    section_at, section = [], ""
    for i, line in enumerate(lines):
        if i + 1 < len(lines) and line.strip() and _UNDERLINE.match(lines[i + 1]) \
                and len(lines[i + 1].strip()) >= len(line.strip()):
            section = line.strip()
        section_at.append(section)
    rows: list[Row] = []
    for table in tables(lines):
        # Only tables whose first header cell names the priority (not "Important dates").
        if "priority" in _norm(table[0][1][0]):
            rows += [Row(section_at[line - 1], cells) for line, cells in table[1:]]
    return rows


def _plain(cell: str) -> str:
    text = _REFERENCE.sub(lambda m: m.group(1), cell)
    text = re.sub(r"(^|\n)\s*[*-]\s+", r"\1", text)
    text = re.sub(r"[*`]", "", text)
    return " ".join(text.split())


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug or "priority"


def _urls(cell: str, targets: dict[str, str]) -> list[tuple[str, str]]:
    """(link text, URL) for each reference in the cell; unknown targets are kept with ''."""
    found = []
    for m in _REFERENCE.finditer(cell):
        found.append((m.group(1).strip(), m.group(2) or targets.get(_norm(m.group(1)), "")))
    return found


def _blueprint_from_spec(url: str) -> tuple[str | None, str]:
    """(blueprint named like the spec file, comment) for a spec page link; None when the
    file name cannot be a blueprint name (the comment says what to do instead)."""
    parsed = urlparse(url)
    leaf = parsed.path.rsplit("/", 1)[-1]
    if parsed.fragment or leaf.startswith("lite-specs"):
        return None, (f"lite spec {leaf}#{parsed.fragment} has no blueprint of its own: "
                      "add topics, bugs or blueprints by hand")
    stem = leaf.removesuffix(".html").removesuffix(".rst")
    if not stem:
        return None, f"spec {url}: could not read a file name; add the blueprint by hand"
    if not _LAUNCHPAD_NAME.match(stem):
        return None, (f"spec file {leaf}: {stem!r} cannot be a Launchpad blueprint name, so "
                      "no blueprint is drafted; add the one the spec names by hand")
    return stem, (f"blueprint {stem!r} is the name of spec file {leaf} (specs are named "
                  "after their blueprint); check it on Launchpad")


def parse_priorities(text: str) -> list[DraftPriority]:
    lines = text.splitlines()
    targets = _targets(lines)
    rows = _rows(text)
    if not rows:
        raise RstError("no priorities table found (expected a list-table or grid table "
                       "whose first header cell names the priority)")
    drafts: list[DraftPriority] = []
    used: set[str] = set()
    for rank, row in enumerate(rows, start=1):
        cells = row.cells + [""] * (3 - len(row.cells))
        title = _plain(cells[0])
        pid = base = slugify(title)
        n = 2
        while pid in used:
            pid, n = f"{base}-{n}", n + 1
        used.add(pid)
        d = DraftPriority(pid, title, rank, row.section)
        for name, url in _urls(cells[1], targets):
            if m := _LAUNCHPAD_PERSON.search(url):
                d.owners.append(m.group(1))
            else:
                d.comments.append(f"owner {name!r} has no Launchpad link; add by hand")
        leftover = _plain(_REFERENCE.sub("", cells[1])).strip(" ,;")
        if leftover:
            d.comments.append(f"owner cell also says: {_plain(cells[1])!r}")
        for name, url in _urls(cells[2], targets):
            if not url:
                d.comments.append(f"spec link {name!r} has no target in the file")
            elif m := _BLUEPRINT_LINK.search(url):
                if m.group(2) not in d.blueprints:
                    d.blueprints.append(m.group(2))
                d.comments.append(f"blueprint {m.group(2)} of {m.group(1)}: {url}")
            elif m := _BUG_LINK.search(url):
                d.bugs.append(int(m.group(2)))
                d.comments.append(f"bug {m.group(2)} is filed against {m.group(1)}: {url}")
            elif m := _REVIEW_LINK.search(url):
                d.spec = d.spec or url
                if int(m.group(1)) not in d.changes:
                    d.changes.append(int(m.group(1)))
                d.comments.append(
                    f"spec still under review as change {m.group(1)} ({url}): it matches that "
                    "review, whose project gerrit.projects must list; add the spec's blueprint "
                    "once it is known")
            else:
                d.spec = d.spec or url
                bp, note = _blueprint_from_spec(url)
                if bp and bp not in d.blueprints:
                    d.blueprints.append(bp)
                d.comments.append(note)
        if not (d.blueprints or d.bugs or d.changes):
            d.comments.append("no matchers yet: nothing in the file names a blueprint, bug or "
                              "change for it, so it matches no change until you add "
                              "blueprints, bugs, topics, hashtags or files")
        drafts.append(d)
    return drafts


def _toml_str(value: str) -> str:
    # JSON string escapes are valid TOML basic-string escapes.
    return json.dumps(value, ensure_ascii=False)


def _toml_list(values: Sequence[str] | Sequence[int]) -> str:
    return "[" + ", ".join(_toml_str(v) if isinstance(v, str) else str(v) for v in values) + "]"


def draft_toml(text: str, *, source: str = "priorities.rst") -> str:
    """The `[[priorities]]` block for `text`, ready to paste into a config after review."""
    drafts = parse_priorities(text)
    out = [f"# Draft [[priorities]] from {source} (reviewbot priorities-from-rst).",
           "# Review every line, especially the comments, before using it.", ""]
    section = None
    for d in drafts:
        if d.section != section and d.section:
            out.append(f"# --- section: {d.section}")
            section = d.section
        out.append("[[priorities]]")
        out += [f"# {c}" for c in d.comments]
        out.append(f"id = {_toml_str(d.id)}")
        out.append(f"title = {_toml_str(d.title)}")
        out.append(f"rank = {d.rank}")
        if d.owners:
            out.append(f"owners = {_toml_list(d.owners)}")
        if d.blueprints:
            out.append(f"blueprints = {_toml_list(d.blueprints)}")
        if d.bugs:
            out.append(f"bugs = {_toml_list(d.bugs)}")
        if d.changes:
            out.append(f"changes = {_toml_list(d.changes)}")
        if d.spec:
            out.append(f"spec = {_toml_str(d.spec)}")
        out.append("")
    return "\n".join(out)
