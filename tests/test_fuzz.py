"""Property-based fuzzing (hypothesis) of what reads Gerrit's text: the vote-message parser
(votes.py), the REST reader (wire.py) and the SSH dump reader (wire_ssh.py via the importer).
Whatever Gerrit sends, they either read it or raise their documented error, naming the
problem; and what Gerrit writes about votes reads back as those votes."""

from __future__ import annotations

import copy
import json
import re
import string
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewbot.gerrit.records import ChangeRecord
from reviewbot.gerrit.votes import ParsedVote, parse_message, parse_vote_removal
from reviewbot.gerrit.wire import WireError, from_rest
from reviewbot.gerrit.wire_ssh import from_ssh
from reviewbot.sandbox import SandboxGerrit, generate_cycle
from reviewbot.sandbox.render import change_bytes
from reviewbot.sandbox.server import SYNC_OPTIONS
from reviewbot.sync.importer import ImportFailed, read_dump
from tests.conftest import SSH_DUMPS

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- real records to start from -------------------------------------------------------


def _rest_samples() -> list[dict]:
    sb = SandboxGerrit()
    generate_cycle(sb, changes=12, seed=9)
    with sb.lock:
        return [orjson.loads(change_bytes(sb, c, SYNC_OPTIONS)) for c in sb.changes.values()]


def _ssh_samples() -> list[dict]:
    rows = []
    for path in sorted(SSH_DUMPS.glob("gerrit_reviews_page_*")):
        for line in path.read_text().splitlines()[:4]:
            row = orjson.loads(line)
            if row.get("type") != "stats":
                rows.append(row)
    return rows


REST = _rest_samples()
SSH = _ssh_samples()

# Timestamps as Gerrit writes them and as it never should (time zones, ISO, junk).
timestamps = st.one_of(
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1)).map(
        lambda d: d.strftime("%Y-%m-%d %H:%M:%S.%f") + "000"),
    st.datetimes(timezones=st.just(timezone(timedelta(hours=5)))).map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    st.text(max_size=30),
)
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                      st.floats(allow_nan=False, allow_infinity=False),
                      st.text(max_size=20), timestamps)
json_value = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12)


