"""Launchpad matchers read the cached facts keyed ("bug", "N") / ("blueprint", "name")."""

import pytest

from tests.rules.factory import make_change, reasons, unchecked

MSG = "Fix\n\nCloses-Bug: #1639487\nImplements: blueprint rolling-upgrades\n"
CACHE = {
    ("bug", "1639487"): {"importance": "High", "status": "In Progress",
                         "tags": ["ocata-rc-potential", "db"]},
    ("blueprint", "rolling-upgrades"): {"priority": "High", "definition_status": "Approved",
                                        "implementation_status": "Started",
                                        "milestone": "ocata-3", "series": "ocata"},
}


@pytest.mark.parametrize(
    ("matchers", "expected"),
    [
        ({"lp_bug_tags": ["OCATA-RC-POTENTIAL"]},
         ["bug 1639487 has Launchpad tag ocata-rc-potential"]),
        ({"lp_bug_tags": ["security"]}, []),
        ({"lp_bug_importance": ["critical", "high"]},
         ["bug 1639487 has Launchpad importance High"]),
        ({"lp_bug_importance": ["Low"]}, []),
        ({"lp_blueprint_series": ["ocata"]},
         ["blueprint rolling-upgrades targets Launchpad series ocata"]),
        ({"lp_blueprint_series": ["pike"]}, []),
    ],
    ids=["tag", "tag-absent", "importance", "importance-other", "series", "series-other"],
)
def test_launchpad_matchers_on_cached_facts(matchers, expected):
    change = make_change(commit_message=MSG, launchpad=CACHE)
    assert reasons(matchers, change) == expected


def test_bug_from_topic_is_looked_up_too():
    change = make_change(topic="bug/1639487", launchpad=CACHE)
    assert reasons({"lp_bug_importance": ["High"]}, change) == [
        "bug 1639487 has Launchpad importance High"
    ]


def test_uncached_ids_are_reported_as_unchecked():
    change = make_change(commit_message=MSG, launchpad={})
    matchers = {"lp_bug_tags": ["db"], "lp_blueprint_series": ["ocata"]}
    assert reasons(matchers, change) == []
    assert unchecked(matchers, change) == {"launchpad:bug 1639487",
                                           "launchpad:blueprint rolling-upgrades"}
