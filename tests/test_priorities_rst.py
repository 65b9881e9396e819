"""priorities-from-rst: Glance's published priorities become a draft that validates as config."""

from __future__ import annotations

import tomllib

import pytest

from reviewbot.cli import main
from reviewbot.config.priorities_rst import draft_toml, parse_priorities, slugify
from reviewbot.config.rst_tables import RstError
from tests.conftest import PRIORITIES_RST
from tests.rules.factory import config

CYCLES = ["newton", "ocata", "pike"]


def _rst(cycle: str) -> str:
    return (PRIORITIES_RST / f"{cycle}-priorities.rst").read_text()


@pytest.mark.parametrize("cycle", CYCLES)
def test_draft_parses_as_toml_and_validates_as_config(cycle):
    draft = tomllib.loads(draft_toml(_rst(cycle)))
    cfg = config(priorities=draft["priorities"])
    assert [p.rank for p in cfg.priorities] == list(range(1, len(cfg.priorities) + 1))


def test_ocata_items_owners_blueprints_and_bugs():
    draft = tomllib.loads(draft_toml(_rst("ocata")))["priorities"]
    assert [(p["id"], p["title"], p["rank"]) for p in draft] == [
        ("openstack-community-goal", 'OpenStack "Community" Goal', 1),
        ("community-images", "Community Images", 2),
        ("image-import-refactor", "Image Import Refactor", 3),
        ("rolling-upgrades", "Rolling Upgrades", 4),
    ]
    assert draft[0]["owners"] == ["abhishek-kekane", "abashmak"]
    assert draft[0]["bugs"] == [1639487]
    assert draft[2]["owners"] == ["jokke", "cyril-roelandt"]
    assert draft[3]["blueprints"] == [
        "rolling-upgrades", "database-strategy-for-rolling-upgrades", "alembic-migrations"]
    assert draft[1]["spec"].endswith("/community_visibility.html")


def test_a_spec_file_name_that_cannot_be_a_blueprint_gives_no_guessed_blueprint():
    text = draft_toml(_rst("ocata"))
    draft = tomllib.loads(text)["priorities"]
    # The real blueprint is community-level-v2-image-sharing; 'community_visibility' is no
    # Launchpad name and 'community-visibility' would be a guess that matches nothing.
    assert "blueprints" not in draft[1] and "community-visibility" not in text
    assert ("# spec file community_visibility.html: 'community_visibility' cannot be a "
            "Launchpad blueprint name, so no blueprint is drafted") in text
    assert ("# blueprint 'alembic-migrations' is the name of spec file alembic-migrations.html"
            in text)


# What each published file links per item, read by hand: exactly this is drafted.
EXPECTED_MATCHERS = {
    "newton": [{}, {"changes": [232371]}, {"changes": [229891]}, {"changes": [271019]},
               {"changes": [312259]}, {"bugs": [1570946]}],
    "ocata": [{"bugs": [1639487]}, {},
              {"blueprints": ["image-import-refactor"]},
              {"blueprints": ["rolling-upgrades", "database-strategy-for-rolling-upgrades",
                              "alembic-migrations"]}],
    "pike": [{"blueprints": ["image-import-refactor"]}, {}, {}],
}
MATCHER_KEYS = ("blueprints", "bugs", "changes", "topics", "hashtags", "files", "message")


@pytest.mark.parametrize("cycle", CYCLES)
def test_the_draft_has_exactly_the_matchers_the_file_links(cycle):
    text = draft_toml(_rst(cycle))
    draft = tomllib.loads(text)["priorities"]
    got = [{k: p[k] for k in MATCHER_KEYS if k in p} for p in draft]
    assert got == EXPECTED_MATCHERS[cycle]
    # An item without any says so where the PTL reads it.
    blocks = text.split("\n[[priorities]]\n")[1:]
    for block, expected in zip(blocks, EXPECTED_MATCHERS[cycle], strict=True):
        assert ("# no matchers yet" in block) == (not expected), block


def test_blueprint_links_give_blueprints():
    text = (".. list-table::\n   :header-rows: 1\n\n   * - Priority Item\n     - Owner(s)\n"
            "     - Spec(s)\n   * - Caching\n     - x\n     - `cache bp`_\n\n"
            ".. _cache bp: https://blueprints.launchpad.net/glance/+spec/image-cache-v2\n")
    (d,) = parse_priorities(text)
    assert d.blueprints == ["image-cache-v2"] and not d.bugs and not d.changes


def test_newton_grid_tables_side_priorities_and_specs_under_review():
    drafts = parse_priorities(_rst("newton"))
    assert [d.title for d in drafts] == [
        "DefCore Updates", "Image Import Refactor", "Nova V1 -> V2 Support", "Image Sharing",
        "In Tree API Docs", "Improved Help Text For Config Options"]
    assert drafts[2].owners == ["flaper87", "mfedosin", "sbiswas7", "nikhil-komawar"]
    assert drafts[5].section == "Side Priorities" and drafts[5].bugs == [1570946]
    assert any("spec still under review as change 232371" in c for c in drafts[1].comments)
    assert drafts[1].changes == [232371] and drafts[1].blueprints == []
    assert any("no matchers yet" in c for c in drafts[0].comments)


def test_pike_lite_specs_and_owner_notes():
    drafts = parse_priorities(_rst("pike"))
    goal = drafts[1]
    assert goal.title == 'OpenStack Pike "Community" Goal 1'
    assert goal.blueprints == []
    assert any("lite spec" in c for c in goal.comments)
    assert any("seeking new owner" in c for c in goal.comments)


def test_slugs_and_duplicate_titles():
    assert slugify('OpenStack "Community" Goal') == "openstack-community-goal"
    assert slugify("Nova V1 -> V2 Support") == "nova-v1-v2-support"
    text = (".. list-table::\n   :header-rows: 1\n\n   * - Priority Item\n     - Owner(s)\n"
            "     - Spec(s)\n   * - Same\n     - x\n     - y\n   * - Same\n     - x\n     - y\n")
    assert [d.id for d in parse_priorities(text)] == ["same", "same-2"]


def test_file_without_priorities_table_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(RstError, match="no priorities table found"):
        draft_toml("Just prose.\n")
    path = tmp_path / "x.rst"
    path.write_text("Just prose.\n")
    assert main(["priorities-from-rst", str(path)]) == 2
    assert "no priorities table found" in capsys.readouterr().err


def test_cli_prints_the_draft(capsys):
    assert main(["priorities-from-rst", str(PRIORITIES_RST / "ocata-priorities.rst")]) == 0
    assert tomllib.loads(capsys.readouterr().out)["priorities"][3]["id"] == "rolling-upgrades"
