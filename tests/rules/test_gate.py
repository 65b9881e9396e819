"""The non-core +1 gate, one row per situation a core reviewer would recognise."""

from datetime import datetime

import pytest

from reviewbot.evaluate.verdicts import evaluate_change
from reviewbot.rules.ruleset import bot_hashtags
from reviewbot.timeline.people import CoreSpell
from tests.rules.factory import (
    ALICE,
    BOB,
    BOT,
    CORE,
    NOW,
    OWNER,
    UPLOADER,
    config,
    make_change,
    roster,
)

CONFIG = config(
    priorities=[{"id": "prio", "title": "Image Import Refactor", "rank": 3,
                 "blueprints": ["image-import-refactor"]}],
    gate={"exempt": {"owners": ["proposal-bot"], "topics": ["openstack/requirements"]}},
)
TWO = config(gate={"min_noncore_plus1": 2})
WAIT1 = "Not a cycle priority; waiting for a non-core +1 on patch set 1"
NONE_YET = "no non-core reviewer has +1'd it yet"

ROWS = [
    # (id, config, change kwargs, roster overrides, state, reason)
    ("noncore-plus1-opens", CONFIG, {"votes": [(ALICE, 1)]}, {},
     "open", "Open for core review: non-core +1 from alice on patch set 1."),
    ("owner-plus1", CONFIG, {"votes": [(OWNER, 1)], "history": [(1, OWNER, 1)]}, {},
     "gated", f"{WAIT1} ({NONE_YET}; the owner's own +1 does not count)."),
    ("uploader-plus1", CONFIG,
     {"patch_sets": 2, "uploaders": {2: UPLOADER}, "votes": [(UPLOADER, 1)]}, {},
     "gated", "Not a cycle priority; waiting for a non-core +1 on patch set 2 "
     f"({NONE_YET}; the +1 from ursula, who uploaded patch set 2, does not count)."),
    ("bot-plus1", CONFIG, {"votes": [(BOT, 1)]}, {},
     "gated", f"{WAIT1} ({NONE_YET}; the bot zuul's +1 does not count)."),
    ("core-plus1", CONFIG, {"votes": [(CORE, 1)]}, {},
     "gated", f"{WAIT1} ({NONE_YET}; core reviewer carol's +1 does not count toward the "
     "non-core gate)."),
    ("older-patch-set-only", CONFIG, {"patch_sets": 7, "history": [(6, ALICE, 1)]}, {},
     "gated", "Not a cycle priority; waiting for a non-core +1 on patch set 7 (the last "
     "non-core +1 was on patch set 6, before the new upload)."),
    ("older-plus1-withdrawn", CONFIG,
     {"patch_sets": 7, "history": [(6, ALICE, 1), (6, ALICE, -1)]}, {},
     "gated", f"Not a cycle priority; waiting for a non-core +1 on patch set 7 ({NONE_YET})."),
    ("minus1-only", CONFIG, {"votes": [(ALICE, -1)], "history": [(1, ALICE, -1)]}, {},
     "gated", f"{WAIT1} ({NONE_YET})."),
    ("two-required-one-present", TWO, {"votes": [(ALICE, 1)]}, {},
     "gated", "Not a cycle priority; 1 of 2 non-core +1s on patch set 1, waiting for 1 more."),
    ("two-required-two-present", TWO, {"votes": [(ALICE, 1), (BOB, 1)]}, {},
     "open", "Open for core review: non-core +1s from alice and bob on patch set 1."),
    ("exempt-owner", CONFIG, {"owner_id": 40}, {},
     "exempt", "Exempt from the non-core +1 gate: owner proposal-bot."),
    ("exempt-topic", CONFIG, {"topic": "openstack/requirements"}, {},
     "exempt", "Exempt from the non-core +1 gate: topic openstack/requirements."),
    ("priority-bypass", CONFIG, {"topic": "bp/image-import-refactor"}, {},
     "priority", "Cycle priority: Image Import Refactor (rank 3); core reviewers review it "
     "without waiting for a non-core +1."),
    ("wip", CONFIG, {"wip": True, "votes": [(ALICE, 1)]}, {},
     "wip", "Work in progress; the gate applies once the owner marks it ready for review."),
    ("merged", CONFIG, {"status": "MERGED"}, {},
     "closed", "Merged; the gate applies only to open changes."),
    ("abandoned", CONFIG, {"status": "ABANDONED"}, {},
     "closed", "Abandoned; the gate applies only to open changes."),
    ("untracked-branch", CONFIG, {"branch": "stable/newton"}, {},
     "untracked", "Not tracked: openstack/glance (stable/newton) is outside the configured "
     "projects and branches."),
    ("core-group-unknown", CONFIG, {"votes": [(ALICE, 1)]},
     {"core_now": frozenset(), "core_known": False},
     "gated", "Not a cycle priority; the gate cannot be judged: core group membership unknown "
     "(Gerrit returned no members for glance-core), so the +1 from alice on patch set 1 may "
     "be a core reviewer's."),
    ("core-group-unknown-no-votes", CONFIG, {}, {"core_now": frozenset(), "core_known": False},
     "gated", f"{WAIT1} ({NONE_YET})."),
    ("core-group-unknown-history-decides", CONFIG, {"votes": [(ALICE, 1)]},
     {"core_now": frozenset(), "core_known": False,
      "history": {ALICE: (CoreSpell(datetime(2014, 1, 1), datetime(2015, 1, 1)),)}},
     "open", "Open for core review: non-core +1 from alice on patch set 1."),
]


