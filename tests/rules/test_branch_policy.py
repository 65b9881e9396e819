"""Branch policies: stable branches without the non-core gate, and a stable-maint core group."""

from __future__ import annotations

import pytest

from reviewbot.config import ConfigError
from reviewbot.evaluate.verdicts import evaluate_change
from reviewbot.rules.freeze import compile_freeze
from tests.rules.factory import ALICE, BASE_CONFIG, CORE, NOW, config, make_change, roster

STABLE = "stable/2024.1"
STABLE_MAINT = 50  # in glance-stable-maint, not in glance-core
GERRIT = {**BASE_CONFIG["gerrit"], "branches": ["master", STABLE, "bugfix/x"]}
POLICIES = [{"pattern": "stable/*", "gate": False, "core_group": "glance-stable-maint"},
            {"pattern": "bugfix/*", "core_group": "glance-stable-maint"}]
PRIORITY = [{"id": "prio", "title": "Image Import Refactor", "rank": 3,
             "blueprints": ["image-import-refactor"]}]
CFG = config(gerrit=GERRIT, branch_policy=POLICIES, priorities=PRIORITY,
             cycle={**BASE_CONFIG["cycle"], "feature_freeze": "2017-01-15"},
             freeze={"enabled": True})
# The same before the freeze is switched on: the votes decide on a gated branch.
OPEN_SEASON = config(gerrit=GERRIT, branch_policy=POLICIES, priorities=PRIORITY)
PEOPLE = {"groups": {"glance-stable-maint": frozenset({STABLE_MAINT})},
          "groups_known": {"glance-stable-maint": True},
          "usernames": {**roster().usernames, STABLE_MAINT: "sally"}}
FROZEN = ("Feature freeze since 2017-01-15: feature work waits for the next cycle unless "
          "granted an exception (hashtag ffe).")

ROWS = [
    # (id, config, change kwargs, roster overrides, state, reason)
    ("stable-no-gate", CFG, {"branch": STABLE}, PEOPLE,
     "open", "stable/2024.1: no non-core gate on stable/* branches; core reviewers review it "
     "directly."),
    ("stable-priority-still-priority", CFG, {"branch": STABLE, "topic": "bp/image-import-refactor"},
     PEOPLE, "priority", "Cycle priority: Image Import Refactor (rank 3); core reviewers review "
     "it without waiting for a non-core +1."),
    # After the feature freeze, master feature work is frozen; a stable backport is not.
    ("master-frozen", CFG, {}, PEOPLE, "frozen", FROZEN),
    ("stable-not-frozen", CFG, {"branch": STABLE}, PEOPLE, "open",
     "stable/2024.1: no non-core gate on stable/* branches; core reviewers review it "
     "directly."),
    # A gated branch whose core group is stable-maint: their +1 is a core's there ...
    ("stable-maint-plus1-is-core-there", OPEN_SEASON,
     {"branch": "bugfix/x", "votes": [(STABLE_MAINT, 1)]}, PEOPLE,
     "gated", "Not a cycle priority; waiting for a non-core +1 on patch set 1 (no non-core"
     " reviewer has +1'd it yet; core reviewer sally's +1 does not count toward the "
     "non-core gate)."),
    # ... and the project core's +1 is a non-core's there (Gerrit gives them no +2 on it).
    ("project-core-plus1-opens-there", OPEN_SEASON,
     {"branch": "bugfix/x", "votes": [(CORE, 1)]}, PEOPLE,
     "open", "Open for core review: non-core +1 from carol on patch set 1."),
    ("hidden-stable-maint", OPEN_SEASON, {"branch": "bugfix/x", "votes": [(ALICE, 1)]},
     {**PEOPLE, "groups_known": {"glance-stable-maint": False},
      "groups": {"glance-stable-maint": frozenset()}},
     "gated", "Not a cycle priority; the gate cannot be judged: core group membership unknown "
     "(Gerrit returned no members for glance-stable-maint), so the +1 from alice on patch set "
     "1 may be a core reviewer's."),
]


@pytest.mark.parametrize(("cfg", "change", "people", "state", "reason"),
                         [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_branch_policy_gate(cfg, change, people, state, reason):
    assert compile_freeze(CFG) is not None
    verdict = evaluate_change(make_change(**change), cfg, roster(**people), NOW)
    assert (verdict.gate.state, verdict.gate.reason) == (state, reason)


def test_without_a_policy_a_branch_keeps_todays_gate():
    plain = config(gerrit=GERRIT)
    verdict = evaluate_change(make_change(branch=STABLE), plain, roster(), NOW)
    assert verdict.gate.state == "gated"


def test_first_matching_policy_wins_and_a_pattern_must_match_a_tracked_branch():
    cfg = config(gerrit=GERRIT, branch_policy=[{"pattern": "stable/2024.*", "gate": True},
                                               {"pattern": "stable/*", "gate": False}])
    assert evaluate_change(make_change(branch=STABLE), cfg, roster(), NOW).gate.state == "gated"
    with pytest.raises(ConfigError) as err:
        config(gerrit=GERRIT, branch_policy=[{"pattern": "stabel/*", "gate": False}])
    assert err.value.problems == [
        "branch_policy[0].pattern: 'stabel/*' matches none of gerrit.branches ['master', "
        "'stable/2024.1', 'bugfix/x']; list the branches to track there"]
