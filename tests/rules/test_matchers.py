"""Topic, hashtag, file, message, change-number, owner matchers and project/branch restrictions."""

from dataclasses import replace

import pytest

from reviewbot.config import Matchers
from reviewbot.rules import MATCHER_RULES, DuplicateRuleError, register
from reviewbot.rules.matchset import RESTRICTIONS
from tests.rules.factory import make_change, reasons, unchecked

GOAL = "goal-remove-incubated-oslo-code"


@pytest.mark.parametrize(
    ("values", "topic", "expected"),
    [
        ([GOAL], GOAL, [f"topic {GOAL}"]),
        ([GOAL], GOAL.upper(), []),  # topics are case-sensitive
        ([GOAL], GOAL + "-2", []),
        (["goal-*"], GOAL, [f"topic {GOAL} (matches goal-*)"]),
        (["goal-*"], "Goal-x", []),
        ([GOAL], None, []),
    ],
    ids=["exact", "case-sensitive", "no-prefix-without-star", "star-prefix",
         "star-prefix-case", "no-topic"],
)
def test_topics(values, topic, expected):
    assert reasons({"topics": values}, make_change(topic=topic)) == expected


@pytest.mark.parametrize(
    ("values", "hashtags", "bot", "expected"),
    [
        (["ocata-priority"], ("Ocata-Priority",), (), ["hashtag Ocata-Priority"]),
        (["OCATA-PRIORITY"], ("ocata-priority", "x"), (), ["hashtag ocata-priority"]),
        (["ocata-priority"], ("other",), (), []),
        # The bot's own hashtags never feed back into matching.
        (["review-priority"], ("review-priority",), ("review-priority",), []),
    ],
    ids=["case-insensitive", "config-case", "absent", "bot-own-hashtag"],
)
def test_hashtags(values, hashtags, bot, expected):
    change = make_change(hashtags=hashtags)
    assert reasons({"hashtags": values}, change, bot_hashtags=frozenset(bot)) == expected


MIGRATIONS = "glance/db/sqlalchemy/alembic_migrations/*"


@pytest.mark.parametrize(
    ("globs", "files", "expected"),
    [
        ([MIGRATIONS], ("glance/db/sqlalchemy/alembic_migrations/env.py",),
         ["file glance/db/sqlalchemy/alembic_migrations/env.py matches " + MIGRATIONS]),
        # `*` crosses `/` (fnmatch semantics).
        ([MIGRATIONS], ("glance/db/sqlalchemy/alembic_migrations/versions/ocata01.py",),
         ["file glance/db/sqlalchemy/alembic_migrations/versions/ocata01.py matches "
          + MIGRATIONS]),
        (["*.rst"], ("doc/a.rst", "doc/b.rst", "x.py"),
         ["file doc/a.rst matches *.rst (and 1 more)"]),
        (["glance/db/*"], ("glance/api/v2/images.py",), []),
        (["*COMMIT_MSG"], ("/COMMIT_MSG",), []),  # /COMMIT_MSG is not a file
        (["Glance/*"], ("glance/x.py",), []),  # case-sensitive
        (["glance/[ab]*.py"], ("glance/api.py",), ["file glance/api.py matches glance/[ab]*.py"]),
    ],
    ids=["plain", "star-crosses-slash", "several-files", "no-match", "commit-msg",
         "case-sensitive", "char-class"],
)
def test_files(globs, files, expected):
    assert reasons({"files": globs}, make_change(files=files)) == expected


@pytest.mark.parametrize(
    ("regex", "message", "expected"),
    [
        ("OcataPriority", "Fix x\n\nOcataPriority\n", ["commit message matches /OcataPriority/ "
                                                        "('OcataPriority')"]),
        ("(?i)ocatapriority", "Fix x\n\nOCATAPRIORITY\n",
         ["commit message matches /(?i)ocatapriority/ ('OCATAPRIORITY')"]),
        ("^Fix", "Refactor\n\nFix later\n", []),  # re.search without MULTILINE: ^ is the start
        ("PikePriority", "Fix x\n", []),
        ("PikePriority", None, []),
    ],
    ids=["search", "inline-flag", "anchored", "absent", "no-message"],
)
def test_message(regex, message, expected):
    assert reasons({"message": regex}, make_change(commit_message=message)) == expected


def test_changes_listed():
    assert reasons({"changes": [100, 7]}, make_change(100)) == ["change 100 is listed"]
    assert reasons({"changes": [7]}, make_change(100)) == []


def test_owner_by_username_through_the_roster():
    assert reasons({"owners": ["owen"]}, make_change()) == ["owner owen"]
    assert reasons({"owners": ["alice"]}, make_change()) == []
    # An owner with no known username cannot be recognised.
    assert reasons({"owners": ["owen"]}, make_change(owner_id=999)) == []


@pytest.mark.parametrize(
    ("restrict", "project", "branch", "matches"),
    [
        ({}, "openstack/glance_store", "stable/ocata", True),
        ({"projects": ["openstack/glance"]}, "openstack/glance", "master", True),
        ({"projects": ["openstack/glance"]}, "openstack/glance_store", "master", False),
        ({"branches": ["master"]}, "openstack/glance", "stable/ocata", False),
        ({"projects": ["openstack/glance"], "branches": ["master"]}, "openstack/glance",
         "master", True),
    ],
    ids=["no-restriction", "project-in", "project-out", "branch-out", "both-in"],
)
def test_projects_and_branches_restrict_other_matchers(restrict, project, branch, matches):
    change = make_change(topic=GOAL, project=project, branch=branch)
    assert bool(reasons({"topics": [GOAL], **restrict}, change)) is matches


def test_restrictions_alone_select_nothing():
    assert reasons({"projects": ["openstack/glance"]}, make_change()) == []


def test_several_matchers_are_ored_and_every_reason_is_kept():
    change = make_change(topic=GOAL, hashtags=("ocata",))
    assert reasons({"topics": [GOAL], "hashtags": ["ocata"]}, change) == [
        f"topic {GOAL}", "hashtag ocata"
    ]


def test_missing_message_and_files_are_reported_not_silently_unmatched():
    change = replace(make_change(), commit_message=None, files=None)
    matchers = {"blueprints": ["x"], "message": "x", "files": ["*.py"], "topics": ["t"]}
    assert reasons(matchers, change) == []
    assert unchecked(matchers, change) == {"commit message", "files"}
    # Matchers that need neither leave nothing unchecked.
    assert unchecked({"topics": ["t"]}, change) == set()


def test_registry_covers_every_matcher_key_once():
    keys = set(Matchers.model_fields) - set(RESTRICTIONS)
    assert set(MATCHER_RULES) == keys


def test_registry_refuses_duplicate_names():
    rule = MATCHER_RULES["topics"]
    with pytest.raises(DuplicateRuleError, match="'topics' is registered twice"):
        register([rule, rule])
