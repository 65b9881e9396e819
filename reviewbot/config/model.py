"""Configuration: the whole config (Config): its sections, teams and checks across sections."""

from __future__ import annotations

import fnmatch

from pydantic import ConfigDict, Field, PrivateAttr, model_validator

from reviewbot.config.matching import BranchPolicy, GateSection, Priority
from reviewbot.config.sections import (
    OPS_LANE,
    POOL_RESERVE,
    CoreHistoryEntry,
    CycleSection,
    DatabaseSection,
    DigestSection,
    FreezeSection,
    GerritSection,
    LaunchpadSection,
    ReportSection,
    Section,
    StandingSection,
    WebSection,
    WorkerSection,
    WritebackSection,
)
from reviewbot.config.teams import (
    IMPLICIT_TEAM,
    TeamSection,
    UnknownTeam,
    narrowed_config,
    resolved_team,
    subscriber_problems,
    team_problems,
)
from reviewbot.timeline.snapshot import TeamScope


class Config(Section):
    gerrit: GerritSection
    database: DatabaseSection = DatabaseSection()
    data_dir: str = "data"
    launchpad: LaunchpadSection = LaunchpadSection()
    cycle: CycleSection
    priorities: list[Priority] = []
    gate: GateSection = GateSection()
    writeback: WritebackSection = WritebackSection()
    standing: StandingSection = StandingSection()
    core_history: list[CoreHistoryEntry] = []
    report: ReportSection = ReportSection()
    worker: WorkerSection = WorkerSection()
    web: WebSection = WebSection()
    freeze: FreezeSection = FreezeSection()
    digest: DigestSection = DigestSection()
    branch_policy: list[BranchPolicy] = []

    @model_validator(mode="after")
    def _policies_match_tracked_branches(self) -> Config:
        for i, policy in enumerate(self.branch_policy):
            if not any(fnmatch.fnmatchcase(b, policy.pattern) for b in self.gerrit.branches):
                raise ValueError(f"branch_policy[{i}].pattern: {policy.pattern!r} matches none "
                                 f"of gerrit.branches {self.gerrit.branches}; list the branches "
                                 "to track there")
        return self

    # [[team]] blocks (several teams in one deployment); see TeamSection, for_team.
    teams: list[TeamSection] = Field(default=[], alias="team")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    # The team this config is narrowed to; None: a deployment of several [[team]]s.
    _team: str | None = PrivateAttr(default=None)
    _deployment: Config | None = PrivateAttr(default=None)
    # Narrowed copies made so far, by (id of the whole config, team): one object per team,
    # so caches keyed by the config (compiled rules, queue caches) keep working. A copy of
    # the whole config has another id, so it never reuses the original's narrowings.
    _narrowings: dict[tuple[int, str], Config] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _one_or_more_teams(self) -> Config:
        if not self.teams:
            # No [[team]] blocks: the top-level keys are the one team, as before teams.
            if not self.gerrit.projects:
                raise ValueError("gerrit.projects: is required (the Gerrit projects to "
                                 "follow), or declare [[team]] blocks")
            self._team = IMPLICIT_TEAM  # `teams` stays empty: see all_teams
            problems = subscriber_problems(self, [IMPLICIT_TEAM])
            if problems:
                raise ValueError("\n".join(problems))
            return self
        problems = team_problems(self) + subscriber_problems(self, [t.name for t in self.teams])
        if problems:
            raise ValueError("\n".join(problems))
        self.teams = [resolved_team(self, t) for t in self.teams]
        for i, team in enumerate(self.teams):
            # The per-priority checks below, on each team's own priorities.
            narrowed = narrowed_config(self, team)
            for check in (Config._check_unique_priorities,
                          Config._check_no_bot_hashtags_as_matchers):
                try:
                    check(narrowed)
                except ValueError as exc:
                    raise ValueError(f"team[{i}].{exc}" if str(exc).startswith("priorities")
                                     else f"team[{i}].priorities: {exc}") from None
        if len(self.teams) == 1:
            # A deployment of one team is that team, as a config without [[team]] is.
            one = narrowed_config(self, self.teams[0])
            self.gerrit, self.priorities = one.gerrit, one.priorities
            self.launchpad, self.core_history = one.launchpad, one.core_history
            self._team = self.teams[0].name
            return self
        # The deployment's scope is every team's: one sync query serves them all.
        self.gerrit = self.gerrit.model_copy(update={
            "projects": list(dict.fromkeys(p for t in self.teams for p in t.projects)),
            "branches": list(dict.fromkeys(b for t in self.teams for b in t.branches or []))})
        return self

    @property
    def team_name(self) -> str | None:
        """The team this config is narrowed to (None: the whole deployment of several)."""
        return self._team

    @property
    def team_names(self) -> list[str]:
        return [t.name for t in self.all_teams]

    @property
    def all_teams(self) -> list[TeamSection]:
        """The deployment's teams: its [[team]] blocks, or the one implicit team."""
        whole = self.deployment
        return whole.teams or [TeamSection(name=IMPLICIT_TEAM,
                                           projects=list(whole.gerrit.projects))]

    @property
    def several_teams(self) -> bool:
        return len(self.teams) > 1

    @property
    def core_groups(self) -> list[str]:
        """Every team's core group (sync reads each); the own one once narrowed."""
        if self._team is not None:
            return [self.gerrit.core_group] if self.gerrit.core_group else []
        return list(dict.fromkeys(t.core_group for t in self.teams if t.core_group))

    @property
    def launchpad_projects(self) -> list[str]:
        """This team's Launchpad projects, its own (`launchpad.project`) first."""
        declared = self.team().launchpad_projects if self._team is not None else None
        own = [self.launchpad.project] if self.launchpad.project else []
        return list(dict.fromkeys([*own, *(declared or [])]))

    @property
    def deployment(self) -> Config:
        """The whole config this one was narrowed from (itself when not narrowed)."""
        return self._deployment or self

    def team(self, name: str | None = None) -> TeamSection:
        """The named team; None: the only one, or the first of several. UnknownTeam else."""
        teams = self.all_teams
        if name is None or name == "":
            return teams[0] if self._team is None else self.team(self._team)
        found = next((t for t in teams if t.name == name), None)
        if found is None:
            raise UnknownTeam(name, [t.name for t in teams])
        return found

    def for_team(self, name: str | None = None) -> Config:
        """This config narrowed to team `name` (None: the only team, or the first of
        several). Without [[team]] blocks the config is its one team already."""
        whole = self.deployment
        team = whole.team(name)
        if whole._team is not None or self._team == team.name:
            return self if self._team == team.name else whole
        key = (id(whole), team.name)
        if key not in whole._narrowings:
            whole._narrowings[key] = narrowed_config(whole, team)
        return whole._narrowings[key]

    def team_configs(self) -> list[Config]:
        """The config narrowed to each team in turn (the cycle runs its steps per team)."""
        return [self.for_team(t.name) for t in self.all_teams]

    def for_project(self, project: str) -> Config:
        """Narrowed to the team that lists `project` (the only team when none does)."""
        whole = self.deployment
        owner = next((t.name for t in whole.all_teams if project in t.projects), None)
        return self.for_team(owner)

    def scope_groups(self) -> list[tuple[list[str], list[str]]]:
        """(projects, branches) groups covering the config's scope: one, unless teams of a
        deployment follow different branches (then one per set of branches)."""
        if self._team is not None or not self.several_teams:
            return [(list(self.gerrit.projects), list(self.gerrit.branches))]
        groups: dict[tuple[str, ...], list[str]] = {}
        for team in self.teams:
            groups.setdefault(tuple(team.branches or []), []).extend(team.projects)
        return [(projects, list(branches)) for branches, projects in groups.items()]

    def tracks(self, project: str, branch: str) -> bool:
        """Is a change of `project` on `branch` in this config's (or team's) scope?"""
        return any(project in projects and branch in branches
                   for projects, branches in self.scope_groups())

    def state_key(self, key: str) -> str:
        """A store state key of a per-team step (fingerprints, trends): the key itself in a
        one-team deployment, so existing stores keep theirs; `key@team` among several."""
        team = self.team_scope
        return key if team is None else f"{key}@{team.name}"

    @property
    def team_scope(self) -> TeamScope | None:
        """This team's name and changes, as the store's per-team reads take them; None in
        a one-team deployment (or for the whole deployment), where reads cover everything."""
        if not self.deployment.several_teams or self._team is None:
            return None
        return TeamScope(self._team, tuple(self.gerrit.projects), tuple(self.gerrit.branches))

    @model_validator(mode="after")
    def _freeze_needs_a_date(self) -> Config:
        if self.freeze.enabled and self.cycle.feature_freeze is None:
            raise ValueError("freeze.enabled: needs cycle.feature_freeze (the date the freeze "
                             "begins)")
        if self.freeze.exception_hashtag.lower() in _own_hashtags(self):
            raise ValueError(f"freeze.exception_hashtag: {self.freeze.exception_hashtag!r} is "
                             "a hashtag the bot writes itself (writeback)")
        return self

    # The two priority checks are plain methods too: the team check above runs them on
    # each team's narrowed config (a validator, as decorated, is not callable for mypy).
    @model_validator(mode="after")
    def _unique_priorities(self) -> Config:
        return self._check_unique_priorities()

    def _check_unique_priorities(self) -> Config:
        seen: set[str] = set()
        for p in self.priorities:
            if p.id in seen:
                raise ValueError(f"priority id {p.id!r} is used twice")
            seen.add(p.id)
        return self

    @model_validator(mode="after")
    def _no_bot_hashtags_as_matchers(self) -> Config:
        return self._check_no_bot_hashtags_as_matchers()

    def _check_no_bot_hashtags_as_matchers(self) -> Config:
        # The bot's own hashtags are never matching inputs (DESIGN), so a matcher
        # on one would silently never match.
        own = _own_hashtags(self)
        sources = [(f"priorities[{i}]", p) for i, p in enumerate(self.priorities)]
        for where, matchers in sources + [("gate.exempt", self.gate.exempt)]:
            for tag in matchers.hashtags:
                if tag.lower() in own:
                    raise ValueError(f"{where}.hashtags: {tag!r} is a hashtag the bot writes "
                                     "itself (writeback), so it can never match a change")
        return self

    @model_validator(mode="after")
    def _pool_fits_the_web_lanes(self) -> Config:
        needed = self.web_lanes_total + POOL_RESERVE
        if self.database.pool_size is not None and self.database.pool_size < needed:
            raise ValueError(
                f"database.pool_size: {self.database.pool_size} is smaller than the web "
                f"process needs ({needed} = web.concurrency {self.web.concurrency} + "
                f"web.heavy_concurrency {self.web.heavy_concurrency} + {OPS_LANE} for "
                f"/healthz and /metrics + {POOL_RESERVE} reserved); raise it or leave it "
                "unset")
        return self

    @property
    def web_lanes_total(self) -> int:
        """Requests the web process serves at once, all lanes together."""
        return self.web.concurrency + self.web.heavy_concurrency + OPS_LANE

    @property
    def web_pool_size(self) -> int:
        """Database connections of the web process: every lane's request holds at most one,
        so no request ever waits on the pool (the lanes make the waiting, without a thread)."""
        return self.database.pool_size or self.web_lanes_total + POOL_RESERVE

    @property
    def gerrit_web_base(self) -> str:
        """Where links to changes point: `web.gerrit_link_base`, else the Gerrit URL."""
        return (self.web.gerrit_link_base or self.gerrit.url).rstrip("/")

    def priority(self, priority_id: str) -> Priority | None:
        return next((p for p in self.priorities if p.id == priority_id), None)


def _own_hashtags(config: Config) -> set[str]:
    wb = config.writeback
    own = {wb.priority_hashtag.lower(), wb.gated_hashtag.lower()}
    return own | {(wb.priority_hashtag_prefix + p.id).lower() for p in config.priorities}
