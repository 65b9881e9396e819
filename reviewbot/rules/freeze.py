"""Rule: feature freeze — after `cycle.feature_freeze`, non-priority feature work waits.

A change stays in review after the freeze when it fixes a bug (`Closes-Bug` or
`Partial-Bug` footer; `Related-Bug` only mentions one), cites a bug carrying one
of the configured release-critical Launchpad tags (cached facts), or carries the
freeze-exception hashtag the PTL grants. Priorities and gate exemptions are
decided before this rule and are not feature work it holds back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from reviewbot.config import Config
from reviewbot.rules.facts import ChangeFacts
from reviewbot.rules.launchpad_matchers import compile_bug_tags

NAME = "freeze"
FIX_FOOTERS = ("Closes-Bug", "Partial-Bug")


@dataclass(frozen=True, slots=True)
class Freeze:
    """The freeze settings of one config, compiled."""

    since: date
    exception_hashtag: str
    bug_tags: tuple[str, ...] = ()

    def in_effect(self, at: datetime | date) -> bool:
        """True from the freeze date on (DESIGN dates are UTC days)."""
        day = at.date() if isinstance(at, datetime) else at
        return day >= self.since

    @property
    def reason(self) -> str:
        return (f"Feature freeze since {self.since:%Y-%m-%d}: feature work waits for the next "
                "cycle unless granted an exception (hashtag "
                f"{self.exception_hashtag}).")

    @property
    def notice(self) -> str:
        """The one line the queue and priorities pages show after the freeze."""
        tags = f", a release-critical bug tag ({', '.join(self.bug_tags)})" if self.bug_tags \
            else ""
        return (f"Feature freeze since {self.since:%Y-%m-%d}: only cycle priorities, exempt "
                f"changes, bug fixes (Closes-Bug or Partial-Bug){tags} and changes with the "
                f"freeze-exception hashtag {self.exception_hashtag} are in the core queues.")


def compile_freeze(config: Config) -> Freeze | None:
    """The freeze of this config, or None when it is switched off."""
    if not config.freeze.enabled or config.cycle.feature_freeze is None:
        return None
    return Freeze(config.cycle.feature_freeze, config.freeze.exception_hashtag,
                  tuple(config.freeze.bug_tags))


def allowed(facts: ChangeFacts, freeze: Freeze) -> list[str]:
    """Every reason the change may stay in review during the freeze (empty: it may not)."""
    reasons = [f"bug {n} ({where})" for n, where in sorted(facts.bugs.items())
               if where.removesuffix(" footer") in FIX_FOOTERS]
    tags = compile_bug_tags(list(freeze.bug_tags))
    if tags is not None:
        reasons += tags(facts)
    granted = facts.hashtags.get(freeze.exception_hashtag.lower())
    if granted is not None:
        reasons.append(f"freeze exception (hashtag {granted})")
    return reasons


def judge(facts: ChangeFacts, freeze: Freeze | None, at: datetime) -> str | None:
    """The reason the change is frozen at T, or None when it is not (no freeze, before the
    freeze date, or a bug fix / release-critical / exception)."""
    if freeze is None or not freeze.in_effect(at):
        return None
    if allowed(facts, freeze):
        return None
    return freeze.reason


def notice_at(config: Config, at: datetime) -> str | None:
    """The pages' one-line notice at T: set once the freeze is in effect, else None."""
    freeze = compile_freeze(config)
    return freeze.notice if freeze is not None and freeze.in_effect(at) else None
