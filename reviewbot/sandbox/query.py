"""Sandbox Gerrit query language: parse `q=` into a predicate over changes, 400 on the unknown.

Grammar as Gerrit's QueryParser: `a OR b`, `a AND b` / `a b` (AND binds
tighter than OR), `NOT a` / `-a`, parentheses, values bare, `"quoted"` or
`{braced}`. Operators follow Documentation/user-search.txt for the subset a
polling bot uses; anything else raises QueryError (the server answers 400).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from fnmatch import fnmatchcase

from reviewbot.sandbox.model import LABELS, Change
from reviewbot.sandbox.state import State

Predicate = Callable[[Change], bool]


class QueryError(ValueError):
    """Bad query syntax or an operator the sandbox (or Gerrit) doesn't know."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lp>\() | (?P<rp>\)) |
        (?P<term>-?[A-Za-z_]+:(?:"(?:[^"\\]|\\.)*"|\{[^}]*\}|[^\s()]+)) |
        (?P<neg>-(?=[(A-Za-z])) |
        (?P<word>"(?:[^"\\]|\\.)*"|[^\s()]+)
    )""",
    re.VERBOSE,
)
_LABEL = re.compile(
    r"^(?P<name>[A-Za-z][A-Za-z0-9_-]*?)(?P<op>>=|<=|=|>|<)?(?P<val>[+-]?\d+|MAX|MIN|ANY)$"
)
_AGE = re.compile(
    r"^(?P<n>\d+)\s*(?P<unit>s|sec|secs|second|seconds|m|min|mins|minute|minutes|"
    r"h|hr|hrs|hour|hours|d|day|days|w|week|weeks|mon|month|months|y|year|years)$"
)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "mon": 2592000, "y": 31536000}


def _unit(name: str) -> int:
    if name.startswith("mon"):
        return _UNIT_SECONDS["mon"]
    if name.startswith("mi"):
        return _UNIT_SECONDS["m"]
    return _UNIT_SECONDS[name[0]]


def tokenize(query: str) -> list[tuple[str, str]]:
    tokens = []
    pos = 0
    text = query.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise QueryError(f"line 1:{pos} no viable alternative at character '{text[pos]}'")
        pos = m.end()
        kind = m.lastgroup
        if kind is None:  # every alternative of _TOKEN is a named group
            raise QueryError(f"line 1:{pos} unnamed token in the sandbox's query grammar")
        tokens.append((kind, m.group(kind)))
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    if len(value) >= 2 and value[0] == "{" and value[-1] == "}":
        return value[1:-1]
    return value


def parse_time(value: str) -> datetime:
    """`2006-01-02[ 15:04:05[.890]]`, UTC (a trailing ` +0000`/`-0000` is accepted)."""
    text = re.sub(r"\s+[+-]0000$", "", value.strip())
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise QueryError(f'Invalid timestamp "{value}"')


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
            pred = self.operator(op.lower(), _unquote(value))
            return (lambda c: not pred(c)) if negate else pred
        # bare word: a change number or Change-Id; other default-field text is unsupported
        word = _unquote(text)
        if word.isdigit() or re.fullmatch(r"I[0-9a-f]{4,40}", word):
            return self.operator("change", word)
        raise QueryError(f"Unsupported query: {word} (the sandbox has no default-field search)")

    # ---- operators -------------------------------------------------------------------

    def operator(self, op: str, value: str) -> Predicate:  # one table of operators
        s = self.state
        if op in ("status", "is"):
            return self._status(op, value.lower())
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
        if op in ("owner", "o"):
            ids = self._accounts(value)
            return lambda c: c.owner in ids
        if op in ("reviewer", "r"):
            ids = self._accounts(value)
            return lambda c: any(c.reviewers.get(a) == "REVIEWER" for a in ids)
        if op == "cc":
            ids = self._accounts(value)
            return lambda c: any(c.reviewers.get(a) == "CC" for a in ids)
        if op == "uploader":
            ids = self._accounts(value)
            return lambda c: c.current.uploader in ids
        if op == "commentby":
            ids = self._accounts(value)
            return lambda c: any(m.author in ids for m in c.messages if not _system(m.tag))
        if op == "reviewedby":
            ids = self._accounts(value)
            return lambda c: _reviewed_by(c, ids)
        if op in ("ownerin", "reviewerin"):
            if s.find_group(value) is None:
                raise QueryError(f"Group {value} not found")
            ids = set(s.group_member_ids(value))
            if op == "ownerin":
                return lambda c: c.owner in ids
            return lambda c: any(c.reviewers.get(a) == "REVIEWER" for a in ids)
        if op == "label":
            return self._label(value)
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
            m = _AGE.match(value.strip().lower())
            if not m:
                raise QueryError(f"Unsupported age: {value}")
            cutoff = self.now() - timedelta(seconds=int(m["n"]) * _unit(m["unit"]))
            # age:X = last update at least X ago; -age:X (negated by the caller) = more recent
            return lambda c: c.updated <= cutoff
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
        if op in ("subject",):
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
        if op == "limit":
            if not value.isdigit():
                raise QueryError(f"Invalid limit: {value}")
            self.limit = int(value) if self.limit is None else min(self.limit, int(value))
            return lambda c: True
        raise QueryError(f"Unsupported operator {op}:{value}")

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
        head, *args = re.split(r"[,&]", value)
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
            target = hi
        elif val_text == "MIN":
            target = lo
        elif val_text == "ANY":
            target, op = None, "any"
        else:
            target = int(val_text)
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

        def matches(v: int) -> bool:
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

        def pred(c: Change) -> bool:
            votes = c.current.approvals.get(name, {})
            hits = [
                a
                for a, v in votes.items()
                if v.value
                and matches(v.value)
                and (voters is None or a in voters)
                and (not owner_only or a == c.owner)
            ]
            if hits:
                return True
            if target == 0 and op == "=":
                return not any(v.value for a, v in votes.items() if voters is None or a in voters)
            return False

        return pred


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
