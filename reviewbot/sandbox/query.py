"""Sandbox Gerrit query language: parse `q=` into a predicate over changes, 400 on the unknown.

Grammar as Gerrit's QueryParser: `a OR b`, `a AND b` / `a b` (AND binds
tighter than OR), `NOT a` / `-a`, parentheses, values bare, `"quoted"` or
`{braced}`. Operators follow Documentation/user-search.txt for the subset a
polling bot uses; anything else raises QueryError (the server answers 400).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from fnmatch import fnmatchcase

from reviewbot.sandbox.model import LABELS, Change
from reviewbot.sandbox.query_tokens import QueryError, parse_age, parse_time, tokenize, unquote
from reviewbot.sandbox.state import State

Predicate = Callable[[Change], bool]

_LABEL = re.compile(
    r"^(?P<name>[A-Za-z][A-Za-z0-9_-]*?)(?P<op>>=|<=|=|>|<)?(?P<val>[+-]?\d+|MAX|MIN|ANY)$"
)


class Parser:
    """Recursive descent over tokens; builds closures that read a Change."""

    def __init__(self, state: State, query: str, now: Callable[[], datetime]) -> None:
        self.state = state
        self.now = now
        self.tokens = tokenize(query)
        self.pos = 0
        self.limit: int | None = None

    def parse(self) -> Predicate:
        if not self.tokens:
            raise QueryError("query is empty")
        pred = self._or()
        if self.pos != len(self.tokens):
            raise QueryError(f"line 1:{self.pos} extraneous input '{self.tokens[self.pos][1]}'")
        return pred

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _is_word(self, word: str) -> bool:
        tok = self._peek()
        return tok is not None and tok[0] == "word" and tok[1] == word

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._is_word("OR") or self._is_word("or"):
            self.pos += 1
            parts.append(self._and())
        if len(parts) == 1:
            return parts[0]
        return lambda c: any(p(c) for p in parts)

    def _and(self) -> Predicate:
        parts = [self._not()]
        while True:
            tok = self._peek()
            if tok is None or tok[0] == "rp" or self._is_word("OR") or self._is_word("or"):
                break
            if self._is_word("AND") or self._is_word("and"):
                self.pos += 1
            parts.append(self._not())
        if len(parts) == 1:
            return parts[0]
        return lambda c: all(p(c) for p in parts)

    def _not(self) -> Predicate:
        tok = self._peek()
        if tok is None:
            raise QueryError("line 1:end mismatched input '<EOF>'")
        if tok[0] == "neg" or (tok[0] == "word" and tok[1] in ("NOT", "not")):
            self.pos += 1
            inner = self._not()
            return lambda c: not inner(c)
        return self._atom()

    def _atom(self) -> Predicate:
        kind, text = self.tokens[self.pos]
        self.pos += 1
        if kind == "lp":
            inner = self._or()
            closing = self._peek()
            if closing is None or closing[0] != "rp":
                raise QueryError("line 1:end missing ')'")
            self.pos += 1
            return inner
        if kind == "rp":
            raise QueryError("line 1: unexpected ')'")
        if kind == "term":
            negate = text.startswith("-")
            if negate:
                text = text[1:]
            op, _, value = text.partition(":")
            pred = self.operator(op.lower(), unquote(value))
            return (lambda c: not pred(c)) if negate else pred
        # bare word: a change number or Change-Id; other default-field text is unsupported
        word = unquote(text)
        if word.isdigit() or re.fullmatch(r"I[0-9a-f]{4,40}", word):
            return self.operator("change", word)
        raise QueryError(f"Unsupported query: {word} (the sandbox has no default-field search)")

    # ---- operators -------------------------------------------------------------------

    def operator(self, op: str, value: str) -> Predicate:
        """One `op:value` term -> its predicate; each group below answers its own operators
        (None: not one of them)."""
        if op in ("status", "is"):
            return self._status(op, value.lower())
        if op == "label":
            return self._label(value)
        if op == "limit":
            if not value.isdigit():
                raise QueryError(f"Invalid limit: {value}")
            self.limit = int(value) if self.limit is None else min(self.limit, int(value))
            return lambda c: True
        for group in (self._where, self._who, self._when, self._what):
            pred = group(op, value)
            if pred is not None:
                return pred
        raise QueryError(f"Unsupported operator {op}:{value}")

    def _where(self, op: str, value: str) -> Predicate | None:
        """Project, branch, topic and hashtag operators."""
        if op in ("project", "p"):
            if value.startswith("^"):
                rx = re.compile(value)
                return lambda c: rx.match(c.project) is not None
            return lambda c: c.project == value
        if op == "projects":
            return lambda c: c.project.startswith(value)
        if op == "branch":
            if value.startswith("^"):
                rx = re.compile(value)
                return lambda c: rx.match(c.branch) is not None
            short = value.removeprefix("refs/heads/")
            return lambda c: c.branch == short
        if op == "topic":
            return lambda c: c.topic == value if value else c.topic is None
        if op == "intopic":
            if value.startswith("^"):
                rx = re.compile(value)
                return lambda c: c.topic is not None and rx.match(c.topic) is not None
            low = value.lower()
            return lambda c: c.topic is not None and low in c.topic.lower()
        if op == "prefixtopic":
            return lambda c: c.topic is not None and c.topic.startswith(value)
        if op == "hashtag":
            low = value.lstrip("#").lower()
            return lambda c: any(h.lower() == low for h in c.hashtags)
        if op == "inhashtag":
            if value.startswith("^"):
                rx = re.compile(value, re.IGNORECASE)
                return lambda c: any(rx.match(h) for h in c.hashtags)
            low = value.lower()
            return lambda c: any(low in h.lower() for h in c.hashtags)
        return None

    def _who(self, op: str, value: str) -> Predicate | None:
        """Operators naming an account or a group: owner, reviewer, cc, uploader, commenter."""
        if op in ("ownerin", "reviewerin"):
            if self.state.find_group(value) is None:
                raise QueryError(f"Group {value} not found")
            members = set(self.state.group_member_ids(value))
            if op == "ownerin":
                return lambda c: c.owner in members
            return lambda c: any(c.reviewers.get(a) == "REVIEWER" for a in members)
        if op not in ("owner", "o", "reviewer", "r", "cc", "uploader", "commentby", "reviewedby"):
            return None
        ids = self._accounts(value)
        if op in ("owner", "o"):
            return lambda c: c.owner in ids
        if op in ("reviewer", "r"):
            return lambda c: any(c.reviewers.get(a) == "REVIEWER" for a in ids)
        if op == "cc":
            return lambda c: any(c.reviewers.get(a) == "CC" for a in ids)
        if op == "uploader":
            return lambda c: c.current.uploader in ids
        if op == "commentby":
            return lambda c: any(m.author in ids for m in c.messages if not _system(m.tag))
        return lambda c: _reviewed_by(c, ids)

    def _when(self, op: str, value: str) -> Predicate | None:
        """Time operators: last update (after, before, age) and submission (merged*)."""
        if op in ("after", "since"):
            t = parse_time(value)
            return lambda c: c.updated >= t
        if op in ("before", "until"):
            t = parse_time(value)
            return lambda c: c.updated <= t
        if op in ("mergedafter", "mergedbefore"):
            t = parse_time(value)
            if op == "mergedafter":
                return lambda c: c.submitted is not None and c.submitted >= t
            return lambda c: c.submitted is not None and c.submitted <= t
        if op == "age":
            cutoff = self.now() - parse_age(value)
            # age:X = last update at least X ago; -age:X (negated by the caller) = more recent
            return lambda c: c.updated <= cutoff
        return None

    def _what(self, op: str, value: str) -> Predicate | None:
        """Operators on the change itself: number or Change-Id, message, subject, files, commit."""
        if op == "change":
            if value.isdigit():
                n = int(value)
                return lambda c: c.number == n
            return lambda c: c.change_id.startswith(value)
        if op in ("message", "m", "description", "d"):
            if value.startswith("^"):
                rx = re.compile(value[1:])
                return lambda c: rx.search(c.commit_message(c.current)) is not None
            low = value.lower()
            return lambda c: low in c.commit_message(c.current).lower()
        if op == "subject":
            low = value.lower()
            return lambda c: low in c.subject.lower()
        if op in ("file", "f"):
            if value.startswith("^"):
                rx = re.compile(value)
                return lambda c: any(rx.match(r[0]) for r in c.current.files)
            return lambda c: any(
                r[0] == value or value in r[0].split("/") or fnmatchcase(r[0], value)
                for r in c.current.files
            )
        if op == "path":
            if value.startswith("^"):
                rx = re.compile(value)
                return lambda c: any(rx.match(r[0]) for r in c.current.files)
            return lambda c: any(r[0] == value for r in c.current.files)
        if op == "commit":
            return lambda c: any(ps.sha.startswith(value) for ps in c.patch_sets)
        return None

    def _status(self, op: str, value: str) -> Predicate:
        if value in ("open", "new", "pending"):
            return lambda c: c.status == "NEW"
        if value == "merged":
            return lambda c: c.status == "MERGED"
        if value == "abandoned":
            return lambda c: c.status == "ABANDONED"
        if value == "closed":
            return lambda c: c.status != "NEW"
        if value == "reviewed":
            return lambda c: any(
                m.author not in (None, c.owner) and not _system(m.tag) for m in c.messages
            )
        if op == "is" and value == "wip":
            return lambda c: c.wip
        if op == "is" and value == "private":
            return lambda c: c.private
        raise QueryError(
            f"Unrecognized value: {value}" if op == "status" else f"Unsupported operator is:{value}"
        )

    def _accounts(self, value: str) -> set[int]:
        if value in ("self", "me"):
            raise QueryError(
                "'self' is only available for authenticated users (sandbox: use the username)"
            )
        try:
            return {self.state.account(value).id}
        except ValueError:
            raise QueryError(f"Account '{value}' not found") from None

    def _label(self, value: str) -> Predicate:
        """`label:Name[op]value[,user=X|,group=G|,owner]`: a current vote that matches."""
        head, *args = re.split(r"[,&]", value)
        name, op, target = _label_value(head, value)
        voters, owner_only = self._label_voters(args)

        def pred(c: Change) -> bool:
            votes = c.current.approvals.get(name, {})
            hits = [
                a
                for a, v in votes.items()
                if v.value
                and _label_matches(v.value, op, target)
                and (voters is None or a in voters)
                and (not owner_only or a == c.owner)
            ]
            if hits:
                return True
            if target == 0 and op == "=":
                return not any(v.value for a, v in votes.items() if voters is None or a in voters)
            return False

        return pred

    def _label_voters(self, args: list[str]) -> tuple[set[int] | None, bool]:
        """The voters a label term's arguments allow (None: anyone), and whether only the owner."""
        voters: set[int] | None = None
        owner_only = False
        for arg in args:
            key, _, arg_value = arg.partition("=")
            if key == "user":
                voters = self._accounts(arg_value)
            elif key == "group":
                if self.state.find_group(arg_value) is None:
                    raise QueryError(f"Group {arg_value} not found")
                voters = set(self.state.group_member_ids(arg_value))
            elif key == "owner" and not arg_value:
                owner_only = True
            else:
                raise QueryError(f"Unsupported label argument: {arg}")
        return voters, owner_only


