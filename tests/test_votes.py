"""Vote history parser: Gerrit's own change-message texts -> votes, comment counts, free text."""

from __future__ import annotations

import json

import pytest

from reviewbot.gerrit.votes import ParsedVote, parse_message, parse_vote_removal
from tests.conftest import SSH_DUMPS

V = ParsedVote

# (message text as Gerrit writes it, patch set, votes, inline comments, free text)
CASES = [
    # PostReviewOp: header, sorted vote tokens, comment count paragraph, free text.
    ("Patch Set 2: Code-Review+1\n\n(2 comments)\n\nLGTM", 2, (V("Code-Review", 1),), 2, "LGTM"),
    ("Patch Set 7: Code-Review-1 Workflow-1\n\n(3 comments)\n\nPlease split this.", 7,
     (V("Code-Review", -1), V("Workflow", -1)), 3, "Please split this."),
    ("Patch Set 3: Code-Review+2 Workflow+1", 3, (V("Code-Review", 2), V("Workflow", 1)), 0, ""),
    ("Patch Set 1: Code-Review+2\n\n(1 comment)", 1, (V("Code-Review", 2),), 1, ""),
    # A removed vote is `-Label`.
    ("Patch Set 1: -Code-Review\n\nWe ran out of time for SWAT today.", 1,
     (V("Code-Review", 0, removed=True),), 0, "We ran out of time for SWAT today."),
    ("Patch Set 3: -Verified\n\nStarting gate-and-submit jobs.", 3,
     (V("Verified", 0, removed=True),), 0, "Starting gate-and-submit jobs."),
    ("Patch Set 4: Code-Review+1 -Verified", 4,
     (V("Code-Review", 1), V("Verified", 0, removed=True)), 0, ""),
    # Comments only, no vote.
    ("Patch Set 1:\n\n(2 comments)", 1, (), 2, ""),
    ("Patch Set 1:\n\nrecheck", 1, (), 0, "recheck"),
    ("Patch Set 5:\n\n(1 comment)\n\nfirst paragraph\n\nsecond paragraph", 5, (), 1,
     "first paragraph\n\nsecond paragraph"),
    # CI votes (Zuul / jenkins-bot) with their report as free text.
    ("Patch Set 2: Verified+2\n\nMain test build succeeded.\n\n- job https://ci/1 : SUCCESS",
     2, (V("Verified", 2),), 0, "Main test build succeeded.\n\n- job https://ci/1 : SUCCESS"),
    ("Patch Set 1: Verified-1\n\nBuild failed (check pipeline).", 1, (V("Verified", -1),), 0,
     "Build failed (check pipeline)."),
    # Header text that is not a vote list: the whole rest is free text.
    ("Patch Set 2: Patch Set 1 was rebased", 2, (), 0, "Patch Set 1 was rebased"),
    ("Patch Set 1: Cherry Picked from branch master.", 1, (), 0,
     "Cherry Picked from branch master."),
    # Older Gerrit: comment count on the header line.
    ("Patch Set 1: (2 inline comments)\n\nnits", 1, (), 2, "nits"),
    # Windows line endings from a paste.
    ("Patch Set 6: Code-Review-1\r\n\r\n(1 comment)\r\n\r\nsee inline", 6,
     (V("Code-Review", -1),), 1, "see inline"),
    # Messages that are not reviews carry no patch set and no votes.
    ("Uploaded patch set 3.", None, (), 0, "Uploaded patch set 3."),
    ("Uploaded patch set 3: Patch Set 2 was rebased.", None, (), 0,
     "Uploaded patch set 3: Patch Set 2 was rebased."),
    ("Change has been successfully merged by Jane Doe", None, (), 0,
     "Change has been successfully merged by Jane Doe"),
    ("Abandoned\n\nsuperseded by I1234", None, (), 0, "Abandoned\n\nsuperseded by I1234"),
    ("Hashtag added: review-priority", None, (), 0, "Hashtag added: review-priority"),
    ("", None, (), 0, ""),
    (None, None, (), 0, ""),
    # Hostile text stays text.
    ("Patch Set 1:\n\n<script>alert(1)</script>", 1, (), 0, "<script>alert(1)</script>"),
]


@pytest.mark.parametrize(("text", "patch_set", "votes", "inline", "free_text"), CASES)
def test_parse_message(text, patch_set, votes, inline, free_text):
    parsed = parse_message(text)
    assert parsed.patch_set == patch_set
    assert parsed.votes == votes
    assert parsed.inline_comments == inline
    assert parsed.free_text == free_text


def test_label_with_digits_and_dashes_keeps_its_sign():
    parsed = parse_message("Patch Set 9: Backport-Candidate-2 Code-Review-1")
    assert parsed.votes == (V("Backport-Candidate", -2), V("Code-Review", -1))


@pytest.mark.parametrize(
    ("text", "label", "old", "account", "name", "email"),
    [
        ("Removed Verified-1 by jenkins-bot <>\n", "Verified", -1, None, "jenkins-bot", None),
        ("Removed Code-Review+1 by Jane Doe <jane@example.org>\n", "Code-Review", 1, None,
         "Jane Doe", "jane@example.org"),
        ("Removed Code-Review+2 by <GERRIT_ACCOUNT_1000096>\n", "Code-Review", 2, 1000096,
         None, None),
    ],
)
def test_parse_vote_removal(text, label, old, account, name, email):
    removal = parse_vote_removal(text)
    assert removal is not None
    assert (removal.label, removal.old_value, removal.account_id) == (label, old, account)
    assert (removal.name, removal.email) == (name, email)


def test_removed_reviewer_is_not_a_vote_removal():
    assert parse_vote_removal("Removed reviewer Alex Monk.") is None
    assert parse_vote_removal("Patch Set 1: -Code-Review") is None


def test_every_real_wikimedia_message_parses_consistently():
    """Real SSH-query output: each `Patch Set N:` message yields that N, votes are known labels."""
    seen_votes = set()
    for page in sorted(SSH_DUMPS.glob("gerrit_reviews_page_*")):
        for line in page.read_text().splitlines():
            row = json.loads(line)
            for comment in row.get("comments", []):
                parsed = parse_message(comment["message"])
                if comment["message"].startswith("Patch Set "):
                    assert parsed.patch_set is not None
                for vote in parsed.votes:
                    seen_votes.add((vote.label, vote.value, vote.removed))
    assert ("Code-Review", 2, False) in seen_votes
    assert ("Code-Review", 0, True) in seen_votes
    assert ("Verified", -1, False) in seen_votes
    assert {label for label, _, _ in seen_votes} == {"Code-Review", "Verified"}
