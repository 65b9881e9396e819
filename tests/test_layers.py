"""Layers: the store's plain review row and the judging's Review stay convertible.

Which package may import which is checked by `lint-imports` (the contracts in
pyproject.toml, run by `make test`); this file keeps the one layering fact that is about
data, not imports.
"""

from __future__ import annotations

import dataclasses

from reviewbot.metrics.standing_figures import Review
from reviewbot.timeline.snapshot import JudgedReview


def test_stored_reviews_carry_every_field_of_a_judged_review():
    # The store's plain row and the judging's Review convert into each other by position.
    assert tuple(f.name for f in dataclasses.fields(Review)) == JudgedReview._fields
