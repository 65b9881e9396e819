"""Rules: one configured set of matchers, compiled once, judged per change (OR of matchers)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reviewbot.config import Matchers
from reviewbot.rules.facts import ChangeFacts
from reviewbot.rules.launchpad_matchers import missing_facts
from reviewbot.rules.verdict import Check, MatcherRule

# `projects` and `branches` restrict the other matchers; they select nothing alone.
RESTRICTIONS = ("projects", "branches")


@dataclass(frozen=True, slots=True)
class CompiledMatchers:
    checks: tuple[tuple[str, Check, str | None], ...]  # (matcher name, check, needs)
    projects: frozenset[str]
    branches: frozenset[str]
    # What the checks read, worked out once so a non-matching change costs little.
    needs_message: bool = False
    needs_files: bool = False
    lp_kinds: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        return not self.checks

    def in_scope(self, facts: ChangeFacts) -> bool:
        change = facts.change
        if self.projects and change.project not in self.projects:
            return False
        return not (self.branches and change.branch not in self.branches)

    def match(self, facts: ChangeFacts) -> tuple[list[str], set[str]]:
        """Reasons the change matches (empty: no match) and, when it does not,
        what could not be checked for want of synced data."""
        if not self.checks or not self.in_scope(facts):
            return [], set()
        reasons: list[str] = []
        for _, check, _ in self.checks:
            reasons += check(facts)
        if reasons:
            return reasons, _NOTHING
        return reasons, self._unchecked(facts)

    def _unchecked(self, facts: ChangeFacts) -> set[str]:
        out: set[str] = set()
        if self.needs_message and facts.change.commit_message is None:
            out.add("commit message")
        if self.needs_files and facts.files is None:
            out.add("files")
        if self.lp_kinds:
            out |= {f"launchpad:{m}" for m in missing_facts(facts, self.lp_kinds)}
        return out


_NOTHING: set[str] = set()  # shared empty result; callers only read it


def compile_matchers(
    matchers: Matchers, rules: Mapping[str, MatcherRule[Any]], *, skip: frozenset[str] = frozenset()
) -> CompiledMatchers:
    """Compile every configured matcher once (regexes, globs, lookup sets)."""
    checks = []
    for name, rule in rules.items():
        if name in skip:
            continue
        check = rule.compile(getattr(matchers, name))
        if check is not None:
            checks.append((name, check, rule.needs))
    needs = {n for _, _, n in checks if n}
    return CompiledMatchers(
        tuple(checks),
        frozenset(matchers.projects),
        frozenset(matchers.branches),
        needs_message="commit message" in needs,
        needs_files="files" in needs,
        lp_kinds=frozenset(n.split(":", 1)[1] for n in needs if n.startswith("launchpad:")),
    )


def describe_unchecked(unchecked: set[str]) -> list[str]:
    """Say, in words, which matchers could not be judged and why."""
    notes = []
    if "commit message" in unchecked:
        notes.append("no commit message synced: blueprint/bug footers and message regexes "
                     "could not be checked")
    if "files" in unchecked:
        notes.append("no file list synced: file globs could not be checked")
    lp = sorted(u.split(":", 1)[1] for u in unchecked if u.startswith("launchpad:"))
    if lp:
        notes.append(f"no Launchpad data cached for {', '.join(lp)}: Launchpad matchers "
                     "could not be checked")
    return notes
