"""Layers: the store speaks SQL and imports no domain module (issue 11 item 1).

Every module under reviewbot/store/ is read with `ast` (nothing is imported), and each
`import reviewbot...` / `from reviewbot... import` in it, at any depth, is checked: a
store module may import only the store itself, the table declarations, the plain
types, the clock, number parsing and the settings. Judging, timelines, queues,
reports, rules and people are the domain's: they read the store, never the reverse.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

from reviewbot.snapshot import JudgedReview
from reviewbot.standing import Review

STORE = Path(__file__).resolve().parent.parent / "reviewbot" / "store"

# Module paths as they are before issue 16's layout move: when the lead's rewrite moves
# them (e.g. reviewbot.snapshot -> reviewbot.timeline.snapshot), these strings move too,
# and only the plain-types module, never its whole package, is allowed.
ALLOWED = ("reviewbot.store", "reviewbot.tables", "reviewbot.snapshot", "reviewbot.clock",
           "reviewbot.numbers", "reviewbot.config")

# Imports of store modules other engineers own that still cross the layer, each with
# what it is; this list may only shrink (an entry no longer found fails the test too).
KNOWN_CROSSINGS = {
    # The sync's record types (ChangeRecord, AccountRef, WireError) the store writes.
    ("accounts.py", "reviewbot.wire"): "sync records written by the store",
    ("changes.py", "reviewbot.wire"): "sync records written by the store",
    ("promotions.py", "reviewbot.wire"): "sync records written by the store",
    # The core group's audit log is fetched from Gerrit and parsed in the store module.
    ("promotions.py", "reviewbot.gerrit"): "a sync step living under store/",
    ("promotions.py", "reviewbot.promotions"): "a sync step living under store/",
    # The roster (people) is built inside the store read.
    ("snapshots.py", "reviewbot.people"): "load_roster builds a Roster",
    ("snapshots.py", "reviewbot.promotions"): "load_roster reads audit-log spells",
}


def _allowed(module: str) -> bool:
    return any(module == a or module.startswith(a + ".") for a in ALLOWED)


def _reviewbot_imports(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names
                      if a.name.split(".")[0] == "reviewbot"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "reviewbot":  # `from reviewbot import standing`
                found += [(node.lineno, f"reviewbot.{a.name}") for a in node.names]
            elif node.module.split(".")[0] == "reviewbot":
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            # A relative import from inside store/ stays inside it only at level 1.
            base = "reviewbot.store" if node.level == 1 else "reviewbot"
            found.append((node.lineno, f"{base}.{node.module or ''}".rstrip(".")))
    return found


def store_crossings() -> list[tuple[str, int, str]]:
    """(store module, line, imported module) for every import leaving the store's layer."""
    out = []
    for path in sorted(STORE.glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        out += [(path.name, line, module) for line, module in _reviewbot_imports(tree)
                if not _allowed(module)]
    return out


def test_store_modules_import_no_domain_module():
    crossings = store_crossings()
    unexpected = [f"reviewbot/store/{name}:{line} imports {module}"
                  for name, line, module in crossings
                  if (name, module) not in KNOWN_CROSSINGS]
    assert unexpected == [], "store/ must not import domain modules:\n" + "\n".join(unexpected)
    gone = set(KNOWN_CROSSINGS) - {(name, module) for name, _line, module in crossings}
    assert gone == set(), f"no longer imported, remove from KNOWN_CROSSINGS: {sorted(gone)}"


def test_the_check_sees_a_domain_import_at_any_depth():
    # The walk finds imports inside functions and `from reviewbot import x` forms too.
    source = ("from reviewbot.tables import Change\n"
              "def f():\n    from reviewbot.standing import Review\n"
              "from reviewbot import readiness\nimport reviewbot.queue\n")
    found = [m for _line, m in _reviewbot_imports(ast.parse(source)) if not _allowed(m)]
    assert sorted(found) == ["reviewbot.queue", "reviewbot.readiness", "reviewbot.standing"]


def test_stored_reviews_carry_every_field_of_a_judged_review():
    # The store's plain row and the judging's Review convert into each other by position.
    assert tuple(f.name for f in dataclasses.fields(Review)) == JudgedReview._fields
