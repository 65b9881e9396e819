"""Configuration: the package's public names (Config, load_config, validate_config, ...).

Every step imports its settings from here (`from reviewbot.config import Config`): this is
the package's public entry point, so it re-exports the names its modules define:
sections.py (the TOML sections), matching.py (matchers, branch policies), teams.py
([[team]] narrowing), model.py (Config), credentials.py (Secrets), load.py (reading the
file) and errors.py (ConfigError).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reviewbot.config.errors import ConfigError
from reviewbot.config.load import DEFAULT_CONFIG_PATH, config_path, load_config, validate_config
from reviewbot.config.matching import (
    BranchPolicy,
    GateSection,
    Matchers,
    Priority,
    branch_policy_for,
)
from reviewbot.config.model import Config
from reviewbot.config.sections import (
    CREATED_FOLDER,
    OPS_LANE,
    POOL_RESERVE,
    SCHEMES,
    CoreHistoryEntry,
    Criteria,
    CycleSection,
    DatabaseSection,
    DigestSection,
    DigestSubscriber,
    FreezeSection,
    GerritSection,
    LaunchpadSection,
    MatrixSettings,
    ReportSection,
    SmtpSettings,
    StandingSection,
    WebSection,
    WorkerSection,
    WritebackSection,
    sqlite_file,
    sqlite_folder_problem,
)
from reviewbot.config.teams import IMPLICIT_TEAM, TeamSection, UnknownTeam

__all__ = [
    "CREATED_FOLDER",
    "DEFAULT_CONFIG_PATH",
    "IMPLICIT_TEAM",
    "OPS_LANE",
    "POOL_RESERVE",
    "SCHEMES",
    "BranchPolicy",
    "Config",
    "ConfigError",
    "CoreHistoryEntry",
    "Criteria",
    "CycleSection",
    "DatabaseSection",
    "DigestSection",
    "DigestSubscriber",
    "FreezeSection",
    "GateSection",
    "GerritSection",
    "LaunchpadSection",
    "Matchers",
    "MatrixSettings",
    "Priority",
    "ReportSection",
    "Secrets",
    "SmtpSettings",
    "StandingSection",
    "TeamSection",
    "UnknownTeam",
    "WebSection",
    "WorkerSection",
    "WritebackSection",
    "branch_policy_for",
    "config_path",
    "load_config",
    "secret_value",
    "sqlite_file",
    "sqlite_folder_problem",
    "validate_config",
]


if TYPE_CHECKING:
    from reviewbot.config.credentials import Secrets, secret_value


def __getattr__(name: str) -> Any:
    # Secrets load on first use: pydantic-settings costs ~0.1 s of start-up, and the
    # everyday read commands (queue, reviewers, why) never touch a credential.
    if name in ("Secrets", "secret_value"):
        from reviewbot.config import credentials

        return getattr(credentials, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
