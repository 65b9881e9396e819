"""Rule: a file of the current patch set matches a listed glob (fnmatch; `*` crosses `/`)."""

from __future__ import annotations

import fnmatch
import re

from reviewbot.rules.facts import ChangeFacts
from reviewbot.rules.verdict import Check, MatcherRule


def compile_check(values: list[str]) -> Check | None:
    if not values:
        return None
    # fnmatch.translate keeps `*` crossing `/`; case-sensitive like file systems in Gerrit.
    globs = [(g, re.compile(fnmatch.translate(g))) for g in values]
    # One combined pattern rejects the common "no file matches" case in a single pass.
    anything = re.compile("|".join(f"(?:{rx.pattern})" for _, rx in globs))

    def check(facts: ChangeFacts) -> list[str]:
        files = facts.files
        if not files:
            return []
        hits = [f for f in files if anything.match(f)]
        if not hits:
            return []
        reasons = []
        for glob, rx in globs:
            matched = [f for f in hits if rx.match(f)]
            if matched:
                more = f" (and {len(matched) - 1} more)" if len(matched) > 1 else ""
                reasons.append(f"file {matched[0]} matches {glob}{more}")
        return reasons

    return check


RULE = MatcherRule("files", compile_check, needs="files",
                   doc="any file of the current patch set matches a glob")
