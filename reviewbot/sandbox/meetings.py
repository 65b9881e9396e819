"""Sandbox scenario promotions: the team meetings that promote non-cores to core.

The team promotes non-cores to core the way real teams do: at a team meeting
every few weeks it looks at who has reviewed steadily over the last months and
agreed with the cores more often than not, and adds at most one person to
`glance-core` (the group's audit log records the date, which sync reads as their
promotion); now and then it promotes a quiet, careful reviewer instead of the
busiest one. From then on that person reviews as a core.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from reviewbot.sandbox.cast import Reviewer
from reviewbot.sandbox.state import State

# Promotions: the first team meeting this long after the history starts, then one every
# MEETING_EVERY; each looks back over RECORD_WEEKS of reviews.
FIRST_MEETING = timedelta(days=84)
MEETING_EVERY = timedelta(days=91)  # quarterly
RECORD_WEEKS = 12
STEADY_WEEKS = 8  # weeks of the record with a review, to count as sustained reviewing
QUIET_WEEKS = 4  # ... for a quiet promotion, with high agreement instead
QUIET_AGREEMENT = 0.8
MIN_JUDGED = 15  # votes the cores also voted on, before agreement means anything
MIN_CAUGHT = 3  # -1s a core confirmed: the team wants someone who finds problems
QUIET_CHANCE = 0.35  # chance a meeting promotes the quiet, careful candidate
MAX_PROMOTIONS = 4


def choose_promotion(
    sb: State, day: datetime, noncores: Sequence[Reviewer], cores: Sequence[str],
    rng: random.Random,
) -> str | None:
    """Whom a team meeting on `day` promotes, if anyone.

    The team reads the record the sandbox holds up to `day`: per non-core, the weeks
    of the last RECORD_WEEKS with a Code-Review vote on someone else's change, how
    often their vote's sign matched the last core vote cast after it on the same
    patch set, and how many of their -1s a core confirmed that way. A steady
    reviewer (STEADY_WEEKS) who agrees more often than not is a candidate; the
    busiest one is promoted, or now and then (QUIET_CHANCE) a quiet reviewer with
    fewer weeks but QUIET_AGREEMENT or better. Promotions draw from a Random of their own
    (`rng`), so the rest of the cycle is the one the seed always gave until someone is
    promoted."""
    since = day - timedelta(weeks=RECORD_WEEKS)
    names = {sb.account_id(r.username): r.username for r in noncores}
    weeks: dict[str, set[int]] = {n: set() for n in names.values()}
    votes: dict[str, int] = dict.fromkeys(names.values(), 0)
    agree: dict[str, int] = dict.fromkeys(names.values(), 0)
    judged: dict[str, int] = dict.fromkeys(names.values(), 0)
    caught: dict[str, int] = dict.fromkeys(names.values(), 0)  # -1s a core confirmed
    for change in sb.changes.values():
        for ps in change.patch_sets:
            # The votes standing on the patch set (as a person glancing at it sees
            # them), those already cast by the meeting.
            cr = [(a, v.date, v.value) for a, v in ps.approvals.get("Code-Review", {}).items()
                  if v.date <= day and v.date >= ps.created]
            # What the cores said last on the patch set, and when.
            core_votes = sorted((date, v) for a, date, v in cr
                                if v and sb.accounts[a].username in cores)
            for a, date, v in cr:
                who = names.get(a)
                if who is None or not v or a == change.owner or date < since:
                    continue
                votes[who] += 1
                weeks[who].add((day - date).days // 7)
                if core_votes and core_votes[-1][0] > date:  # a core decided after them
                    judged[who] += 1
                    agree[who] += (v > 0) == (core_votes[-1][1] > 0)
                    caught[who] += v < 0 and core_votes[-1][1] < 0

    def share(n: str) -> float:
        return agree[n] / judged[n] if judged[n] else 0.0

    # Agrees more often than not, and finds problems too (not only approves).
    fair = [n for n in names.values() if judged[n] >= MIN_JUDGED
            and 2 * agree[n] > judged[n] and caught[n] >= MIN_CAUGHT]
    steady = [n for n in fair if len(weeks[n]) >= STEADY_WEEKS]
    quiet = [n for n in fair if len(weeks[n]) >= QUIET_WEEKS and share(n) >= QUIET_AGREEMENT
             and n not in steady]
    if quiet and rng.random() < QUIET_CHANCE:
        return max(quiet, key=lambda n: (share(n), n))
    if steady:
        return max(steady, key=lambda n: (len(weeks[n]), votes[n], n))
    return None
