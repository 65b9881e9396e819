"""Release schedule tables: the `[cycle]` dates a PTL would draft by hand from the .rst."""

from __future__ import annotations

import tomllib
from datetime import date

import pytest

from reviewbot.config import CycleSection
from reviewbot.config.cycle_draft import cycle_toml, draft_cycle
from reviewbot.config.rst_tables import RstError
from reviewbot.config.schedule_rst import read_schedule
from tests.conftest import PRIORITIES_RST

GLANCE = ["openstack/glance", "openstack/python-glanceclient", "openstack/glance_store"]

# The release team's shape (releases.openstack.org schedule.rst): a grid table whose
# header spans two columns, events as :ref: labels resolved to their section titles,
# sub-rows inside a week, and the cycle's span stated above the table.
RELEASES_GRID = """\
=======================
 Queens Release Schedule
=======================

28 August 2017 - 2 March 2018 (27 weeks)

+-------------------+---------------------------+-----------------------------+
| Week              | Cross-project events      | Project-specific events     |
+============+======+===========================+=============================+
| Aug 21-25  |      | :ref:`q-goals-research`   |                             |
+------------+------+---------------------------+-----------------------------+
| Aug 28-01  | R-27 |                           |                             |
+------------+------+---------------------------+-----------------------------+
| Oct 16-20  | R-20 | :ref:`q-1`                | :ref:`q-nova-spec-freeze`   |
+------------+------+---------------------------+-----------------------------+
| Jan 15-19  | R-6  | :ref:`q-final-lib`        | :ref:`q-horizon-ff`         |
+------------+------+---------------------------+-----------------------------+
| Jan 22-26  | R-5  | :ref:`q-3`                |                             |
|            |      +---------------------------+-----------------------------+
|            |      | :ref:`q-ff`               |                             |
+------------+------+---------------------------+-----------------------------+
| Feb 05-09  | R-3  | :ref:`q-rc1`              |                             |
+------------+------+---------------------------+-----------------------------+
| Feb 26-02  | R+0  | :ref:`q-release`          |                             |
+------------+------+---------------------------+-----------------------------+

.. _q-goals-research:

Queens Goals Research
---------------------

.. _q-1:

Queens-1 milestone
------------------

.. _q-final-lib:

Final release for non-client libraries
--------------------------------------

.. _q-horizon-ff:

Horizon Feature Freeze
^^^^^^^^^^^^^^^^^^^^^^

.. _q-3:

Queens-3 milestone
------------------

.. _q-ff:

Feature freeze
--------------

.. _q-rc1:

RC1 target week
---------------

.. _q-release:

Queens release
--------------
"""

# The shape the brief names: a list-table with a date column and milestone names.
PLAIN_LIST = """\
.. list-table::
   :header-rows: 1

   * - Week
     - Event
   * - 2024-10-07
     - Milestone 1
   * - 2024-11-18
     - Milestone 2
   * - 2025-01-06
     - Milestone 3
   * - 2025-01-06
     - Feature Freeze
   * - 2025-02-17
     - RC1
   * - 2025-03-31
     - Final release
"""


