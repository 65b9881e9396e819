"""Cycles: the present cycle (the config) and the past ones (the store), and the rollover.

The config's `[cycle]` and `[[priorities]]` are the present cycle, always. `cycle-start`
archives a cycle's definition in the store (`cycle` table) before the config moves on,
so that:

- the report of any past cycle reads as it did at that cycle's end (its dates, its
  priorities matched on the changes' latest synced state, as DESIGN says for any past
  date), by `config_for_cycle` giving the report a config of that cycle;
- the bot knows which priority hashtags it owned then (`priority_hashtag_prefix` + each
  past priority id) and can take them off the changes still under review. Only names
  the bot owned in a stored cycle and does not own now are ever removed; hashtags it
  never owned, and everything on merged or abandoned changes, stay as they are.

The rollover's hashtag plan is `reviewbot.actions.rollover`; its writes go through
`writeback_send.write_plans`, the apply step's own dry-run, logging, 403 memory and read-back
machinery.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from reviewbot.clock import day_start
from reviewbot.config import Config, CycleSection, Priority
from reviewbot.store.cycles import all_cycles, get_cycle, save_cycle
from reviewbot.store.tables import Cycle


class UnknownCycle(LookupError):
    """No cycle of that name: neither the config's nor one in the store."""

    def __init__(self, name: str, known: Sequence[str]):
        self.name = name
        self.known = list(known)
        listed = ", ".join(self.known) or "none yet"
        super().__init__(f"unknown cycle {name!r}: the present cycle and the archived ones are "
                         f"{listed}")


def cycle_values(config: Config, now: datetime) -> dict[str, Any]:
    """The `cycle` row of the config's present cycle."""
    c = config.cycle
    return {
        "name": c.name, "start": c.start, "end": c.end,
        "definition": c.model_dump(mode="json"),
        "priorities": [p.model_dump(mode="json", exclude_defaults=True)
                       for p in config.priorities],
        "priority_hashtag_prefix": config.writeback.priority_hashtag_prefix,
        "recorded": now,
    }


def archive_present(session: Session, config: Config, now: datetime) -> Cycle:
    """Write the config's present cycle to the store (again: a re-run updates it)."""
    return save_cycle(session, cycle_values(config, now))


def cycle_names(session: Session, config: Config) -> list[str]:
    """The present cycle first, then the stored ones, newest first."""
    names = [config.cycle.name]
    names += [row.name for row in all_cycles(session) if row.name != config.cycle.name]
    return names


def config_for_cycle(config: Config, row: Cycle) -> Config:
    """The config as it was for a stored cycle: its `[cycle]` and `[[priorities]]`, the
    rest (Gerrit, scope, gate, report settings) as configured now."""
    return config.model_copy(update={
        "cycle": CycleSection.model_validate(row.definition),
        "priorities": [Priority.model_validate(p) for p in row.priorities],
    })


def end_of(config: Config) -> datetime:
    """The last moment of the cycle's end day (DESIGN dates are UTC days)."""
    return day_start(config.cycle.end) + timedelta(days=1) - timedelta(seconds=1)


@dataclass(frozen=True)
class ReportCycle:
    """Which cycle a report is about: its config, and whether it is a past one."""

    config: Config
    past: bool
    names: list[str]  # every cycle a report can show, the present first

    def as_of(self, asked: datetime | None, now: datetime) -> datetime:
        """A past cycle's report reads as of its end unless a date is asked for."""
        if asked is not None:
            return asked
        return min(now, end_of(self.config)) if self.past else now


def report_cycle(session: Session, config: Config, name: str | None) -> ReportCycle:
    """The config a report of cycle `name` (None: the present) is built from."""
    names = cycle_names(session, config)
    if name is None or name == config.cycle.name:
        return ReportCycle(config, False, names)
    row = get_cycle(session, name)
    if row is None:
        raise UnknownCycle(name, names)
    return ReportCycle(config_for_cycle(config, row), True, names)