def _label_value(head: str, value: str) -> tuple[str, str, int | None]:
    """`Code-Review>=+1` -> (label, comparison, value); MAX/MIN are the label's range,
    ANY is (label, "any", None)."""
    m = _LABEL.match(head)
    if not m or m["name"] not in LABELS:
        name = m["name"] if m else head
        if m and m["name"] not in LABELS:
            raise QueryError(f'label "{name}" is not a configured label')
        raise QueryError(f"Invalid label query: {value}")
    name = m["name"]
    lo, hi = LABELS[name]
    val_text = m["val"]
    op = m["op"] or "="
    if val_text == "MAX":
        return name, op, hi
    if val_text == "MIN":
        return name, op, lo
    if val_text == "ANY":
        return name, "any", None
    return name, op, int(val_text)


def _label_matches(v: int, op: str, target: int | None) -> bool:
    if target is None:  # Label=ANY
        return v != 0
    if op == "=":
        return v == target
    if op == ">=":
        return v >= target
    if op == "<=":
        return v <= target
    if op == ">":
        return v > target
    return v < target


def _system(tag: str | None) -> bool:
    return tag is not None and tag.startswith("autogenerated:")


def _reviewed_by(c: Change, ids: set[int]) -> bool:
    owner_last = max((m.date for m in c.messages if m.author == c.owner), default=c.created)
    return any(m.author in ids and m.author != c.owner and m.date > owner_last for m in c.messages)


def compile_query(
    state: State, query: str, now: Callable[[], datetime]
) -> tuple[Predicate, int | None]:
    """Predicate plus any `limit:N` found in the query."""
    parser = Parser(state, query, now)
    pred = parser.parse()
    return pred, parser.limit
