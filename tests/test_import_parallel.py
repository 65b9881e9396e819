"""Import with the dump parsed in a second process: the same store, the same errors."""

from __future__ import annotations

import multiprocessing
import sqlite3

import pytest

from reviewbot.store import open_store
from reviewbot.sync.importer import ImportFailed, import_files
from tests.conftest import FIXTURES

SAMPLES = sorted((FIXTURES / "ssh").glob("gerrit_reviews_page_*"))
TABLES = ("account", "change", "patch_set", "message", "vote_event", "current_vote")


def _rows(url: str) -> dict[str, list[tuple]]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return {t: conn.execute(f'SELECT * FROM "{t}" ORDER BY 1, 2').fetchall()
                for t in TABLES}


def _fresh(tmp_path, name: str):
    url = f"sqlite:///{tmp_path / name}"
    return url, open_store(url)


@pytest.mark.parametrize("batch_size", [1, 3, 2000])
def test_parsing_beside_writes_what_parsing_in_process_writes(tmp_path, batch_size):
    here_url, here = _fresh(tmp_path, "here.db")
    beside_url, beside = _fresh(tmp_path, "beside.db")
    ticks: dict[bool, list[tuple[int, int]]] = {False: [], True: []}
    first = import_files(here, SAMPLES, batch_size=batch_size, parallel=False,
                         progress=lambda done, total: ticks[False].append((done, total)))
    second = import_files(beside, SAMPLES, batch_size=batch_size, parallel=True,
                          progress=lambda done, total: ticks[True].append((done, total)))
    assert second.as_dict() | {"seconds": 0} == first.as_dict() | {"seconds": 0}
    assert second.files == len(SAMPLES) and second.counts.messages > 0
    assert _rows(beside_url) == _rows(here_url)
    # The same progress, through every file, never backwards.
    total = sum(p.stat().st_size for p in SAMPLES)
    assert ticks[True] == ticks[False]
    assert {t for _, t in ticks[True]} == {total}
    done = [d for d, _ in ticks[True]]
    assert done == sorted(done) and done[-1] > total - SAMPLES[-1].stat().st_size
    # A second import (the store is no longer empty: the per-batch path) writes nothing.
    assert import_files(beside, SAMPLES, parallel=True).counts.rows == 0
    here.dispose()
    beside.dispose()


def test_bad_line_stops_at_the_same_place_beside(tmp_path):
    lines = SAMPLES[1].read_text().splitlines()
    dump = tmp_path / "dump.json"
    dump.write_text("\n".join(lines[:2]) + "\n{truncated\n")
    urls = []
    for parallel in (False, True):
        url, engine = _fresh(tmp_path, f"{parallel}.db")
        with pytest.raises(ImportFailed, match=r"dump.json:3: not a JSON line"):
            import_files(engine, [dump], batch_size=1, parallel=parallel)
        urls.append(url)
        engine.dispose()
    kept = _rows(urls[1])
    assert len(kept["change"]) == 2  # both batches before the bad line
    assert kept == _rows(urls[0])
    assert not multiprocessing.active_children()


def test_missing_file_beside_names_it_after_the_files_before(tmp_path):
    url, engine = _fresh(tmp_path, "store.db")
    with pytest.raises(ImportFailed, match="missing.json: no such file"):
        import_files(engine, [SAMPLES[0], tmp_path / "missing.json"], parallel=True)
    assert _rows(url)["change"]  # the first file's changes were written
    engine.dispose()


def test_a_failed_write_stops_the_parser(tmp_path):
    _, engine = _fresh(tmp_path, "store.db")

    class Stop(Exception):
        pass

    def stop(done: int, total: int) -> None:
        raise Stop  # as if the write of the first batch had failed

    with pytest.raises(Stop):
        import_files(engine, SAMPLES, batch_size=1, parallel=True, progress=stop)
    assert not multiprocessing.active_children()
    engine.dispose()
