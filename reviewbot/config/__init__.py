"""Configuration: load one TOML file, validate it once, name the key path of any error.

Size: ~890 lines: declarative pydantic sections (one class per TOML section), the
[[team]] projection (`Config.for_team`) and branch policies. Per-section modules are the
natural split; not yet made (see the README's notes).
"""

from __future__ import annotations

import fnmatch
import os
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.types import SecretStr
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

from reviewbot.timeline.snapshot import TeamScope

DEFAULT_CONFIG_PATH = "config/reviewbot.toml"


class ConfigError(Exception):
    """A config problem, already phrased as `key.path: what is wrong`."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_glob(pattern: str) -> str:
    if not pattern:
        raise ValueError("empty glob")
    depth = 0
    for ch in pattern:
        if ch == "[":
            depth += 1
        elif ch == "]" and depth:
            depth -= 1
    if depth:
        raise ValueError(f"glob {pattern!r} has an unclosed '['")
    re.compile(fnmatch.translate(pattern))
    return pattern


class Matchers(_Section):
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
        return [_check_glob(p) for p in value]

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


class GerritSection(_Section):
    url: str = "https://review.opendev.org"
    projects: list[str] = []  # required unless [[team]] blocks list the projects
    branches: list[str] = ["master"]
    core_group: str = ""
    bot_group: str = "Service Users"
    bot_accounts: list[str] = []
    page_size: int = Field(default=500, ge=1, le=10000)
    timeout: float = Field(default=30.0, gt=0)
    retries: int = Field(default=4, ge=0, le=10)
    slack_seconds: int = Field(default=300, ge=0)
    reconcile_every: int = Field(default=12, ge=1)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


SCHEMES = ("sqlite", "postgresql", "postgres", "postgresql+psycopg")
CREATED_FOLDER = Path("data")  # the default data folder: a store under it may create it


def sqlite_file(url: str) -> Path | None:
    """The file of a `sqlite:///PATH` URL (None: not SQLite, or in memory)."""
    if not url.startswith("sqlite:///") or url.startswith("sqlite:///:memory:"):
        return None
    return Path(url[len("sqlite:///"):]).expanduser()


def sqlite_folder_problem(url: str) -> str | None:
    """Why the SQLite file's folder cannot be used, or None.

    A missing folder is created only under the default data/ folder: anywhere else it is
    a typo more often than a wish, and creating it would put the store where nobody looks.
    """
    path = sqlite_file(url)
    if path is None or path.parent.is_dir():
        return None
    if not path.is_absolute() and path.parts[:1] == CREATED_FOLDER.parts:
        return None
    if path.parent.exists():
        return f"{str(path.parent)!r} is not a folder"
    return (f"the folder {str(path.parent)!r} does not exist; create it first (only a "
            f"store under {CREATED_FOLDER}/ gets its folder made)")


class DatabaseSection(_Section):
    url: str = "sqlite:///reviewbot.db"
    # Connections the web process may hold at once; None: exactly what [web] needs
    # (Config.web_pool_size). Command-line tools and the worker keep SQLAlchemy's default.
    pool_size: int | None = Field(default=None, ge=1, le=1000)
    # A request that still finds every connection taken answers 503 after this long,
    # instead of waiting on the pool for ever.
    pool_timeout: float = Field(default=10.0, gt=0, le=300)

    @field_validator("url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        scheme = value.partition(":")[0].lower() if "://" in value else ""
        if scheme not in SCHEMES:
            # Only the scheme is named: the rest of a URL may carry a password.
            raise ValueError(f"{'scheme ' + repr(scheme) if scheme else 'this'} is not a "
                             "supported database: use sqlite:///PATH or "
                             "postgresql://USER@HOST:PORT/NAME")
        if scheme == "sqlite" and not (value.startswith("sqlite:///") or value == "sqlite://"):
            raise ValueError("a SQLite URL is sqlite:///relative/path.db or "
                             "sqlite:////absolute/path.db")
        problem = sqlite_folder_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class LaunchpadSection(_Section):
    enabled: bool = False
    service_root: str = "production"
    project: str = ""
    cache_ttl: int = Field(default=86400, ge=0)
    timeout: float = Field(default=10.0, gt=0)
    deadline_seconds: float = Field(default=60.0, gt=0)


class CycleSection(_Section):
    name: str
    start: date
    end: date
    feature_freeze: date | None = None
    rc: date | None = None  # first release candidate
    release: date | None = None
    milestones: dict[str, date] = {}

    @model_validator(mode="after")
    def _order(self) -> CycleSection:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        # The schedule runs start <= feature freeze <= RC <= release <= end; a date out of
        # that order is a typo that would make the freeze begin at the wrong time.
        named = [("start", self.start), ("feature_freeze", self.feature_freeze),
                 ("rc", self.rc), ("release", self.release), ("end", self.end)]
        given = [(k, d) for k, d in named if d is not None]
        for (k1, d1), (k2, d2) in zip(given, given[1:], strict=False):
            if d2 < d1:
                raise ValueError(f"{k2} ({d2}) must not be before {k1} ({d1})")
        return self


class FreezeSection(_Section):
    """After `cycle.feature_freeze`, non-priority feature work leaves the core queue."""

    enabled: bool = False
    exception_hashtag: str = "ffe"
    bug_tags: list[str] = []  # Launchpad tags marking release-critical bugs

    @field_validator("exception_hashtag")
    @classmethod
    def _hashtag(cls, value: str) -> str:
        if "," in value or not value.strip() or value != value.strip():
            raise ValueError("must be one hashtag: not empty, no commas or surrounding spaces")
        return value


class BranchPolicy(_Section):
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
        return _check_glob(value)


def branch_policy_for(policies: list[BranchPolicy], branch: str) -> BranchPolicy | None:
    """The first policy whose pattern matches `branch` (config order), or None: the default."""
    return next((p for p in policies if fnmatch.fnmatchcase(branch, p.pattern)), None)


class Priority(Matchers):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    title: str
    rank: int = Field(ge=1)
    owners: list[str] = []
    spec: str | None = None


class GateSection(_Section):
    min_noncore_plus1: int = Field(default=1, ge=1)
    exempt: Matchers = Matchers()


class WritebackSection(_Section):
    enabled: bool = False
    dry_run: bool = True
    priority_hashtag: str = "review-priority"
    gated_hashtag: str = "needs-noncore-review"
    priority_hashtag_prefix: str = "priority-"
    gated_message: bool = False
    gated_message_text: str = (
        "This change is not one of the cycle's review priorities, so the core reviewers "
        "will look at it once a non-core reviewer has +1'd the current patch set. "
        "Reviews from anyone are welcome."
    )

    @field_validator("priority_hashtag", "gated_hashtag", "priority_hashtag_prefix")
    @classmethod
    def _no_commas(cls, value: str) -> str:
        if "," in value or not value.strip():
            raise ValueError("hashtags may not be empty or contain commas")
        return value


class Criteria(_Section):
    min_reviews: int | None = Field(default=None, ge=0)
    max_disagreement_ratio: float | None = Field(default=None, ge=0, le=1)
    min_minus1_catch_rate: float | None = Field(default=None, ge=0, le=1)
    min_thoughtful_minus1: int | None = Field(default=None, ge=0)
    min_months_active: float | None = Field(default=None, ge=0)
    min_priority_share: float | None = Field(default=None, ge=0, le=1)
    min_plus1_precision: float | None = Field(default=None, ge=0, le=1)
    min_gate_opens: int | None = Field(default=None, ge=0)


class StandingSection(_Section):
    window_days: int = Field(default=180, ge=1)
    # Evidence first: a ratio criterion needs this many reviews behind it to be met.
    min_evidence: int = Field(default=20, ge=1)
    criteria: Criteria = Criteria()


class CoreHistoryEntry(_Section):
    username: str
    joined: date
    left: date | None = None

    @model_validator(mode="after")
    def _order(self) -> CoreHistoryEntry:
        if self.left is not None and self.left < self.joined:
            raise ValueError("left must not be before joined")
        return self


class ReportSection(_Section):
    stale_days: int = Field(default=14, ge=1)


class WorkerSection(_Section):
    poll_seconds: int = Field(default=300, ge=5)
    # The leader's lease: renewed every third of it; a frozen leader is replaced
    # within about this long (see leadership.py).
    lease_seconds: int = Field(default=60, ge=3)


class WebSection(_Section):
    gerrit_link_base: str | None = None
    # Requests served at once, per lane (dashboards.admission): each holds at most one
    # database connection and one thread; the rest wait their turn holding neither.
    # Python threads share one interpreter lock: past a few CPU-bound requests at once, more
    # only slows each (bench/web_load.py: 8+2 served as many requests as 16+4, faster).
    concurrency: int = Field(default=8, ge=1, le=500)
    heavy_concurrency: int = Field(default=2, ge=1, le=100)  # report and standing pages
    # Server processes (uvicorn workers); each has its own lanes and pool, so the database
    # sees up to workers x database pool connections.
    workers: int = Field(default=1, ge=1, le=64)
    # How long an idle client connection stays open. Longer than a proxy's or a busy
    # client's idle time (nginx and cloud load balancers: 60 s), so nobody sends a request
    # on a connection the server is closing at that instant (uvicorn's own default is 5 s).
    keep_alive_seconds: int = Field(default=75, ge=1, le=3600)


# Connections a web process needs besides its lanes: /healthz and /metrics (their own lane
# of OPS_LANE), the queue cache's change watcher, a webhook refresh or admin cycle.
OPS_LANE = 2
POOL_RESERVE = 3


class SmtpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=25, ge=1, le=65535)
    sender: str | None = None
    username: str | None = None  # the password comes from REVIEWBOT_SMTP_PASSWORD
    starttls: bool = False
    timeout: float = Field(default=30.0, gt=0)


class MatrixSettings(_Section):
    homeserver: str | None = None  # the token comes from REVIEWBOT_MATRIX_TOKEN
    timeout: float = Field(default=30.0, gt=0)

    @field_validator("homeserver")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value


class DigestSubscriber(_Section):
    username: str = Field(min_length=1)
    email: str | None = None
    matrix_room: str | None = None
    daily: bool = True
    weekly: bool = False
    team: str | None = None  # whose queues and report (a [[team]] name); default the first

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value

    @field_validator("matrix_room")
    @classmethod
    def _room(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[!#][^:\s]+:\S+", value):
            raise ValueError(f"{value!r} is not a Matrix room id (!id:server) or alias "
                             "(#name:server)")
        return value

    @model_validator(mode="after")
    def _somewhere(self) -> DigestSubscriber:
        if not self.email and not self.matrix_room:
            raise ValueError("needs an email or a matrix_room to send the digest to")
        return self


class DigestSection(_Section):
    """Daily per-core digests and the weekly PTL summary: off unless enabled, opt-in."""

    enabled: bool = False
    dashboard_url: str | None = None  # where the links in a digest point
    weekly_day: int = Field(default=0, ge=0, le=6)  # 0 = Monday
    top: int = Field(default=5, ge=1, le=50)
    smtp: SmtpSettings = SmtpSettings()
    matrix: MatrixSettings = MatrixSettings()
    subscribers: list[DigestSubscriber] = []

    @model_validator(mode="after")
    def _channels(self) -> DigestSection:
        seen: set[str] = set()
        for i, sub in enumerate(self.subscribers):
            if sub.username in seen:
                raise ValueError(f"subscribers[{i}].username: {sub.username!r} is listed twice")
            seen.add(sub.username)
            if sub.email and not self.smtp.sender:
                raise ValueError(f"subscribers[{i}].email: needs digest.smtp.sender (the From "
                                 "address)")
            if sub.matrix_room and not self.matrix.homeserver:
                raise ValueError(f"subscribers[{i}].matrix_room: needs digest.matrix.homeserver")
        return self



# --- teams: several teams in one deployment ------------------------------------------
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


class TeamSection(_Section):
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


def _team_problems(config: Config) -> list[str]:
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


def _subscriber_problems(config: Config, names: list[str]) -> list[str]:
    return [f"digest.subscribers[{i}].team: unknown team {sub.team!r}; the config's teams "
            f"are: {', '.join(names)}"
            for i, sub in enumerate(config.digest.subscribers)
            if sub.team is not None and sub.team not in names]


def _resolved_team(config: Config, team: TeamSection) -> TeamSection:
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


def _narrowed(config: Config, team: TeamSection) -> Config:
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


class Config(_Section):
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
    _narrowings: dict = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _one_or_more_teams(self) -> Config:
        if not self.teams:
            # No [[team]] blocks: the top-level keys are the one team, as before teams.
            if not self.gerrit.projects:
                raise ValueError("gerrit.projects: is required (the Gerrit projects to "
                                 "follow), or declare [[team]] blocks")
            self._team = IMPLICIT_TEAM  # `teams` stays empty: see all_teams
            problems = _subscriber_problems(self, [IMPLICIT_TEAM])
            if problems:
                raise ValueError("\n".join(problems))
            return self
        problems = _team_problems(self) + _subscriber_problems(self, [t.name for t in self.teams])
        if problems:
            raise ValueError("\n".join(problems))
        self.teams = [_resolved_team(self, t) for t in self.teams]
        for i, team in enumerate(self.teams):
            # The per-priority checks below, on each team's own priorities.
            narrowed = _narrowed(self, team)
            for check in (Config._check_unique_priorities,
                          Config._check_no_bot_hashtags_as_matchers):
                try:
                    check(narrowed)
                except ValueError as exc:
                    raise ValueError(f"team[{i}].{exc}" if str(exc).startswith("priorities")
                                     else f"team[{i}].priorities: {exc}") from None
        if len(self.teams) == 1:
            # A deployment of one team is that team, as a config without [[team]] is.
            one = _narrowed(self, self.teams[0])
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
            whole._narrowings[key] = _narrowed(whole, team)
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


class Secrets(BaseSettings):
    """Credentials, read from the environment only (REVIEWBOT_*), never from the config file.

    pydantic-settings reads them (no .env file, no secrets directory: nothing but the
    process environment); every credential is a SecretStr, so repr, str, logs, JSON
    dumps and error messages show `**********`. Only the code that sends one to its
    server calls `.get_secret_value()`. An empty variable counts as unset.
    """

    model_config = SettingsConfigDict(env_prefix="REVIEWBOT_", env_ignore_empty=True,
                                      extra="ignore", frozen=True)

    gerrit_username: str | None = None  # a name, not a secret
    gerrit_password: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    admin_token: SecretStr | None = None
    smtp_password: SecretStr | None = None
    matrix_token: SecretStr | None = None

    @classmethod
    def from_env(cls) -> Secrets:
        """The credentials set in this process's environment (REVIEWBOT_GERRIT_PASSWORD, ...)."""
        return cls()


