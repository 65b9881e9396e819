"""CLI cycle lock: `reviewbot cycle` and `reviewbot judge` write what a cycle writes, so
while another process holds the cycle lock they exit 3 and say why, on SQLite
(flock next to the database) and PostgreSQL (advisory lock)."""

from __future__ import annotations

import json
import re

import pytest

from reviewbot.cli import main
from reviewbot.config import load_config
from reviewbot.service.coordination import cycle_guard
from tests.conftest import ROOT

BUSY = "another process is running a cycle right now; try again later"


@pytest.fixture
def config_path(store_url, tmp_path):
    text = (ROOT / "config" / "sandbox.toml").read_text()
    path = tmp_path / "reviewbot.toml"
    path.write_text(re.sub(r'(?m)^url = "sqlite:.*"$', f'url = "{store_url}"', text))
    return path


@pytest.mark.parametrize("command", [["judge"], ["judge", "--json"],
                                     ["cycle"], ["cycle", "--json"]])
def test_commands_exit_3_while_another_process_runs_a_cycle(command, config_path, capsys):
    with cycle_guard(load_config(config_path)):
        assert main(["--config", str(config_path), *command]) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert BUSY in err


def test_judge_runs_once_the_cycle_lock_is_free(config_path, capsys):
    with cycle_guard(load_config(config_path)):
        assert main(["--config", str(config_path), "judge", "--json"]) == 3
    capsys.readouterr()
    assert main(["--config", str(config_path), "judge", "--json"]) == 0
    out, err = capsys.readouterr()
    assert BUSY not in err
    assert json.loads(out)["changes"] == 0  # an empty store: nothing to judge
