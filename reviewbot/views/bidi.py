"""Output: user text isolated for display, so right-to-left controls cannot reorder a line.

Subjects, names, topics, messages and reasons come from anyone who can type into
Gerrit. An explicit directional control in them (U+202E RIGHT-TO-LEFT OVERRIDE,
the embeddings, the isolates) would otherwise reorder everything after it on the
line: the change number, the state, the next column ("Trojan Source"). Wrapping
such a value in FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE makes it one
isolated run, as `<bdi>` does in markup: its own direction is taken from its
first strong letter, and the closing PDI ends every override opened inside it
(Unicode Bidirectional Algorithm, rule X6a). It works in text, titles and
attribute values alike, and in plain-text output (Markdown).
"""

from __future__ import annotations

import re

FSI, PDI = "\u2068", "\u2069"
_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")  # LRE RLE PDF LRO RLO, LRI RLI FSI PDI
_ISOLATE_OPENERS = "\u2066\u2067\u2068"


def isolate(text: str) -> str:
    """`text` as one isolated run when it holds a directional control; unchanged otherwise.

    A PDI without its opener inside `text` is dropped: it would close the wrapper early
    and let the controls after it loose on the line. An isolate opened and not closed
    inside `text` is closed before the wrapper's own PDI, which would otherwise close it
    and leave the wrapper open for the rest of the line.
    """
    if not _CONTROLS.search(text):
        return text
    kept: list[str] = []
    open_isolates = 0
    for ch in text:
        if ch in _ISOLATE_OPENERS:
            open_isolates += 1
        elif ch == PDI:
            if not open_isolates:
                continue
            open_isolates -= 1
        kept.append(ch)
    return FSI + "".join(kept) + PDI * open_isolates + PDI
