"""Control characters in Gerrit text: NUL (which PostgreSQL cannot store) is removed at the
wire with a logged note, every other character is kept, and both databases end the same."""

from __future__ import annotations

import logging

import orjson
from sqlmodel import Session, select

from reviewbot.gerrit.wire import without_nul
from reviewbot.sandbox import SandboxGerrit
from reviewbot.store.state import get_state
from reviewbot.store.tables import Change, Message
from reviewbot.sync.importer import import_files
from reviewbot.sync.rest import CURSOR_KEY, sync_once
from tests.test_import import FIXTURES
from tests.test_sync import NOW, T0, build, client_for, config_for

SUBJECT = "Fix\x00 the \x01parser\x1b[31m for \u202eRTL"
TEXT = "Looks good\x00 but \x07 see\tthis"


def test_a_nul_in_a_subject_and_a_message_syncs_on_both_databases(
        sandbox_config_data, store_engine, caplog):
    sb = SandboxGerrit()
    build(sb)
    number = sb.add_change("openstack/glance", "master", SUBJECT, "alice", created=T0)
    sb.review(number, "bob", labels={"Code-Review": 1}, message=TEXT, when=NOW)
    with sb.running() as url:
        sb.url = url
        config = config_for(sb, sandbox_config_data)
        with caplog.at_level(logging.WARNING, logger="reviewbot.gerrit.transport"):
            first = sync_once(client_for(sb), store_engine, config, now=NOW)
        again = sync_once(client_for(sb), store_engine, config, now=NOW)
    assert first.changes == 8
    assert again.changes == 0, "the cleaned text is stored once, not rewritten every poll"
    with Session(store_engine) as session:
        change = session.exec(select(Change).where(Change.number == number)).one()
        texts = [m.text for m in session.exec(
            select(Message).where(Message.change_number == number)).all()]
        cursor = get_state(session, CURSOR_KEY)
    assert change.subject == SUBJECT.replace("\x00", "")
    assert any(t.endswith(TEXT.replace("\x00", "")) for t in texts), texts
    assert cursor is not None and cursor.startswith(NOW.strftime("%Y-%m-%d"))
    notes = [r.getMessage() for r in caplog.records if "NUL" in r.getMessage()]
    assert notes and "removed" in notes[0] and "/changes/" in notes[0]


def test_a_nul_in_an_ssh_dump_imports_on_both_databases(store_engine, tmp_path, caplog):
    line = (FIXTURES / "ssh" / "gerrit_reviews_page_2").read_text().splitlines()[0]
    row = orjson.loads(line)
    row["subject"] = "dump\x00 subject\x02"
    dump = tmp_path / "dump.json"
    dump.write_bytes(orjson.dumps(row) + b"\n")
    with caplog.at_level(logging.WARNING, logger="reviewbot.sync.importer"):
        summary = import_files(store_engine, [dump])
    assert summary.counts.changes == 1
    with Session(store_engine) as session:
        change = session.exec(select(Change).where(Change.number == int(row["number"]))).one()
    assert change.subject == "dump subject\x02"
    assert any("dump.json:1: removed 1 NUL" in r.getMessage() for r in caplog.records)


def test_without_nul_cleans_keys_and_nested_values_and_counts():
    value = {"a\x00": ["x\x00y", {"k": "\x00\x00"}], "n": 3, "t": True, "z": None}
    assert without_nul(value) == ({"a": ["xy", {"k": ""}], "n": 3, "t": True, "z": None}, 4)
    assert without_nul("plain") == ("plain", 0)
