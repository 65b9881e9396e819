"""Cycle: what a step's result records (its plain detail, its soft failure), and a per-team
step's results over the teams of a deployment."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, is_dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

from reviewbot.config import Config

R = TypeVar("R")
# A step's recorded detail keeps its plain values only (see _plain).
Scalar = int | float | str | bool | None


@dataclass(frozen=True)
class TeamResults(Generic[R]):
    """A per-team step's results by team name, in the deployment's team order (one entry
    for a config of one team)."""

    by_team: dict[str, R]

    def total(self, count: Callable[[R], int]) -> int:
        """One count of the results summed over the teams (what the cycle summary shows)."""
        return sum(count(result) for result in self.by_team.values())

    def recorded(self) -> tuple[dict[str, Scalar], str | None]:
        """The step's recorded detail and its soft failure (see _soft_failure).

        One team's result is recorded as is. Among several, each team's values are
        under `TEAM.name` and the numbers summed under their own name, placed where
        they first appear; the teams' soft failures are joined under `reason`."""
        if len(self.by_team) == 1:
            [result] = self.by_team.values()
            return _plain(result), _soft_failure(result)
        detail: dict[str, Scalar] = {}
        sums: dict[str, int | float] = {}
        reasons = []
        for team, result in self.by_team.items():
            for key, value in _plain(result).items():
                detail[f"{team}.{key}"] = value
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    sums[key] = sums.get(key, 0) + value
                    detail[key] = sums[key]
            problem = _soft_failure(result)
            if problem:
                reasons.append(f"team {team}: {problem}")
        reason = "; ".join(reasons) or None
        if reason:
            detail["reason"] = reason
        return detail, _trouble(sums.get("errors"), reason, sums.get("failed"))


def each_team(config: Config, work: Callable[[Config], R]) -> TeamResults[R]:
    """Run a per-team step for each team of the deployment."""
    if config.team_name is not None:
        return TeamResults({config.team_name: work(config)})
    # team_configs() is the deployment's teams narrowed in turn, in team_names' order.
    return TeamResults({name: work(team) for name, team
                        in zip(config.team_names, config.team_configs(), strict=True)})


def _soft_failure(result: object) -> str | None:
    """Steps that never raise (Launchpad) report trouble in their summary instead."""
    return _trouble(getattr(result, "errors", None), getattr(result, "reason", None),
                    getattr(result, "failed", None))


def _trouble(errors: object, reason: object, failed: object) -> str | None:
    """A step's soft failure from its `errors` (and `reason`) or its `failed` writes (the
    write-back's: writes Gerrit refused or lost)."""
    if isinstance(errors, int) and errors > 0:
        return str(reason or f"{errors} errors")
    if isinstance(failed, int) and failed > 0:
        return f"{failed} writes failed"
    return None


def recorded(result: object) -> tuple[dict[str, Scalar], str | None]:
    """A step's recorded detail and soft failure, whichever step it is."""
    if isinstance(result, TeamResults):
        return result.recorded()
    return _plain(result), _soft_failure(result)


def _plain(result: object) -> dict[str, Scalar]:
    """A JSON-friendly view of a step's result, for the recorded summary."""
    if result is None:
        return {}
    if isinstance(result, int):
        return {"count": result}
    data: Mapping[str, object]
    if isinstance(result, dict):
        data = result
    elif is_dataclass(result) and not isinstance(result, type):
        data = asdict(result)
    elif isinstance(result, BaseModel):
        data = result.model_dump()
    else:
        data = vars(result) if hasattr(result, "__dict__") else {"value": str(result)}
    return {k: v for k, v in data.items()
            if isinstance(v, (int, float, str, bool)) or v is None}