@pytest.mark.parametrize(("cfg", "change", "people", "state", "reason"),
                         [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_gate(cfg, change, people, state, reason):
    verdict = evaluate_change(make_change(**change), cfg, roster(**people), NOW)
    assert (verdict.gate.state, verdict.gate.reason) == (state, reason)


def test_unknown_core_membership_is_flagged_uncertain():
    unknown = roster(core_now=frozenset(), core_known=False)
    verdict = evaluate_change(make_change(votes=[(ALICE, 1)]), CONFIG, unknown, NOW)
    assert verdict.gate.certain is False
    sure = evaluate_change(make_change(votes=[(ALICE, 1)]), CONFIG, roster(), NOW)
    assert sure.gate.certain is True


def test_priority_change_keeps_reasons_and_best_rank():
    cfg = config(priorities=[
        {"id": "a", "title": "A", "rank": 4, "files": ["glance/db/*"]},
        {"id": "b", "title": "B", "rank": 2, "topics": ["t"]},
        {"id": "c", "title": "C", "rank": 1, "topics": ["other"]},
    ])
    change = make_change(topic="t", files=("glance/db/api.py",))
    verdict = evaluate_change(change, cfg, roster(), NOW)
    assert verdict.priority_ids == ["b", "a"]
    assert verdict.rank == 2
    assert verdict.gate.state == "priority"
    assert "A: file glance/db/api.py matches glance/db/*" in verdict.reasons


def test_bot_written_hashtags_never_make_a_priority():
    # check-config refuses matchers on the bot's own hashtags; the rules ignore them too.
    cfg = config(priorities=[{"id": "p", "title": "P", "rank": 1, "hashtags": ["ocata"]}])
    assert bot_hashtags(cfg) == {"review-priority", "needs-noncore-review", "priority-p"}
    mine = make_change(hashtags=("Review-Priority", "priority-p", "needs-noncore-review"))
    assert evaluate_change(mine, cfg, roster(), NOW).priorities == ()
    theirs = make_change(hashtags=("Ocata", "review-priority"))
    verdict = evaluate_change(theirs, cfg, roster(), NOW)
    assert verdict.priorities[0].reasons == ("hashtag Ocata",)


def test_change_without_message_or_files_still_evaluates_and_says_why():
    cfg = config(priorities=[{"id": "p", "title": "P", "rank": 1,
                              "blueprints": ["x"], "files": ["glance/db/*"]}])
    change = make_change(commit_message=None, files=None, votes=[(ALICE, 1)])
    verdict = evaluate_change(change, cfg, roster(), NOW)
    assert verdict.gate.state == "open"
    assert verdict.notes == (
        "no commit message synced: blueprint/bug footers and message regexes could not be "
        "checked",
        "no file list synced: file globs could not be checked",
    )
    assert verdict.reasons[-2:] == list(verdict.notes)


def test_priority_owners_are_people_not_a_change_matcher():
    # The priority document's owners lead the work; their other changes are not priority work.
    cfg = config(priorities=[{"id": "p", "title": "P", "rank": 1, "owners": ["owen"],
                              "topics": ["t"]}])
    assert evaluate_change(make_change(), cfg, roster(), NOW).priorities == ()


def test_json_shape():
    data = evaluate_change(make_change(votes=[(ALICE, 1)]), CONFIG, roster(), NOW).as_json()
    assert {k: data[k] for k in ("number", "gate", "priorities")} == {
        "number": 100, "gate": "open", "priorities": []}
    assert all(isinstance(r, str) for r in data["reasons"])
