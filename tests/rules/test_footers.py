"""Blueprint and bug matchers: commit-message footers and bp/ bug/ topics."""

import pytest

from tests.rules.factory import make_change, reasons

MSG = "Add image import\n\nSome text.\n\n{footer}\nChange-Id: I0123\n"


@pytest.mark.parametrize(
    ("footer", "topic", "expected"),
    [
        ("Implements: blueprint image-import-refactor", None,
         ["blueprint image-import-refactor (commit footer)"]),
        ("Partially-Implements: blueprint image-import-refactor", None,
         ["blueprint image-import-refactor (commit footer)"]),
        ("partially-implements: bp Image-Import-Refactor", None,
         ["blueprint image-import-refactor (commit footer)"]),
        ("Implements: blueprint image-import-refactor.", None,
         ["blueprint image-import-refactor (commit footer)"]),
        ("", "bp/image-import-refactor",
         ["blueprint image-import-refactor (topic bp/image-import-refactor)"]),
        ("", "BP/Image-Import-Refactor",
         ["blueprint image-import-refactor (topic BP/Image-Import-Refactor)"]),
        ("Implements: blueprint image-import-refactor-v2", None, []),
        ("Implements: blueprint other", "bp/other", []),
        ("This implements blueprint image-import-refactor in prose", None, []),
        ("", "image-import-refactor", []),
    ],
    ids=["implements", "partially", "bp-any-case", "trailing-dot", "topic", "topic-any-case",
         "longer-name", "other-blueprint", "prose-not-footer", "bare-topic"],
)
def test_blueprints(footer, topic, expected):
    change = make_change(commit_message=MSG.format(footer=footer), topic=topic)
    assert reasons({"blueprints": ["image-import-refactor"]}, change) == expected


@pytest.mark.parametrize(
    ("footer", "topic", "expected"),
    [
        ("Closes-Bug: #1639487", None, ["bug 1639487 (Closes-Bug footer)"]),
        ("Closes-Bug: 1639487", None, ["bug 1639487 (Closes-Bug footer)"]),
        ("Partial-Bug: #1639487", None, ["bug 1639487 (Partial-Bug footer)"]),
        ("related-bug: #1639487", None, ["bug 1639487 (Related-Bug footer)"]),
        ("Closes-Bug: #1, #1639487", None, ["bug 1639487 (Closes-Bug footer)"]),
        ("", "bug/1639487", ["bug 1639487 (topic bug/1639487)"]),
        ("Closes-Bug: #16394870", None, []),
        ("Fixes bug 1639487", None, []),
        ("", "bug/1639487-extra", []),
    ],
    ids=["closes", "no-hash", "partial", "related-lowercase", "list", "topic", "longer-number",
         "prose", "topic-suffix"],
)
def test_bugs(footer, topic, expected):
    change = make_change(commit_message=MSG.format(footer=footer), topic=topic)
    assert reasons({"bugs": [1639487]}, change) == expected


def test_topic_still_matches_without_commit_message():
    change = make_change(commit_message=None, topic="bp/image-import-refactor")
    assert reasons({"blueprints": ["image-import-refactor"]}, change) == [
        "blueprint image-import-refactor (topic bp/image-import-refactor)"
    ]
