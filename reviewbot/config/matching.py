"""Configuration: what selects a change: priority and exemption matchers, branch policies."""

from __future__ import annotations

import fnmatch
import re

from pydantic import Field, field_validator

from reviewbot.config.sections import Section, check_glob


class Matchers(Section):
    """What makes a change belong to a priority (or to the gate's exemptions)."""

    blueprints: list[str] = []
    bugs: list[int] = []
    topics: list[str] = []
    hashtags: list[str] = []
    files: list[str] = []
    message: str | None = None
    changes: list[int] = []
    owners: list[str] = []
    projects: list[str] = []
    branches: list[str] = []
    lp_bug_tags: list[str] = []
    lp_bug_importance: list[str] = []
    lp_blueprint_series: list[str] = []

    @field_validator("files")
    @classmethod
    def _globs(cls, value: list[str]) -> list[str]:
        return [check_glob(p) for p in value]

    @field_validator("blueprints")
    @classmethod
    def _blueprint_names(cls, value: list[str]) -> list[str]:
        # Matching already accepts footers and `bp/NAME` topics; a prefixed or
        # spaced value would silently never match.
        for name in value:
            if not name or name != name.strip() or " " in name or "/" in name:
                raise ValueError(f"blueprint {name!r} must be a bare Launchpad blueprint name "
                                 "(no 'bp/' or 'blueprint ' prefix, no spaces)")
        return value

    @field_validator("message")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
        return value

    def is_empty(self) -> bool:
        """True when no matcher that selects changes is set (restrictions alone select nothing)."""
        selecting = self.model_dump(exclude={"projects", "branches"})
        return not any(selecting.values())


class BranchPolicy(Section):
    """How changes on the branches matching `pattern` (fnmatch: `stable/*`) are gated.

    `gate = false`: no non-core gate there (stable backports go straight to the cores);
    `core_group`: the Gerrit group whose members are core on those branches (Gerrit's
    stable branch ACLs give +2 to `<project>-stable-maint` only), instead of
    `gerrit.core_group`. A branch no pattern matches keeps the default: gated, project core.
    """

    pattern: str
    gate: bool = True
    core_group: str | None = None

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        return check_glob(value)


def branch_policy_for(policies: list[BranchPolicy], branch: str) -> BranchPolicy | None:
    """The first policy whose pattern matches `branch` (config order), or None: the default."""
    return next((p for p in policies if fnmatch.fnmatchcase(branch, p.pattern)), None)


class Priority(Matchers):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    title: str
    rank: int = Field(ge=1)
    owners: list[str] = []
    spec: str | None = None


class GateSection(Section):
    min_noncore_plus1: int = Field(default=1, ge=1)
    exempt: Matchers = Matchers()