def _paths(value, prefix=()):
    """Every path into a JSON value (dict keys and list indexes)."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


@st.composite
def mutated(draw, samples: list[dict]) -> dict:
    """A real record with one to three places replaced by any JSON value, or removed."""
    record = copy.deepcopy(draw(st.sampled_from(samples)))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(record) if p]
        path = draw(st.sampled_from(paths))
        parent = record
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and draw(st.booleans()):
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = draw(json_value)
    return record


# -- the REST reader ---------------------------------------------------------------------


@FUZZ
@given(mutated(REST))
def test_the_rest_reader_reads_or_raises_wireerror_for_any_damaged_changeinfo(info):
    try:
        record = from_rest(info)
    except WireError as exc:
        assert str(exc)  # names the change and field
        return
    assert isinstance(record, ChangeRecord)
    _sane(record)


@FUZZ
@given(json_value)
def test_the_rest_reader_reads_or_raises_wireerror_for_any_json(value):
    try:
        _sane(from_rest(value))
    except WireError:
        pass


def test_every_real_changeinfo_reads_whole():
    for info in REST:
        record = from_rest(info)
        assert record.number == info["_number"]
        assert len(record.messages) == len(info["messages"])
        assert len(record.patch_sets) == len(info["revisions"])


def _sane(record: ChangeRecord) -> None:
    """What the store relies on: comparable naive timestamps and integer numbers."""
    stamps = [record.created, record.updated, *(p.created for p in record.patch_sets),
              *(m.date for m in record.messages)]
    assert all(isinstance(s, datetime) and s.tzinfo is None for s in stamps), stamps
    assert isinstance(record.number, int) and isinstance(record.current_patch_set, int)
    sorted(stamps)  # comparable with each other


# -- the SSH reader ----------------------------------------------------------------------


@FUZZ
@given(mutated(SSH))
def test_the_ssh_reader_reads_or_raises_wireerror_for_any_damaged_row(row):
    try:
        record = from_ssh(row)
    except WireError as exc:
        assert str(exc)
        return
    _sane(record)


@FUZZ
@given(st.lists(st.one_of(json_value.map(json.dumps), mutated(SSH).map(json.dumps),
                          st.text(max_size=40)), min_size=1, max_size=4))
def test_a_dump_file_imports_or_fails_naming_file_and_line(tmp_path_factory, lines):
    path: Path = tmp_path_factory.mktemp("dump") / "dump.json"
    path.write_text("\n".join(line.replace("\n", " ") for line in lines) + "\n")
    try:
        for _, record in read_dump(path):
            _sane(record)
    except ImportFailed as exc:
        assert str(exc).startswith(f"{path}:")


# -- the vote-message parser -------------------------------------------------------------

labels = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,15}", fullmatch=True)
votes = st.lists(st.tuples(labels, st.integers(-3, 3)), max_size=4)
paragraph = st.text(alphabet=string.ascii_letters + string.digits + " .,:;!?'\"-<>&é漢",
                    min_size=1, max_size=40).map(str.strip).filter(
    lambda p: p and not p.startswith("("))


@FUZZ
@given(st.integers(1, 10_000), votes, st.integers(0, 50), st.lists(paragraph, max_size=3),
       st.sampled_from(["\n", "\r\n"]))
def test_a_vote_message_gerrit_writes_parses_back_to_its_votes(ps, cast, comments, free,
                                                               newline):
    tokens = [f"-{label}" if value == 0 else f"{label}{value:+d}" for label, value in cast]
    parts = [f"Patch Set {ps}: {' '.join(tokens)}".rstrip()]
    if comments:
        parts.append(f"({comments} comment{'' if comments == 1 else 's'})")
    parts += free
    parsed = parse_message((newline * 2).join(parts))
    assert parsed.patch_set == ps
    assert parsed.votes == tuple(ParsedVote(label, value, removed=value == 0)
                                 for label, value in cast)
    assert parsed.inline_comments == comments
    assert parsed.free_text == "\n\n".join(free)


@FUZZ
@given(st.text(max_size=200) | st.none())
def test_any_text_parses_without_error(text):
    parsed = parse_message(text)
    assert parsed.patch_set is None or parsed.patch_set >= 0
    parse_vote_removal(text)


@FUZZ
@given(labels, st.integers(-3, 3).filter(bool), st.integers(1, 10**9),
       st.text(alphabet=string.ascii_letters + " .'-", min_size=1, max_size=20).map(str.strip)
       .filter(bool), st.emails())
def test_a_vote_removal_message_parses_back(label, value, account, name, email):
    by_id = parse_vote_removal(f"Removed {label}{value:+d} by <GERRIT_ACCOUNT_{account}>\n")
    assert (by_id.label, by_id.old_value, by_id.account_id) == (label, value, account)
    by_name = parse_vote_removal(f"Removed {label}{value:+d} by {name} <{email}>")
    assert (by_name.label, by_name.old_value, by_name.name, by_name.email) == (
        label, value, name, email)


def test_numbers_outside_what_the_store_holds_are_refused_naming_the_field():
    info = copy.deepcopy(REST[0])
    for bad in (-5, 0, 2**31):
        info["_number"] = bad
        try:
            from_rest(info)
        except WireError as exc:
            assert re.search(rf"^change {bad}: _number: Input should be (greater than 0|less "
                             rf"than or equal to {2**31 - 1}), got '{bad}'$", str(exc)), str(exc)
        else:
            raise AssertionError(f"change number {bad} was accepted")
    row = copy.deepcopy(SSH[0])
    row["number"] = "-5"
    try:
        from_ssh(row)
    except WireError as exc:
        assert str(exc) == "change -5: number: Input should be greater than 0, got '-5'"
    else:
        raise AssertionError("an SSH change number -5 was accepted")


def test_a_timestamp_with_a_zone_is_read_as_naive_utc():
    info = copy.deepcopy(REST[0])
    info["created"] = "2016-10-06T20:31:25+05:00"
    assert from_rest(info).created == datetime(2016, 10, 6, 15, 31, 25)