@pytest.mark.parametrize(("source", "name", "kw", "expected"), [
    # glance-specs "Important dates": no year anywhere, taken from the outgoing cycle's start.
    ("ocata", "ocata", {"not_before": date(2016, 4, 7)},
     dict(start=date(2016, 11, 7), end=date(2017, 2, 20), feature_freeze=date(2017, 1, 23),
          rc=date(2017, 1, 30), release=date(2017, 2, 20),
          milestones={"O-1": date(2016, 11, 14), "O-2": date(2016, 12, 12),
                      "O-3": date(2017, 1, 23)})),
    ("pike", "pike", {"not_before": date(2016, 10, 6)},
     dict(start=date(2017, 3, 27), end=date(2017, 8, 28), feature_freeze=date(2017, 7, 24),
          rc=date(2017, 8, 7), release=date(2017, 8, 28),
          milestones={"P-1": date(2017, 4, 10), "P-2": date(2017, 6, 5),
                      "P-3": date(2017, 7, 24)})),
    # --year wins over the outgoing cycle.
    ("pike", "pike", {"year": 2030, "not_before": date(2016, 10, 6)},
     dict(start=date(2030, 3, 27), end=date(2030, 8, 28), feature_freeze=date(2030, 7, 24),
          rc=date(2030, 8, 7), release=date(2030, 8, 28),
          milestones={"P-1": date(2030, 4, 10), "P-2": date(2030, 6, 5),
                      "P-3": date(2030, 7, 24)})),
    # The release team's grid: span from the file, another project's freeze ignored.
    (RELEASES_GRID, "queens", {},
     dict(start=date(2017, 8, 28), end=date(2018, 3, 2), feature_freeze=date(2018, 1, 22),
          rc=date(2018, 2, 5), release=date(2018, 2, 26),
          milestones={"Q-1": date(2017, 10, 16), "Q-3": date(2018, 1, 22)})),
    (PLAIN_LIST, "epoxy", {},
     dict(start=date(2024, 10, 7), end=date(2025, 3, 31), feature_freeze=date(2025, 1, 6),
          rc=date(2025, 2, 17), release=date(2025, 3, 31),
          milestones={"E-1": date(2024, 10, 7), "E-2": date(2024, 11, 18),
                      "E-3": date(2025, 1, 6)})),
])
def test_schedule_dates(source: str, name: str, kw: dict, expected: dict) -> None:
    text = (PRIORITIES_RST / f"{source}-priorities.rst").read_text() if "\n" not in source \
        else source
    draft = draft_cycle(text, name, projects=GLANCE, **kw)
    got = {k: getattr(draft, k) for k in expected}
    assert got == expected
    # The draft is TOML that validates as a [cycle] section.
    section = tomllib.loads(cycle_toml(draft, source="x.rst"))["cycle"]
    assert CycleSection.model_validate(section).feature_freeze == expected["feature_freeze"]


def test_a_file_without_a_schedule_drafts_no_dates() -> None:
    draft = draft_cycle((PRIORITIES_RST / "newton-priorities.rst").read_text(), "newton")
    assert (draft.rows, draft.start, draft.feature_freeze) == (0, None, None)
    assert "no release schedule table" in cycle_toml(draft, source="newton-priorities.rst")


def test_another_cycles_schedule_is_pointed_out() -> None:
    draft = draft_cycle((PRIORITIES_RST / "ocata-priorities.rst").read_text(), "pike",
                        not_before=date(2016, 10, 6), projects=GLANCE)
    assert draft.release is None
    assert any("'Ocata release', not the pike release" in c for c in draft.comments)


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(("broken", "problem"), [
    # A date that is not one.
    (lambda t: t.replace("Jan 22-26", "Jqn 22-26"),
     lambda t: f"line {_line(t, 'Jqn 22-26')}: 'Jqn 22-26' is not a date"),
    # A cell border out of line.
    (lambda t: t.replace("| Feb 05-09  | R-3  |", "| Feb 05-09 | R-3  |"),
     lambda t: f"line {_line(t, 'Feb 05-09')}: grid table row is 78 characters wide, its "
               "border 79"),
    # Rows out of date order (a wrong month).
    (lambda t: t.replace("Feb 05-09", "Jan 05-09"),
     lambda t: f"line {_line(t, 'Jan 05-09')}: 2018-01-05 comes before the row above it"),
])
def test_a_malformed_table_names_its_line(broken, problem) -> None:
    text = broken(RELEASES_GRID)
    with pytest.raises(RstError) as err:
        read_schedule(text)
    assert str(err.value).startswith(problem(text))


def test_no_year_anywhere_asks_for_one() -> None:
    text = (PRIORITIES_RST / "pike-priorities.rst").read_text()
    with pytest.raises(RstError) as err:
        read_schedule(text)  # no year given, none in the file, no outgoing cycle
    assert str(err.value) == (f"line {_line(text, '* - R-22')}: the schedule's dates carry no "
                              "year and the file names none: pass --year (the year of the "
                              "first row)")
