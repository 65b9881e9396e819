"""Sandbox scenario material: what the generated changes are about, and what people and CI write.

Projects, Glance Ocata's real blueprint names (the priorities), bugs and files;
review texts, owners' replies, Zuul's reports and a few hostile strings (HTML a
page must escape). `draw_spec` picks a new change's story from them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from reviewbot.sandbox.cast import Reviewer

PROJECTS = ("openstack/glance", "openstack/python-glanceclient", "openstack/glance_store")

# (blueprint, topic style, files, subjects)
PRIORITY_WORK = (
    (
        "community-level-v2-image-sharing",
        (
            "glance/api/v2/images.py",
            "glance/db/sqlalchemy/api.py",
            "glance/api/v2/image_members.py",
        ),
        (
            "Add community visibility to images v2",
            "Allow sharing of community images",
            "Fix visibility filter for community images",
            "Add tests for community image listing",
        ),
    ),
    (
        "image-import-refactor",
        (
            "glance/api/v2/image_data.py",
            "glance/async/flows/base_import.py",
            "glance/api/v2/discovery.py",
        ),
        (
            "Add image import discovery call",
            "Refactor image import flow",
            "Introduce staging area for image import",
            "Add import method validation",
        ),
    ),
    (
        "rolling-upgrades",
        ("glance/db/migration.py", "glance/cmd/manage.py"),
        ("Add expand/migrate/contract commands to glance-manage", "Document rolling upgrades"),
    ),
    (
        "database-strategy-for-rolling-upgrades",
        (
            "glance/db/sqlalchemy/alembic_migrations/data_migrations/ocata_migrate01_community_images.py",
            "glance/db/sqlalchemy/alembic_migrations/versions/ocata_expand01_add_visibility.py",
        ),
        ("Add data migration for community images", "Add expand script for visibility column"),
    ),
    (
        "alembic-migrations",
        (
            "glance/db/sqlalchemy/alembic_migrations/env.py",
            "glance/db/sqlalchemy/alembic_migrations/versions/mitaka02_update_metadef_os_nova_server.py",
        ),
        ("Port Glance migrations to Alembic", "Remove sqlalchemy-migrate scripts"),
    ),
)
# config/sandbox.toml's priorities: every PRIORITY_WORK blueprint, and this bug (the
# community goal). The scenario needs to know so cores can skip the gate on them.
GOAL_BUG = 1639487
GOAL_TOPIC = "goal-remove-incubated-oslo-code"
BUGS = (
    GOAL_BUG,
    1631532,
    1633813,
    1640563,
    1646008,
    1651424,
    1653410,
    1655727,
    1658133,
    1659813,
    1643119,
    1647491,
)
BUG_WORK = (
    (("glance/api/v2/images.py",), "Fix 500 on image-list with invalid marker"),
    (("glance/common/wsgi.py",), "Return 400 on malformed JSON patch"),
    (
        ("glance/openstack/common/__init__.py", "glance/openstack/common/_i18n.py"),
        "Remove incubated oslo code",
    ),
    (("glance_store/_drivers/swift/store.py",), "Handle swift 404 on delete gracefully"),
    (("glanceclient/v2/images.py",), "Fix image-create --file with stdin"),
    (("glance/location.py",), "Check location metadata before update"),
    (("glance/registry/api/v1/images.py",), "Deprecate the registry v1 API cleanly"),
)
MISC_WORK = (
    (("doc/source/admin/troubleshooting.rst",), "Update troubleshooting docs"),
    (("glance/tests/unit/v2/test_images_resource.py",), "Use fixtures in image resource tests"),
    (("tox.ini",), "Switch tox to use constraints"),
    (("releasenotes/notes/ocata-prelude-0a1b2c3d.yaml",), "Add Ocata prelude release note"),
    (("glance/common/config.py",), "Improve help text of image cache options"),
    (("README.rst",), "Show team and repo badges on README"),
)
HOSTILE_SUBJECT = "Fix <script>alert(1)</script> in image name rendering"
HOSTILE_TEXT = "Try this name: <img src=x onerror=alert(1)> & <script>alert('xss')</script>"

PLUS_TEXT = ("LGTM", "Looks good to me, thanks.", "Nice cleanup.", "Tested locally, works.", "")
MINUS_TEXT = (
    "This breaks the v1 API; see inline comments for the failing case and a suggested fix.",
    "The migration is not idempotent when run twice; please add a test for the re-run case.",
    "Please split the refactor from the behaviour change so each can be reviewed alone.",
    "Missing a release note, and the new option needs help text explaining its default.",
)
SHORT_MINUS = ("-1", "needs work", "nit")
CORE_PLUS2 = ("Looks good.", "Thanks, this is what we discussed at the meeting.", "")
CORE_MINUS = (
    "See inline.",
    "We agreed at the summit to do this differently; see the spec.",
    "This needs a spec first.",
)
OWNER_REPLY = ("Done", "Thanks, addressed in the next patch set.", "Fixed, thanks!")
ZUUL_OK = (
    "Build succeeded (check pipeline).\n\n"
    "- gate-glance-pep8-ubuntu-xenial http://logs.openstack.org/ : SUCCESS in 4m 02s\n"
    "- gate-glance-python27-ubuntu-xenial http://logs.openstack.org/ : SUCCESS in 9m 41s"
)
ZUUL_FAIL = (
    "Build failed (check pipeline).  For information on how to proceed, see "
    "http://docs.openstack.org/infra/manual/developers.html#automated-testing\n\n"
    "- gate-glance-python27-ubuntu-xenial http://logs.openstack.org/ : FAILURE in 8m 13s"
)
ZUUL_GATE = "Build succeeded (gate pipeline)."


def draw_spec(
    rng: random.Random,
    index: int,
    cores: Sequence[str],
    noncores: Sequence[Reviewer],
    weights: Sequence[float],
) -> dict[str, Any]:
    """What the `index`th change is about: project, branch, owner, subject, files, footers.

    Draws from the cycle's `rng` in a fixed order (the seeded cycle depends on it), which
    is why it is one function of ~75 lines: every draw is in sight, in the order made."""
    roll = rng.random()
    project = rng.choices(PROJECTS, weights=(65, 20, 15))[0]
    branch = "stable/newton" if rng.random() < 0.05 else "master"
    owner = (
        rng.choice(cores)
        if rng.random() < 0.3
        else rng.choices([r.username for r in noncores], weights=weights)[0]
    )
    files: tuple[str, ...]
    spec: dict[str, Any] = {
        "project": project,
        "branch": branch,
        "owner": owner,
        "topic": None,
        "hashtags": (),
        "body": None,
        "wip": rng.random() < 0.08,
        "priority": False,
    }
    if index % 97 == 6:
        spec.update(
            subject=HOSTILE_SUBJECT,
            files=("glance/api/v2/images.py",),
            body=f"The name field was not escaped.\n\n{HOSTILE_TEXT}\n\nCloses-Bug: #1646008",
            topic="bug/1646008",
        )
    elif roll < 0.30:
        bp, files, subjects = rng.choice(PRIORITY_WORK)
        footer = rng.choice(("Implements", "Partially-Implements"))
        spec.update(
            subject=rng.choice(subjects),
            files=files,
            body=f"Work towards the Ocata priority.\n\n{footer}: blueprint {bp}",
            topic=f"bp/{bp}" if rng.random() < 0.7 else None,
            priority=True,
        )
    elif roll < 0.65:
        files, subject = rng.choice(BUG_WORK)
        bug = rng.choice(BUGS)
        kind = rng.choice(("Closes-Bug", "Closes-Bug", "Partial-Bug", "Related-Bug"))
        spec.update(
            subject=subject,
            files=files,
            body=f"{subject}.\n\n{kind}: #{bug}",
            topic=f"bug/{bug}" if rng.random() < 0.5 else None,
        )
        spec["priority"] = bug == GOAL_BUG
        if bug == GOAL_BUG and rng.random() < 0.5:
            spec["topic"] = GOAL_TOPIC
    elif roll < 0.73:
        spec.update(
            subject="Updated from global requirements",
            owner="proposal-bot",
            files=("requirements.txt", "test-requirements.txt"),
            topic="openstack/requirements",
            wip=False,
            project=project,
            body="Change-Id is managed by the proposal bot.",
        )
    else:
        files, subject = rng.choice(MISC_WORK)
        spec.update(subject=subject, files=files)
    if rng.random() < 0.04:
        spec["hashtags"] = (rng.choice(("ocata-rc-potential", "Community-Goal", "docs")),)
    return spec
