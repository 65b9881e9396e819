"""Evaluate: run the priority matchers and the gate over stored changes and store the verdicts.

`evaluate_change` is the pure core (snapshot and time in, verdict out); `evaluate_store`
is the pipeline step around it (store in, store out), incremental: it evaluates only the
changes whose rows moved since their verdict, unless something every verdict depends on
changed (the rules, who is core now, the bots, Launchpad data): then all of them.
`evaluate_as_of` answers for a past date and stores nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from reviewbot.clock import utcnow
from reviewbot.config import Config
from reviewbot.rules import exempt, freeze, gate
from reviewbot.rules.facts import read_facts
from reviewbot.rules.matchset import describe_unchecked
from reviewbot.rules.ruleset import RuleSet, ruleset_for
from reviewbot.rules.verdict import ChangeVerdict, GateVerdict, PriorityMatch
from reviewbot.store import session_scope
from reviewbot.store.launchpad_cache import facts_digest
from reviewbot.store.snapshots import load_changes
from reviewbot.store.state import get_state, set_state
from reviewbot.store.tables import Verdict
from reviewbot.store.verdicts import (
    VerdictRow,
    count_open,
    delete_verdicts,
    moved_since_evaluated,
    newest_update,
    out_of_scope,
    save_verdicts,
    verdict_rows,
)
from reviewbot.timeline.people import Roster
from reviewbot.timeline.roster import load_roster
from reviewbot.timeline.snapshot import GATE_STATES, ChangeSnapshot
from reviewbot.timeline.state import ChangeState, ReviewState, state_at

log = logging.getLogger(__name__)

# Bump when what a verdict holds, or how it is judged, changes: every change is evaluated
# again by the next `evaluate`.
RULES_VERSION = 3
FINGERPRINT_KEY = "evaluate.fingerprint"


def evaluate_change(
    change: ChangeSnapshot,
    config: Config | RuleSet,
    roster: Roster,
    at: datetime,
) -> ChangeVerdict:
    """Priority matches (with reasons), gate state (with a sentence) and review state at T.

    Priority matching reads the change's latest synced state whatever T is (DESIGN);
    the gate and the review state read the change as it stood at T (`reviewbot.timeline.state`)
    with core membership at T.
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
    matches.sort(key=lambda m: (m.rank, m.priority_id))
    classes = ChangeVerdict(change.number, tuple(matches), GateVerdict("closed", ""),
                            tuple(exempt_reasons), tuple(describe_unchecked(unchecked)))
    return judge_at(change, classes, rules, roster, at)


def judge_at(change: ChangeSnapshot, classes: ChangeVerdict, rules: RuleSet, roster: Roster,
             at: datetime) -> ChangeVerdict:
    """The gate and review state of the change as it stood at T, its priority matches and
    exemption taken from `classes` (judged on the latest synced state, which DESIGN says
    holds for past dates too): how a stored verdict answers for another time."""
    return judge_state(change, state_at(change, at, roster.username), classes, rules, roster)


def judge_state(change: ChangeSnapshot, state: ChangeState, classes: ChangeVerdict,
                rules: RuleSet, roster: Roster) -> ChangeVerdict:
    """`judge_at` for a state the caller already has."""
    frozen = None
    if (rules.freeze is not None and rules.freeze.in_effect(state.at) and state.is_open
            and not classes.priorities and not classes.exempt_reasons):
        frozen = freeze.judge(read_facts(change, roster, rules.bot_hashtags), rules.freeze,
                              state.at)
    verdict = gate.judge(
        change,
        state,
        classes.priorities,
        classes.exempt_reasons,
        roster=roster,
        min_plus1=rules.min_plus1,
        core_group=rules.core_group,
        in_scope=rules.tracks(change.project, change.branch),
        frozen=frozen,
        policy=rules.policy_for(change.branch),
    )
    return ChangeVerdict(
        number=change.number,
        priorities=classes.priorities,
        gate=verdict,
        exempt_reasons=classes.exempt_reasons,
        notes=classes.notes,
        review=state.review if verdict.state in GATE_STATES else None,
        revision=change.revision,
    )


def evaluate_changes(
    changes: Iterable[ChangeSnapshot], config: Config, roster: Roster, at: datetime
) -> list[ChangeVerdict]:
    """Evaluate many changes; one change that breaks a rule does not stop the others."""
    rules = ruleset_for(config)
    verdicts = []
    for change in changes:
        try:
            verdicts.append(evaluate_change(change, rules, roster, at))
        except Exception as exc:  # a rule bug must not hide every other change's verdict
            log.exception("evaluating change %s failed", change.number)
            verdicts.append(ChangeVerdict(
                change.number, (), GateVerdict("gated", f"Could not be evaluated ({exc!r}); "
                                               "treated as gated.", certain=False),
            ))
    return verdicts


