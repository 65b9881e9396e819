"""The collector pause of the bulk steps: only where a process allowed it, never in the web's."""

from __future__ import annotations

import gc

import pytest

from reviewbot.cli import main
from reviewbot.sync import allocation
from reviewbot.sync.allocation import allow_collector_pause, collector_paused


@pytest.fixture(autouse=True)
def _restore():
    yield
    allow_collector_pause(False)
    gc.enable()


def test_without_allowance_the_collector_stays_on():
    allow_collector_pause(False)  # what `reviewbot web` and `reviewbot demo` leave it at
    with collector_paused():
        assert gc.isenabled()
    assert gc.isenabled()


def test_an_allowed_process_pauses_for_the_step_and_resumes_even_on_error():
    allow_collector_pause()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("a failed page")
    assert gc.isenabled()
    gc.disable()  # a caller that had it off keeps it off
    with collector_paused():
        pass
    assert not gc.isenabled()


@pytest.mark.parametrize(("command", "allowed"), [("check-config", True), ("web", False)])
def test_the_cli_allows_the_pause_for_every_command_but_the_web_server(tmp_path, command,
                                                                       allowed):
    allow_collector_pause(not allowed)
    # A missing config ends both commands before they do anything.
    main(["--config", str(tmp_path / "missing.toml"), command])
    assert allocation._pause_allowed is allowed
