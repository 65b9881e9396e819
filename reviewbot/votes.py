"""Vote history: parse Gerrit change-message texts into vote events (DESIGN "Vote history").

Gerrit's `labels` only show today's votes on the current patch set; the votes
people cast, changed and removed on every patch set survive only in the review
messages Gerrit writes, e.g.::

    Patch Set 7: Code-Review-1 Workflow-1

    (3 comments)

    Please split this into two changes.

`-Code-Review` in the header means the vote was removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HEADER = re.compile(r"^Patch Set (?P<ps>\d+):(?P<rest>[^\n]*)")
_VOTE = re.compile(r"^(?P<label>[A-Za-z][A-Za-z0-9_-]*?)(?P<value>[+-]\d+)$")
_REMOVED = re.compile(r"^-(?P<label>[A-Za-z][A-Za-z0-9_-]*)$")
_COMMENTS = re.compile(r"^\((?P<n>\d+) (?:inline )?comments?\)$")


@dataclass(frozen=True, slots=True)
class ParsedVote:
    label: str
    value: int  # 0 when removed
    removed: bool = False


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    patch_set: int | None
    votes: tuple[ParsedVote, ...] = ()
    inline_comments: int = 0
    free_text: str = ""
    header_text: str = field(default="", repr=False)


def _parse_tokens(rest: str) -> tuple[ParsedVote, ...] | None:
    """All tokens of the header line as votes, or None if any token is not a vote."""
    tokens = rest.split()
    votes = []
    for token in tokens:
        removed = _REMOVED.match(token)
        if removed:
            votes.append(ParsedVote(removed["label"], 0, removed=True))
            continue
        vote = _VOTE.match(token)
        if not vote:
            return None
        votes.append(ParsedVote(vote["label"], int(vote["value"])))
    return tuple(votes)


def parse_message(text: str | None) -> ParsedMessage:
    """Split one change message into patch set, votes, inline-comment count and free text.

    A message that does not start with `Patch Set N:` carries no votes
    (uploads, merges, abandons, CI chatter in other formats).
    """
    text = (text or "").replace("\r\n", "\n")
    header = _HEADER.match(text)
    if not header:
        return ParsedMessage(patch_set=None, free_text=text.strip())
    patch_set = int(header["ps"])
    rest = header["rest"].strip()
    body = text[header.end() :]
    votes = _parse_tokens(rest) if rest else ()
    if votes is None:
        # e.g. "Patch Set 2: Patch Set 1 was rebased": text, not votes.
        votes = ()
        body = rest + body
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body.strip("\n")) if p.strip()]
    inline = 0
    if paragraphs:
        counted = _COMMENTS.match(paragraphs[0])
        if counted:
            inline = int(counted["n"])
            paragraphs = paragraphs[1:]
    return ParsedMessage(
        patch_set=patch_set,
        votes=votes,
        inline_comments=inline,
        free_text="\n\n".join(paragraphs),
        header_text=rest,
    )