def verdict_row(v: ChangeVerdict, evaluated_at: datetime) -> dict[str, Any]:
    """The stored form: `reasons` holds every sentence (matches, exemption, gate, notes);
    `matches` only the priority matches, so readers can rely on each naming a priority."""
    return {
        "change_number": v.number,
        "gate_state": v.gate.state,
        "gate_reason": v.gate.reason,
        "priorities": v.priority_ids,
        "rank": v.rank,
        "exempt": bool(v.exempt_reasons),
        "gate_certain": v.gate.certain,
        "reasons": v.reasons,
        "matches": [
            {"priority": p.priority_id, "title": p.title, "rank": p.rank,
             "reasons": list(p.reasons)}
            for p in v.priorities
        ],
        "evaluated_at": evaluated_at,
        "review_state": v.review.state if v.review else None,
        "review_reason": v.review.reason if v.review else "",
        "evaluated_revision": v.revision,
    }


def verdict_from_row(row: Verdict | VerdictRow) -> ChangeVerdict:
    """The stored form read back (`verdict_row`'s inverse)."""
    matches = tuple(PriorityMatch(m["priority"], m.get("title") or m["priority"],
                                  m.get("rank") or 0, tuple(m.get("reasons") or ()))
                    for m in row.matches or ())
    rest = list(row.reasons or ())[sum(len(m.reasons) for m in matches):]
    exempt_reasons = tuple(r.removeprefix("exempt: ") for r in rest[:-1]
                           if r.startswith("exempt: ")) if row.exempt else ()
    notes = tuple(rest[len(exempt_reasons) + 1:])
    review = (ReviewState(row.review_state, row.review_reason or "")
              if row.review_state else None)
    return ChangeVerdict(row.change_number, matches,
                         GateVerdict(row.gate_state, row.gate_reason or "",
                                     bool(row.gate_certain)),
                         exempt_reasons, notes, review, row.evaluated_revision)


def stored_verdicts(engine: Engine, config: Config | None = None) -> EvaluationResult:
    """Every stored verdict (the present), as `evaluate --json` prints them; with a team's
    `config` in a deployment of several teams, that team's only."""
    with session_scope(engine) as session:
        numbers = None
        if config is not None and config.deployment.several_teams:
            from sqlalchemy import select
            from sqlmodel import col

            from reviewbot.store.tables import Change

            numbers = list(session.execute(select(col(Change.number)).where(
                col(Change.project).in_(config.gerrit.projects))).scalars())
        rows = verdict_rows(session, numbers)
        verdicts = [verdict_from_row(rows[n]) for n in sorted(rows)]
    return _split(verdicts)


def stored_classes(session: Session, numbers: Sequence[int]) -> dict[int, ChangeVerdict]:
    """The stored verdicts of `numbers` (their priority matches and exemption, judged on the
    latest synced state), to judge those changes at another time with `judge_at`."""
    return {n: verdict_from_row(row) for n, row in verdict_rows(session, numbers).items()}


