"""The feature-freeze rule: after the freeze date, feature work waits; fixes and exceptions stay."""

from datetime import datetime

import pytest

from reviewbot.config import ConfigError
from reviewbot.evaluate.verdicts import evaluate_change
from tests.rules.factory import ALICE, BASE_CONFIG, config, make_change, roster

CYCLE = {**BASE_CONFIG["cycle"], "feature_freeze": "2017-01-26", "rc": "2017-02-09",
         "release": "2017-02-20"}
FREEZE = config(
    cycle=CYCLE,
    freeze={"enabled": True, "exception_hashtag": "ffe", "bug_tags": ["ocata-rc-potential"]},
    priorities=[{"id": "prio", "title": "Image Import Refactor", "rank": 3,
                 "blueprints": ["image-import-refactor"]}],
    gate={"exempt": {"topics": ["openstack/requirements"]}},
)
OFF = config(cycle=CYCLE, freeze={"enabled": False})
BEFORE = datetime(2017, 1, 25, 23, 59)
ON_THE_DAY = datetime(2017, 1, 26, 0, 0)
AFTER = datetime(2017, 2, 1)
FROZEN = ("Feature freeze since 2017-01-26: feature work waits for the next cycle unless "
          "granted an exception (hashtag ffe).")
MSG = "Do a thing\n\n{footer}\nChange-Id: I0123\n"
LP_RC = {("bug", "1650000"): {"importance": "High", "status": "In Progress",
                              "tags": ["ocata-rc-potential"]}}
LP_OTHER = {("bug", "1650000"): {"importance": "Low", "status": "New", "tags": ["docs"]}}

ROWS = [
    # (id, config, time, change kwargs, gate state, reason or None to skip the reason check)
    ("feature-before-freeze", FREEZE, BEFORE, {"votes": [(ALICE, 1)]}, "open", None),
    ("feature-on-freeze-day", FREEZE, ON_THE_DAY, {"votes": [(ALICE, 1)]}, "frozen", FROZEN),
    ("feature-after-freeze", FREEZE, AFTER, {}, "frozen", FROZEN),
    ("closes-bug-stays", FREEZE, AFTER,
     {"commit_message": MSG.format(footer="Closes-Bug: #1650000")}, "gated", None),
    ("partial-bug-stays", FREEZE, AFTER,
     {"commit_message": MSG.format(footer="Partial-Bug: 1650000"), "votes": [(ALICE, 1)]},
     "open", None),
    ("related-bug-is-not-a-fix", FREEZE, AFTER,
     {"commit_message": MSG.format(footer="Related-Bug: #1650000")}, "frozen", FROZEN),
    ("release-critical-tag-stays", FREEZE, AFTER,
     {"topic": "bug/1650000", "launchpad": LP_RC}, "gated", None),
    ("other-tag-frozen", FREEZE, AFTER,
     {"topic": "bug/1650000", "launchpad": LP_OTHER}, "frozen", FROZEN),
    ("exception-hashtag-stays", FREEZE, AFTER, {"hashtags": ("FFE",)}, "gated", None),
    ("priority-stays", FREEZE, AFTER, {"topic": "bp/image-import-refactor"}, "priority", None),
    ("exempt-stays", FREEZE, AFTER, {"topic": "openstack/requirements"}, "exempt", None),
    ("wip-is-wip", FREEZE, AFTER, {"wip": True}, "wip", None),
    ("merged-is-closed", FREEZE, AFTER, {"status": "MERGED"}, "closed", None),
    ("switched-off", OFF, AFTER, {"votes": [(ALICE, 1)]}, "open", None),
]


@pytest.mark.parametrize(("cfg", "at", "change", "state", "reason"),
                         [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_freeze(cfg, at, change, state, reason):
    verdict = evaluate_change(make_change(**change), cfg, roster(), at)
    assert verdict.gate.state == state
    if reason is not None:
        assert verdict.gate.reason == reason
    if state == "frozen":  # still an open change with a review state
        assert verdict.review is not None


def test_freeze_needs_its_date_and_dates_in_order():
    with pytest.raises(ConfigError) as err:
        config(freeze={"enabled": True})
    assert err.value.problems == [
        "freeze.enabled: needs cycle.feature_freeze (the date the freeze begins)"]
    with pytest.raises(ConfigError) as err:
        config(cycle={**CYCLE, "rc": "2017-01-20"})
    assert err.value.problems == [
        "cycle: rc (2017-01-20) must not be before feature_freeze (2017-01-26)"]
    with pytest.raises(ConfigError) as err:
        config(cycle=CYCLE, freeze={"enabled": True, "exception_hashtag": "needs-noncore-review"})
    assert "is a hashtag the bot writes itself" in err.value.problems[0]


def test_notice_names_the_way_out():
    from reviewbot.rules.ruleset import ruleset_for
    notice = ruleset_for(FREEZE).freeze.notice
    assert notice.startswith("Feature freeze since 2017-01-26:")
    assert "ocata-rc-potential" in notice and "ffe" in notice
