"""Configuration: [[team]] blocks, several teams in one deployment, and narrowing to one."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from reviewbot.config.errors import ConfigError
from reviewbot.config.matching import Priority
from reviewbot.config.sections import CoreHistoryEntry, Section

if TYPE_CHECKING:
    from reviewbot.config.model import Config

# A team is a projection of the config: its projects and branches, core group, priorities
# and Launchpad projects; everything else (Gerrit server, store, gate, write-back, cycle,
# standing, worker, web) is the deployment's and shared. `Config.for_team` narrows a
# config to one team, so every step downstream keeps reading one plain Config.

IMPLICIT_TEAM = "default"  # the one team of a config without [[team]] blocks


class UnknownTeam(ConfigError):
    """A team name the config does not declare."""

    def __init__(self, name: str, known: list[str]):
        self.name = name
        self.known = known
        super().__init__([f"unknown team {name!r}; the config's teams are: {', '.join(known)}"])


class TeamSection(Section):
    """One `[[team]]` block. Unset keys take the top-level value (`gerrit.branches`,
    `gerrit.core_group`, `launchpad.project`, `[[core_history]]`)."""

    name: str
    title: str = ""  # shown in the team switcher; the name when empty
    projects: list[str] = Field(min_length=1)
    branches: list[str] | None = None
    core_group: str | None = None
    priorities: list[Priority] = []
    # The first is the team's own project: bugs take their importance from its task and
    # blueprints are looked up there (launchpad.project of the narrowed config); the rest
    # are the Launchpad projects of the team's other repositories, for the reader.
    launchpad_projects: list[str] | None = None
    core_history: list[CoreHistoryEntry] | None = None

    @field_validator("name")
    @classmethod
    def _url_safe(cls, value: str) -> str:
        # The name is what `--team` and `?team=` take.
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,63}", value):
            raise ValueError(f"{value!r} is not a team name: lowercase letters, digits, '-', "
                             "'_' or '.', starting with a letter or digit (at most 64)")
        return value

    @property
    def label(self) -> str:
        return self.title or self.name


def team_problems(config: Config) -> list[str]:
    """Whole-file checks of the [[team]] blocks, each naming its key path."""
    problems: list[str] = []
    # A config dumped and read back holds what validation derived (the teams' projects,
    # a single team's priorities): accepted as they are, so the round trip is exact.
    union = list(dict.fromkeys(p for t in config.teams for p in t.projects))
    if config.gerrit.projects and config.gerrit.projects != union:
        problems.append("gerrit.projects: with [[team]] blocks each team lists its projects; "
                        "move them into the teams")
    if config.priorities and not (len(config.teams) == 1
                                  and config.priorities == config.teams[0].priorities):
        problems.append("priorities: with [[team]] blocks each team has its own priorities "
                        "([[team.priorities]]); move them into the teams")
    names: dict[str, int] = {}
    owner: dict[str, str] = {}
    for i, team in enumerate(config.teams):
        if team.name in names:
            problems.append(f"team[{i}].name: {team.name!r} is already the name of "
                            f"team[{names[team.name]}]")
        names.setdefault(team.name, i)
        for project in team.projects:
            # A change belongs to the team listing its project: two owners would judge
            # it by two sets of rules and write two sets of hashtags.
            if project in owner and owner[project] != team.name:
                problems.append(f"team[{i}].projects: {project!r} is already listed by team "
                                f"{owner[project]!r}; a project belongs to one team")
            owner.setdefault(project, team.name)
    return problems


def subscriber_problems(config: Config, names: list[str]) -> list[str]:
    return [f"digest.subscribers[{i}].team: unknown team {sub.team!r}; the config's teams "
            f"are: {', '.join(names)}"
            for i, sub in enumerate(config.digest.subscribers)
            if sub.team is not None and sub.team not in names]


def resolved_team(config: Config, team: TeamSection) -> TeamSection:
    """The team with its unset keys filled from the top level."""
    lp = config.launchpad.project
    return team.model_copy(update={
        "branches": team.branches if team.branches is not None else list(config.gerrit.branches),
        "core_group": team.core_group if team.core_group is not None
        else config.gerrit.core_group,
        "launchpad_projects": team.launchpad_projects if team.launchpad_projects is not None
        else ([lp] if lp else []),
        # core_history stays unset when the team has none: narrowing reads the top-level
        # list then, so a copy of the config with a new one (the demo moves its dates)
        # reaches every team.
    })


def narrowed_config(config: Config, team: TeamSection) -> Config:
    """`config` seen as `team` (resolved): its scope, core group, priorities, Launchpad."""
    lp = team.launchpad_projects or []
    narrowed = config.model_copy(update={
        "gerrit": config.gerrit.model_copy(update={
            "projects": list(team.projects), "branches": list(team.branches or []),
            "core_group": team.core_group or ""}),
        "priorities": list(team.priorities),
        "launchpad": config.launchpad.model_copy(update={"project": lp[0] if lp else ""}),
        "core_history": list(team.core_history if team.core_history is not None
                             else config.core_history),
        # each subscriber's digest comes from their team (the first team's by default)
        "digest": config.digest.model_copy(update={"subscribers": [
            s for s in config.digest.subscribers
            if (s.team or config.teams[0].name) == team.name]}),
    })
    narrowed._team = team.name
    narrowed._deployment = config
    return narrowed