def fingerprint(config: Config, roster: Roster, at: datetime, launchpad: str) -> str:
    """Everything a verdict depends on besides its change's own rows: the rules (priorities,
    exemptions, gate, scope, the bot's hashtags), who is core at `at` (a `[[core_history]]`
    date passing changes it), the bots, and the cached Launchpad facts (their digest)."""
    facts = {
        "version": RULES_VERSION,
        "rules": config.model_dump(mode="json", include={
            "priorities", "gate", "writeback", "launchpad", "freeze", "branch_policy"}),
        # the freeze date passing changes every non-priority verdict
        "frozen": (config.freeze.enabled and config.cycle.feature_freeze is not None
                   and at.date() >= config.cycle.feature_freeze),
        "scope": [config.gerrit.projects, config.gerrit.branches, config.gerrit.core_group],
        "core": sorted(a for a in roster.ever_core() if roster.is_core(a, at)),
        "core_known": roster.core_known,
        "branch_cores": {g: sorted(m) for g, m in roster.groups.items()},
        "branch_cores_known": roster.groups_known,
        "bots": sorted(roster.bots),
        "launchpad": launchpad,
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    open: list[ChangeVerdict]
    other: list[ChangeVerdict]  # WIP and closed changes: priorities, but no gate
    open_total: int = 0  # open changes in scope (evaluated or not)
    full: bool = True  # every change was evaluated (not only the ones that moved)
    as_of: datetime | None = None

    @property
    def all(self) -> list[ChangeVerdict]:
        return self.open + self.other

    @property
    def evaluated(self) -> int:
        return len(self.open) + len(self.other)

    def summary(self) -> str:
        """One line: how much was evaluated, and the states of what was."""
        counts: dict[str, int] = {}
        for v in self.all:
            counts[v.gate.state] = counts.get(v.gate.state, 0) + 1
        states = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "nothing"
        if self.as_of is not None:
            return (f"evaluated {self.evaluated} changes as of {self.as_of:%Y-%m-%d %H:%M} UTC "
                    f"(not stored): {states}")
        if self.full:
            return f"evaluated all {self.evaluated} changes ({self.open_total:,} open): {states}"
        return (f"evaluated {self.evaluated} changed of {self.open_total:,} open: {states}")


def _split(verdicts: list[ChangeVerdict], *, open_total: int = 0, full: bool = True,
           as_of: datetime | None = None) -> EvaluationResult:
    return EvaluationResult([v for v in verdicts if v.gate.state in GATE_STATES],
                            [v for v in verdicts if v.gate.state not in GATE_STATES],
                            open_total, full, as_of)


def evaluate_store(
    engine: Engine,
    config: Config,
    *,
    numbers: Sequence[int] | None = None,
    now: datetime | None = None,
    full: bool = False,
) -> EvaluationResult:
    """Pipeline step: evaluate the changes that moved (or `numbers`, a webhook hint, or all
    with `full`) and store their verdicts.

    Verdicts of changes that left the scope are dropped. Open changes are loaded with
    their vote history and the owner's replies (gate reason, review state); WIP and
    closed ones keep their priority tags (reports count merged priority work).
    """
    now = now or utcnow()
    projects, branches = config.gerrit.projects, config.gerrit.branches
    with session_scope(engine) as session:
        roster = load_roster(session, config)
        current = fingerprint(config, roster, now, facts_digest(session))
        everything = full or get_state(session, config.state_key(FINGERPRINT_KEY)) != current
        wanted: list[int] | None
        if numbers is not None and not everything:
            wanted = sorted(set(numbers))
        else:
            wanted = None if everything else moved_since_evaluated(session, projects, branches)
        # At the present every change is live (nothing happened after now): its votes are
        # Gerrit's labels, and the history is read only for Code-Review (the newest -1,
        # the last non-core +1); a clock behind the data gets the whole history.
        labels = (("Code-Review",) if (newest_update(session, projects, branches) or now) <= now
                  else None)
        if wanted is None:
            # Closed changes need only their priority tags: no vote history.
            changes = load_changes(session, projects=projects, branches=branches,
                                   status=["NEW"], history=True, history_labels=labels)
            changes += load_changes(session, projects=projects, branches=branches,
                                    status=["MERGED", "ABANDONED"], history=False)
        elif wanted:
            changes = load_changes(session, numbers=wanted, projects=projects,
                                   branches=branches, history=True, history_labels=labels)
        else:
            changes = []
        # Out of the deployment's scope, not the team's: other teams' verdicts stay.
        whole = config.deployment.gerrit
        gone = out_of_scope(session, whole.projects, whole.branches)
        if numbers is not None:
            found = {c.number for c in changes}
            gone += [n for n in numbers if n not in found]
        open_total = count_open(session, projects, branches)
    verdicts = evaluate_changes(changes, config, roster, now)
    with session_scope(engine) as session:
        save_verdicts(session, [verdict_row(v, now) for v in verdicts])
        delete_verdicts(session, gone)
        if everything:
            set_state(session, config.state_key(FINGERPRINT_KEY), current)
    return _split(verdicts, open_total=open_total, full=everything)


def run_evaluation(engine: Engine, config: Config, now: datetime, *, full: bool = False
                   ) -> EvaluationResult:
    """The `reviewbot evaluate` command without --as-of: the incremental step."""
    return evaluate_store(engine, config, now=now, full=full)


def evaluate_as_of(engine: Engine, config: Config, at: datetime) -> EvaluationResult:
    """Every change in scope that existed at T, judged as it stood then; nothing is stored
    (the stored verdicts and write-back plans are the present's)."""
    with session_scope(engine) as session:
        roster = load_roster(session, config)
        changes = [c for c in load_changes(session, projects=config.gerrit.projects,
                                           branches=config.gerrit.branches, history=True)
                   if c.created <= at]
    return _split(evaluate_changes(changes, config, roster, at), as_of=at)