def secret_value(secret: SecretStr | None) -> str | None:
    """The plain text of a credential, for the one call that sends it (None when unset)."""
    return secret.get_secret_value() if secret is not None else None


def _key_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path or "(top level)"


def _phrase(error: ErrorDetails) -> str:
    ctx = error.get("ctx") or {}
    kind = error["type"]
    if kind == "greater_than_equal":
        return f"must be >= {ctx['ge']}"
    if kind == "greater_than":
        return f"must be > {ctx['gt']}"
    if kind == "less_than_equal":
        return f"must be <= {ctx['le']}"
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known key"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return error["msg"]


def validate_config(data: dict[str, Any]) -> Config:
    """Validate a parsed TOML mapping; raise ConfigError listing `key.path: problem` lines."""
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if p not in ("function-after",))
            phrase = _phrase(error)
            if not loc and re.match(r"^[a-z_]+([.\[][\w.\[\]]*)?: ", phrase):
                # a whole-file check that already names its key (one line per problem)
                problems.extend(phrase.split("\n"))
            else:
                problems.append(f"{_key_path(loc)}: {phrase}")
        raise ConfigError(problems) from None


def config_path(explicit: str | None = None) -> Path:
    return Path(explicit or os.environ.get("REVIEWBOT_CONFIG") or DEFAULT_CONFIG_PATH)


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate the TOML file; every failure is a ConfigError."""
    file = config_path(str(path) if path else None)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError([f"{file}: cannot read config file ({exc.strerror})"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{file}: not valid TOML ({exc})"]) from None
    return validate_config(data)
