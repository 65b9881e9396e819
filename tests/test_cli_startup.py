"""CLI start-up: building the help imports no heavy library; commands still run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# What the commands need when they run, and what --help must not pay for.
HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "pydantic", "fastapi", "starlette", "uvicorn",
         "jinja2", "requests", "urllib3", "pygerrit2", "launchpadlib", "apscheduler",
         "prometheus_client", "httpx", "orjson")

# Runs `reviewbot ARGS` in a fresh interpreter and prints which top-level packages it
# imported, and the exit status (--help exits through SystemExit).
PROBE = """
import json, sys
from reviewbot.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
sys.stdout = sys.__stdout__
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def _imported(*args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                         timeout=60, check=False)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_help_imports_no_sqlalchemy_nor_any_heavy_library():
    result = _imported("--help")
    assert result["code"] == 0
    assert "reviewbot" in result["modules"]
    assert not set(HEAVY) & set(result["modules"]), set(HEAVY) & set(result["modules"])


@pytest.mark.parametrize("command", ["queue", "apply", "reviewers", "evaluate", "sync", "web",
                                     "report", "cycle", "sandbox", "import"])
def test_a_subcommands_help_imports_nothing_heavy_either(command):
    result = _imported(command, "--help")
    assert result["code"] == 0
    assert not set(HEAVY) & set(result["modules"]), set(HEAVY) & set(result["modules"])


def test_a_mistyped_command_fails_fast_without_loading_the_store():
    result = _imported("qeueu")
    assert result["code"] == 2
    assert "sqlalchemy" not in result["modules"]


def test_commands_import_what_they_need_when_they_run(tmp_path):
    # check-config loads the config (pydantic) only once it runs, and still answers.
    config = tmp_path / "bad.toml"
    config.write_text("[cycle]\nname = 3\n")
    out = subprocess.run([sys.executable, "-m", "reviewbot.cli", "--config", str(config),
                          "check-config"], capture_output=True, text=True, timeout=60,
                         check=False)
    assert out.returncode == 2
    assert "config error:" in out.stderr


def test_the_command_table_names_each_modules_own_commands():
    # cli.COMMANDS is what lets a command line build only its command's module.
    import argparse
    import importlib

    from reviewbot.cli import COMMANDS

    for module in dict.fromkeys(COMMANDS.values()):
        subparsers = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module).register(subparsers)
        assert sorted(subparsers.choices) == sorted(
            c for c, m in COMMANDS.items() if m == module), module


@pytest.mark.parametrize("command, argv", [
    ("queue", ["queue", "alice", "--json"]),
    ("reviewers", ["--config", "x.toml", "-v", "reviewers", "--as-of", "2017-02-20",
                   "--json"]),
    ("standing", ["--config=x.toml", "--team", "nova", "standing", "bob"]),
    ("queue", ["queue", "alice", "--team", "nova", "--limit", "3"]),
    ("sync", ["sync", "--full"]),
])
def test_a_command_line_parses_the_same_with_only_its_module(command, argv):
    from reviewbot.cli import build_parser, command_named

    assert command_named(argv) == command
    narrow = vars(build_parser(command_named(argv)).parse_args(argv))
    whole = vars(build_parser().parse_args(argv))
    assert narrow.keys() == whole.keys()
    assert {k: v for k, v in narrow.items() if k != "func"} == {
        k: v for k, v in whole.items() if k != "func"}
    assert narrow["func"].__qualname__ == whole["func"].__qualname__


@pytest.mark.parametrize("argv", [["--help"], [], ["qeueu"], ["--conf", "x", "queue"],
                                  ["-h", "queue"]])
def test_help_typos_and_abbreviations_get_the_whole_parser(argv):
    from reviewbot.cli import command_named

    assert command_named(argv) is None


def test_a_read_command_run_as_the_program_prints_its_whole_answer(tmp_path):
    # The answer commands leave with os._exit (cli.ANSWER_COMMANDS): what they printed
    # into a pipe (block-buffered) must still all arrive, and the store be left usable.
    from pathlib import Path

    source = (Path(__file__).resolve().parent.parent / "config" / "sandbox.toml").read_text()
    db = tmp_path / "reviewbot.db"
    config = tmp_path / "reviewbot.toml"
    config.write_text(source.replace('url = "sqlite:///data/sandbox/reviewbot.db"',
                                     f'url = "sqlite:///{db}"'))
    command = [sys.executable, "-m", "reviewbot.cli", "--config", str(config), "reviewers",
               "--as-of", "2017-02-20", "--json"]
    for _ in range(2):  # the second run opens the store the first one left
        out = subprocess.run(command, capture_output=True, text=True, timeout=60,
                             check=False)
        assert out.returncode == 0, out.stderr
        answer = json.loads(out.stdout)
        assert answer["reviewers"] == [] and answer["as_of"].startswith("2017-02-20")
