"""Evaluate: run the priority matchers and the gate over stored changes and store the verdicts.

`evaluate_change` is the pure core (snapshot in, verdict out); `run_evaluation`
is the pipeline step around it (store in, store out).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from reviewbot.clock import utcnow
from reviewbot.config import Config
from reviewbot.people import Roster
from reviewbot.rules import exempt, gate
from reviewbot.rules.facts import read_facts
from reviewbot.rules.matchset import describe_unchecked
from reviewbot.rules.ruleset import RuleSet, ruleset_for
from reviewbot.rules.verdict import GATE_STATES, ChangeVerdict, GateVerdict, PriorityMatch
from reviewbot.snapshot import ChangeSnapshot
from reviewbot.store import session_scope
from reviewbot.store.snapshots import load_changes, load_roster
from reviewbot.store.verdicts import delete_verdicts, save_verdicts

log = logging.getLogger(__name__)


def evaluate_change(
    change: ChangeSnapshot,
    config: Config | RuleSet,
    roster: Roster,
    now: datetime | None = None,
) -> ChangeVerdict:
    """Priority matches (with reasons) and gate state (with a sentence) for one change.

    Priority matching reads the change's latest synced state whatever `now`
    is (DESIGN); the gate reads Gerrit's current votes and core membership
    now. `now` is accepted so callers state the evaluation time explicitly.
    """
    rules = config if isinstance(config, RuleSet) else ruleset_for(config)
    facts = read_facts(change, roster, rules.bot_hashtags)
    matches: list[PriorityMatch] = []
    unchecked: set[str] = set()
    for cp in rules.priorities:
        reasons, missing = cp.matchers.match(facts)
        if reasons:
            p = cp.priority
            matches.append(PriorityMatch(p.id, p.title, p.rank, tuple(reasons)))
        else:
            unchecked |= missing
    exempt_reasons: list[str] = []
    if not matches:
        exempt_reasons = exempt.judge(facts, rules.exempt)
    verdict = gate.judge(
        change,
        matches,
        exempt_reasons,
        roster=roster,
        min_plus1=rules.min_plus1,
        core_group=rules.core_group,
        in_scope=rules.tracks(change.project, change.branch),
    )
    matches.sort(key=lambda m: (m.rank, m.priority_id))
    return ChangeVerdict(
        number=change.number,
        priorities=tuple(matches),
        gate=verdict,
        exempt_reasons=tuple(exempt_reasons),
        notes=tuple(describe_unchecked(unchecked)),
    )


def evaluate_changes(
    changes: Iterable[ChangeSnapshot], config: Config, roster: Roster, now: datetime
) -> list[ChangeVerdict]:
    """Evaluate many changes; one change that breaks a rule does not stop the others."""
    rules = ruleset_for(config)
    verdicts = []
    for change in changes:
        try:
            verdicts.append(evaluate_change(change, rules, roster, now))
        except Exception as exc:  # a rule bug must not hide every other change's verdict
            log.exception("evaluating change %s failed", change.number)
            verdicts.append(ChangeVerdict(
                change.number, (), GateVerdict("gated", f"Could not be evaluated ({exc!r}); "
                                               "treated as gated.", certain=False),
            ))
    return verdicts


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    open: list[ChangeVerdict]
    other: list[ChangeVerdict]  # WIP and closed changes: priorities, but no gate

    @property
    def all(self) -> list[ChangeVerdict]:
        return self.open + self.other

    @property
    def evaluated(self) -> int:
        return len(self.open) + len(self.other)


def evaluate_store(
    engine: Engine,
    config: Config,
    *,
    numbers: Sequence[int] | None = None,
    now: datetime | None = None,
) -> EvaluationResult:
    """Pipeline step: evaluate changes in the configured projects/branches and store verdicts.

    With `numbers` only those changes are re-evaluated (a webhook hint);
    without, every change is, and verdicts of changes that left the scope are
    dropped. Open changes are loaded with their vote history (the gate reason
    uses it); WIP and closed ones keep their priority tags (reports count
    merged priority work) and a not-gated state.
    """
    now = now or utcnow()
    projects, branches = config.gerrit.projects, config.gerrit.branches
    with session_scope(engine) as session:
        roster = load_roster(session, config)
        if numbers is not None:
            changes = load_changes(session, numbers=list(numbers), projects=projects,
                                   branches=branches, history=True)
        else:
            changes = load_changes(session, projects=projects, branches=branches,
                                   status=["NEW"], history=True)
            changes += load_changes(session, projects=projects, branches=branches,
                                    status=["MERGED", "ABANDONED"], history=False)
    verdicts = evaluate_changes(changes, config, roster, now)
    with session_scope(engine) as session:
        save_verdicts(session, verdicts, now, prune=numbers is None)
        if numbers is not None:
            # A hinted change that moved out of scope must not keep an old verdict.
            delete_verdicts(session, set(numbers) - {v.number for v in verdicts})
    return EvaluationResult(
        [v for v in verdicts if v.gate.state in GATE_STATES],
        [v for v in verdicts if v.gate.state not in GATE_STATES],
    )


def run_evaluation(engine: Engine, config: Config, now: datetime) -> EvaluationResult:
    """Evaluate everything (the `reviewbot evaluate` command)."""
    return evaluate_store(engine, config, now=now)


def evaluate_one(engine: Engine, config: Config, number: int, now: datetime
                 ) -> tuple[ChangeSnapshot, ChangeVerdict, Roster] | None:
    """Fresh verdict for one stored change (for `why`), or None if it is not stored."""
    with session_scope(engine) as session:
        found = load_changes(session, numbers=[number], include_missing=True, history=True)
        if not found:
            return None
        roster = load_roster(session, config)
    return found[0], evaluate_change(found[0], config, roster, now), roster
