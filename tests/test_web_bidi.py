"""Right-to-left isolation: a U+202E in a subject, name or reason cannot reorder the page's line."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from dashboards.app import create_app
from reviewbot.store import session_scope
from reviewbot.views.bidi import FSI, PDI, isolate
from tests.conftest import make_config
from tests.store_builder import add_account, add_action, add_change, add_core, set_verdict

RLO, LRO, PDF, RLI = "\u202e", "\u202d", "\u202c", "\u2067"
T = datetime(2017, 1, 20, 12, 0)
SUBJECT = f"Fix {RLO}gnp.exe the parser"
NAME = f"mal{RLO}lory"


def test_plain_text_and_right_to_left_letters_are_unchanged():
    for text in ("Fix the parser", "إصلاح المحلل", "תיקון", "", "a/b?c=d"):
        assert isolate(text) == text


def test_a_directional_control_makes_the_value_one_isolated_run():
    assert isolate(SUBJECT) == FSI + SUBJECT + PDI


def test_a_stray_pop_cannot_close_the_wrapper_early():
    sneaky = f"a{PDI}{RLO}b"
    assert isolate(sneaky) == f"{FSI}a{RLO}b{PDI}"
    nested = f"{RLI}x{PDI}{RLO}y"
    assert isolate(nested) == f"{FSI}{nested}{PDI}"  # its own isolate is matched: kept


@given(st.text(st.sampled_from(["a", " ", "ب", RLO, LRO, PDF, RLI, "\u2066", "\u2068", PDI]),
               max_size=30))
def test_every_isolate_in_the_output_is_balanced_and_ends_at_the_wrapper(text):
    out = isolate(text)
    if out == text:
        assert not any(c in text for c in (RLO, LRO, PDF, RLI, "\u2066", "\u2068", PDI))
        return
    assert out[0] == FSI and out[-1] == PDI
    depth = 0
    for i, ch in enumerate(out):
        depth += ch in "\u2066\u2067\u2068"
        depth -= ch == PDI
        assert depth >= 1 or i == len(out) - 1, "the wrapper closed before the end"
    assert depth == 0


def test_pages_isolate_subjects_names_and_reasons(engine, sandbox_config_data):
    with session_scope(engine) as s:
        add_account(s, 1, "alice")
        add_account(s, 7, "mallory", NAME)
        add_core(s, "glance-core", 1)
        add_change(s, 380001, 7, subject=SUBJECT, created=T - timedelta(days=3))
        set_verdict(s, 380001, "open", gate_reason=f"Non-core +1 by {NAME} on patch set 1.",
                    current=True)
        add_action(s, 380001, "add-hashtags", "planned", T, reason=f"priority {RLO}x")
    client = TestClient(create_app(make_config(sandbox_config_data), engine=engine))
    change = client.get("/changes/380001").text
    assert f"380001: {FSI}{SUBJECT}{PDI}</h1>" in change
    assert f"{FSI}Non-core +1 by {NAME} on patch set 1.{PDI}" in change
    assert RLO not in change.replace(f"{FSI}{SUBJECT}{PDI}", "").replace(
        f"{FSI}Non-core +1 by {NAME} on patch set 1.{PDI}", "")  # no RLO outside an isolate
    listing = client.get("/changes").text
    assert f"{FSI}{SUBJECT}{PDI}" in listing and SUBJECT.join("><") not in listing
    actions = client.get("/actions").text
    assert f"{FSI}priority {RLO}x{PDI}" in actions
    # The API's JSON carries the text as stored: isolation is for display only.
    assert client.get("/api/v1/changes/380001").json()["subject"] == SUBJECT


def test_the_markdown_report_isolates_subjects(engine, sandbox_config_data):
    with session_scope(engine) as s:
        add_account(s, 7, "mallory")
        add_change(s, 380001, 7, subject=SUBJECT, topic="goal-remove-incubated-oslo-code",
                   created=T - timedelta(days=40))
    client = TestClient(create_app(make_config(sandbox_config_data), engine=engine))
    text = client.get("/report.md", params={"as_of": "2017-01-20"}).text
    assert RLO in text
    for line in text.splitlines():
        if RLO in line:
            assert f"{FSI}{SUBJECT}{PDI}" in line, line
