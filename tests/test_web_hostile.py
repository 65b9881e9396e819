"""Web hostile input: every path and query parameter of every route answers 4xx, never 5xx.

Values an attacker (or a typo) sends: integers past 64 and 32 bits (the change
number column is 32-bit on PostgreSQL), digits that pass str.isdigit() but are
not ASCII (`²`, `١٢٣`), dates at the ends of the calendar, NUL and other
control characters. Each is sent to each parameter of each GET route, on
SQLite and PostgreSQL; then hypothesis draws arbitrary text and integers.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboards.app import create_app
from reviewbot.config import Secrets
from reviewbot.store import session_scope
from tests.conftest import make_config
from tests.store_builder import add_account, add_action, add_change, add_core, set_verdict

T = datetime(2017, 1, 20, 12, 0)

HOSTILE = [
    "9223372036854775808",  # 2**63: past SQLite's and PostgreSQL's bigint
    "99999999999999999999999999",
    "2147483648",  # 2**31: past PostgreSQL's integer (change numbers)
    "-1", "0", "-9223372036854775809",
    "²", "１２", "١٢٣",  # isdigit() but not ASCII digits
    "0001-01-01", "9999-12-31", "9999-12-31T23:59:59Z", "0000-00-00",
    "\x00", "a\x00b", "\x1b[31m", "\r\nSet-Cookie: x=1", "\x7f", "\u202e",
    "%00", "'; DROP TABLE change; --", "x" * 5000,
]


def get_routes(app) -> Iterator[APIRoute]:
    def walk(routes):
        for r in routes:
            if isinstance(r, APIRoute):
                yield r
            elif hasattr(r, "original_router"):  # FastAPI's included routers
                yield from walk(r.original_router.routes)
    return (r for r in walk(app.routes) if "GET" in r.methods)


def query_names(dependant) -> list[str]:
    names = [p.name for p in dependant.query_params]
    for sub in dependant.dependencies:
        names += query_names(sub)
    return names


VALID_PATH = {"number": "101", "username": "alice"}


def fill(engine) -> None:
    with session_scope(engine) as s:
        add_account(s, 1, "alice")
        add_account(s, 7, "carol")
        add_core(s, "glance-core", 1)
        for n in (100, 101, 102):
            add_change(s, n, 7, subject=f"Change {n}", created=T - timedelta(days=3))
            set_verdict(s, n, "gated", gate_reason="waiting")
        add_action(s, 101, "add-hashtags", "planned", T, reason="priority")


@pytest.fixture
def app(store_engine, sandbox_config_data):
    fill(store_engine)
    return create_app(make_config(sandbox_config_data), secrets=Secrets(), engine=store_engine)


def cases(app) -> list[tuple[str, str, str]]:
    """(route path, parameter, 'path'|'query') for every parameter of every GET route."""
    out = []
    for route in get_routes(app):
        out += [(route.path, p.name, "path") for p in route.dependant.path_params]
        out += [(route.path, name, "query") for name in query_names(route.dependant)]
    return out


def url_for(path: str, name: str, where: str, value: str) -> str:
    filled = path
    for key, valid in VALID_PATH.items():
        filled = filled.replace("{" + key + "}",
                                quote(value, safe="") if where == "path" and key == name
                                else valid)
    if where == "query":
        filled += f"?{name}={quote(value, safe='')}"
    return filled


def assert_clear_4xx(response, url: str) -> None:
    assert response.status_code < 500, f"{url}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        assert response.text.strip(), f"{url}: an error with no message"


@pytest.mark.postgres
def test_every_parameter_answers_hostile_values_with_4xx_or_an_answer(app):
    client = TestClient(app, raise_server_exceptions=False)
    seen = cases(app)
    assert len(seen) >= 30  # every route's parameters were found, not just a few
    for path, name, where in seen:
        for value in HOSTILE:
            url = url_for(path, name, where, value)
            assert_clear_4xx(client.get(url), url)


@pytest.mark.postgres
@pytest.mark.parametrize(("url", "status", "says"), [
    ("/api/v1/changes/9223372036854775808", 422, "number"),
    ("/api/v1/changes/2147483648", 422, "number"),
    ("/changes/%C2%B2", 422, "is not a change number"),
    ("/api/v1/actions?page=9223372036854775808", 422, "page"),
    ("/api/v1/actions?change=2147483648", 422, "change"),
    ("/api/v1/queue?reviewer=alice&offset=9223372036854775808", 422, "offset"),
    ("/api/v1/report?as_of=0001-01-01", 422, "as_of"),
    ("/reviewers?as_of=9999-12-31", 422, "as_of"),
    ("/api/v1/reviewers/alice?as_of=0001-01-01", 422, "as_of"),
    ("/api/v1/queue?reviewer=al%00ice", 422, "control character"),
    ("/changes?gate=%00", 422, "control character"),
    ("/reviewers/al%00ice", 422, "control character"),
])
def test_hostile_values_name_the_parameter(app, url, status, says):
    response = TestClient(app, raise_server_exceptions=False).get(url)
    assert response.status_code == status, response.text
    assert says in response.text


def test_pages_answer_hostile_values_with_the_html_error_page(app):
    response = TestClient(app).get("/changes/%C2%B2?as_of=0001-01-01")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "is not a change number" in response.text


# -- properties ------------------------------------------------------------------------------

HYPOTHESIS = settings(max_examples=60, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])
any_text = st.text(st.characters(codec="utf-8"), max_size=40)
any_number = st.integers(min_value=-(2**80), max_value=2**80)


@HYPOTHESIS
@given(data=st.data())
def test_any_text_in_any_parameter_never_answers_5xx(app, data):
    client = TestClient(app, raise_server_exceptions=False)
    path, name, where = data.draw(st.sampled_from(cases(app)))
    value = data.draw(st.one_of(any_text, any_number.map(str)))
    url = url_for(path, name, where, value)
    assert_clear_4xx(client.get(url), url)


@HYPOTHESIS
@given(number=any_number, page=any_number, as_of=st.dates().map(str))
def test_numbers_and_dates_answer_200_in_range_and_422_outside(app, number, page, as_of):
    client = TestClient(app, raise_server_exceptions=False)
    change = client.get(f"/api/v1/changes/{number}")
    assert change.status_code == (200 if number == 101 else
                                  404 if 1 <= number < 2**31 else 422), change.text
    listing = client.get(f"/api/v1/actions?page={page}")
    assert listing.status_code == (200 if 1 <= page <= 10**6 else 422), listing.text
    report = client.get(f"/api/v1/report?as_of={as_of}")
    assert report.status_code == (200 if "1970-01-01" <= as_of <= "2999-12-31" else 422)
