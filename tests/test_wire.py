"""Wire shapes: a bad ChangeInfo or dump line is refused in ONE error naming the change and the
place in it (pydantic's loc), on real sandbox ChangeInfo and real SSH dump lines."""

from __future__ import annotations

import copy

import orjson
import pytest

from reviewbot.gerrit.wire import (
    WireError,
    WireJSONError,
    change_page_from_json,
    from_rest,
    record_from_change_info,
)
from reviewbot.gerrit.wire_ssh import from_ssh, from_ssh_json
from reviewbot.sync.importer import ImportFailed, import_files
from tests.conftest import SSH_DUMPS
from tests.test_fuzz import REST, SSH


def page_bytes(page: list[dict]) -> bytes:
    return orjson.dumps(page)


def test_a_good_page_reads_as_from_rest_reads_each_change():
    page = change_page_from_json(page_bytes(REST))
    assert [record_from_change_info(c) for c in page] == [from_rest(c) for c in REST]


def test_a_bad_revision_time_names_the_change_and_its_location():
    page = copy.deepcopy(REST[:5])
    sha = next(iter(page[3]["revisions"]))
    page[3]["revisions"][sha]["created"] = "yesterday"
    with pytest.raises(WireError) as bad:
        change_page_from_json(page_bytes(page))
    number = page[3]["_number"]
    assert str(bad.value) == (
        f"[3] (change {number}).revisions.{sha}.created: Input should be a valid datetime or "
        "date, input is too short, got 'yesterday'")


def test_several_problems_are_one_error_that_counts_the_rest():
    page = copy.deepcopy(REST[:3])
    page[0]["subject"] = 7
    page[2]["messages"][0]["date"] = None
    page[2]["owner"] = {"_account_id": "12"}
    with pytest.raises(WireError) as bad:
        change_page_from_json(page_bytes(page))
    text = str(bad.value)
    assert text.startswith(f"[0] (change {page[0]['_number']}).subject: Input should be a "
                           "valid string, got '7'")
    assert text.endswith("(and 2 more)") and "\n" not in text


def test_bytes_that_are_not_json_are_told_apart_from_a_bad_shape():
    with pytest.raises(WireJSONError):
        change_page_from_json(page_bytes(REST[:2])[:-40])
    with pytest.raises(WireError) as shape:
        change_page_from_json(b'{"not": "a list"}')
    assert not isinstance(shape.value, WireJSONError)
    assert str(shape.value).startswith("Input should be a valid array")


def test_checks_beyond_the_types_name_their_location_the_same_way():
    info = copy.deepcopy(REST[0])
    info["owner"] = {"email": "someone@example.org"}  # no _account_id: who owns it?
    with pytest.raises(WireError, match=rf"^change {info['_number']}: owner._account_id: "
                                        "Field required$"):
        from_rest(info)
    info = copy.deepcopy(REST[0])
    sha, rev = next(iter(info["revisions"].items()))
    del rev["created"]
    with pytest.raises(WireError, match=rf"revisions.{sha}.created: Field required"):
        from_rest(info)


def test_a_change_edit_revision_is_skipped_even_without_its_own_fields():
    info = copy.deepcopy(REST[0])
    info["revisions"]["e" * 40] = {"_number": "edit"}
    assert from_rest(info).patch_sets == from_rest(REST[0]).patch_sets


def test_a_bad_dump_line_names_file_line_change_and_location(tmp_path, engine):
    lines = (SSH_DUMPS / "gerrit_reviews_page_2").read_text().splitlines()
    good, second = lines[0], orjson.loads(lines[1])
    second["comments"][2]["reviewer"]["username"] = ["not", "a", "name"]
    dump = tmp_path / "dump.json"
    dump.write_text(good + "\n" + orjson.dumps(second).decode() + "\n")
    with pytest.raises(ImportFailed) as bad:
        import_files(engine, [dump])
    assert str(bad.value) == (
        f"{dump}:2: change {second['number']}: comments[2].reviewer.username: Input should be "
        "a valid string, got \"['not', 'a', 'name']\"")


def test_a_dump_line_reads_the_same_from_bytes_and_parsed():
    for row in SSH:
        assert from_ssh_json(orjson.dumps(row)) == from_ssh(row)
    assert from_ssh_json(b'{"type":"stats","rowCount":2,"runTimeMilliseconds":5}') is None
