"""Standing: compare a reviewer's metrics with the project's declared `[standing.criteria]`.

`min_months_active` is measured by the `months_active` metric: the number of
distinct calendar months (UTC) inside the standing window in which the
reviewer has at least one review. It rewards steady activity over a burst,
and, like every figure, it is reproducible as of any past date.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from reviewbot.config import Criteria

# criterion key -> (metric it reads, "min" or "max", how the page names it)
CRITERIA: dict[str, tuple[str, str, str]] = {
    "min_reviews": ("reviews", "min", "Reviews"),
    "max_disagreement_ratio": ("disagreement_ratio", "max", "Disagreement ratio"),
    "min_minus1_catch_rate": ("minus1_catch_rate", "min", "-1 catch rate"),
    "min_thoughtful_minus1": ("thoughtful_minus1", "min", "Thoughtful -1s"),
    "min_months_active": ("months_active", "min", "Months active"),
    "min_priority_share": ("priority_share", "min", "Priority share"),
    "min_plus1_precision": ("plus1_precision", "min", "+1 precision"),
    "min_gate_opens": ("gate_opens", "min", "Gate opens"),
}


@dataclass(frozen=True)
class CriterionProgress:
    criterion: str  # config key, e.g. "min_reviews"
    metric: str
    label: str
    value: float | int | None
    target: float | int
    met: bool
    progress: float  # 0..1, for a progress bar

    def as_dict(self) -> dict:
        return asdict(self)


def _progress(kind: str, value: float | int | None, target: float | int) -> tuple[bool, float]:
    if value is None:
        # No denominator, no evidence: a criterion is never met by absence of data.
        return False, 0.0
    if kind == "min":
        met = value >= target
        progress = 1.0 if target <= 0 else min(1.0, value / target)
    else:
        met = value <= target
        # Above a maximum, progress shrinks as the value moves away from the target.
        progress = 1.0 if met else (target / value if value else 0.0)
    return met, max(0.0, min(1.0, float(progress)))


def evaluate_criteria(
    metrics: dict[str, float | int | None], criteria: Criteria
) -> list[CriterionProgress]:
    """One row per configured criterion (unset criteria are skipped), in a fixed order."""
    rows = []
    for key, (metric, kind, label) in CRITERIA.items():
        target = getattr(criteria, key, None)
        if target is None:
            continue
        value = metrics.get(metric)
        met, progress = _progress(kind, value, target)
        rows.append(CriterionProgress(key, metric, label, value, target, met, progress))
    return rows


def criteria_met(rows: list[CriterionProgress]) -> int:
    return sum(r.met for r in rows)
