"""A date a person types (`as_of=`, `--as-of`, `--since`) that is no date is answered with the
accepted forms, on every page, every API route and every CLI command that takes one."""

from __future__ import annotations

import importlib
import re

import pytest
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from dashboards.app import ROUTER_MODULES, create_app
from reviewbot.cli import build_parser, main
from reviewbot.clock import parse_as_of
from reviewbot.store import session_scope
from tests.conftest import ROOT, make_config
from tests.store_builder import add_account, add_change, add_core, set_verdict

FORMS = "use 2017-02-22 (00:00 UTC) or 2017-02-22T12:00:00Z"
BAD = ["2017-13-45", "tomorrow", "2017-02-30", "2017-02-22T25:00:00Z", "22/02/2017"]
# What Python's own parsers say; a person must never read it.
PYTHON_TEXT = re.compile(r"does not match format|out of range|unconverted data|isoformat")


@pytest.mark.parametrize("value", BAD)
def test_the_one_parser_names_the_value_and_the_accepted_forms(value):
    with pytest.raises(ValueError) as caught:
        parse_as_of(value)
    assert str(caught.value) == f"{value!r} is not a date: {FORMS}"


def test_good_values_still_parse():
    assert parse_as_of("2017-02-22").isoformat() == "2017-02-22T00:00:00"
    assert parse_as_of("2017-02-22T12:00:00Z").isoformat() == "2017-02-22T12:00:00"


def _routes_taking_as_of() -> list[APIRoute]:
    routes = [r for name in ROUTER_MODULES for r in importlib.import_module(name).router.routes]
    return [r for r in routes if isinstance(r, APIRoute) and "GET" in r.methods
            and any(p.name == "as_of" for p in r.dependant.query_params)]


def test_every_page_and_api_route_answers_a_bad_as_of_with_the_forms(engine,
                                                                    sandbox_config_data):
    with session_scope(engine) as s:
        add_account(s, 1, "alice")
        add_account(s, 7, "carol")
        add_core(s, "glance-core", 1)
        add_change(s, 100, 7, subject="A change")
        set_verdict(s, 100, "open")
    app = create_app(make_config(sandbox_config_data), engine=engine)
    routes = _routes_taking_as_of()
    # The pages and the API a person reaches with a date: all of them found, none forgotten.
    assert {"/queue", "/api/v1/queue", "/priorities", "/api/v1/report", "/changes/{number}",
            "/reviewers/{username}", "/api/v1/reviewers"} <= {r.path for r in routes}
    fill = {"{number}": "100", "{username}": "carol"}
    with TestClient(app) as client:
        for route in routes:
            path = route.path
            for key, value in fill.items():
                path = path.replace(key, value)
            for bad in ("2017-13-45", "tomorrow"):
                params = {"as_of": bad}
                if any(p.name == "reviewer" for p in route.dependant.query_params):
                    params["reviewer"] = "alice"
                answer = client.get(path, params=params)
                assert answer.status_code == 422, (path, answer.text)
                body = answer.text
                assert FORMS in body, (path, body)
                assert not PYTHON_TEXT.search(body), (path, body)
                if route.response_class is HTMLResponse:
                    assert "<title>Bad request" in body, path
                else:
                    assert answer.json()["detail"] == f"as_of: {bad!r} is not a date: {FORMS}"


def _commands_taking(option: str) -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return sorted(name for name, p in sub.choices.items()
                  if any(option in a.option_strings for a in p._actions))


@pytest.fixture
def config_path(sqlite_url, tmp_path):
    text = (ROOT / "config" / "sandbox.toml").read_text()
    path = tmp_path / "reviewbot.toml"
    path.write_text(re.sub(r'(?m)^url = "sqlite:.*"$', f'url = "{sqlite_url}"', text))
    return path


def test_every_cli_command_answers_a_bad_date_with_the_forms(config_path, capsys):
    commands = _commands_taking("--as-of")
    assert {"queue", "report", "evaluate", "why", "standing"} <= set(commands), commands
    extra = {"queue": ["alice"], "why": ["100"], "standing": ["carol"], "where": ["100"]}
    for command in commands:
        for bad in ("tomorrow", "2017-13-45"):
            argv = ["--config", str(config_path), command, *extra.get(command, []),
                    "--as-of", bad]
            with pytest.raises(SystemExit) as stopped:
                main(argv)
            message = str(stopped.value.code) + capsys.readouterr().err
            assert f"--as-of: {bad!r} is not a date: {FORMS}" in message, (command, message)
            assert not PYTHON_TEXT.search(message), message
    assert _commands_taking("--since") == ["sync"]
    assert main(["--config", str(config_path), "sync", "--since", "2017-13-45"]) == 2
    assert f"--since: '2017-13-45' is not a date: {FORMS}" in capsys.readouterr().err
