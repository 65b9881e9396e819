"""Standing: compare a reviewer's metrics with the project's declared `[standing.criteria]`.

`min_months_active` is measured by the `months_active` metric: the number of
distinct calendar months (UTC) inside the standing window in which the
reviewer has at least one review. It rewards steady activity over a burst,
and, like every figure, it is reproducible as of any past date.

Evidence first (DESIGN "Review-quality metrics"): a ratio criterion is met only on
at least `standing.min_evidence` reviews behind the ratio (judged reviews for the
disagreement ratio, judged +1s for +1 precision, -1 reviews for the catch rate);
below that it reads "not enough reviews yet" with how many are missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
# Ratio metric -> (the metric counting the reviews behind it, how a page names them).
EVIDENCE: dict[str, tuple[str, str]] = {
    "disagreement_ratio": ("judged_reviews", "judged"),
    "plus1_precision": ("judged_plus1", "judged +1s"),
    "minus1_catch_rate": ("minus1_reviews", "-1 reviews"),
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
    evidence: int | None = None  # reviews behind a ratio (None: not a ratio criterion)
    evidence_needed: int = 0  # ... at least this many before it can be met

    @property
    def enough(self) -> bool:
        return self.evidence is None or self.evidence >= self.evidence_needed

    @property
    def missing(self) -> int:
        """Reviews still missing before the ratio counts (0 when there are enough)."""
        return 0 if self.enough else self.evidence_needed - (self.evidence or 0)

    @property
    def evidence_label(self) -> str:
        return EVIDENCE[self.metric][1] if self.metric in EVIDENCE else ""

    @property
    def status(self) -> str:
        if not self.enough:
            return (f"not enough reviews yet: {self.evidence} of {self.evidence_needed} "
                    f"{self.evidence_label} ({self.missing} more needed)")
        return "met" if self.met else "not met"

    def as_dict(self) -> dict[str, Any]:
        # The fields are plain values: a shallow copy is `asdict` without its deep walk,
        # which cost ~0.1 s of a 575-row `reviewers --json`.
        return {**vars(self), "enough_evidence": self.enough, "missing": self.missing,
                "status": self.status}


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
    metrics: dict[str, float | int | None], criteria: Criteria, min_evidence: int = 20,
) -> list[CriterionProgress]:
    """One row per configured criterion (unset criteria are skipped), in a fixed order.
    A ratio criterion with fewer than `min_evidence` reviews behind it is not met, and its
    progress is how far the evidence has come."""
    rows = []
    for key, (metric, kind, label) in CRITERIA.items():
        target = getattr(criteria, key, None)
        if target is None:
            continue
        value = metrics.get(metric)
        met, progress = _progress(kind, value, target)
        evidence = None
        if metric in EVIDENCE:
            evidence = int(metrics.get(EVIDENCE[metric][0]) or 0)
            if evidence < min_evidence:
                met, progress = False, evidence / min_evidence
        rows.append(CriterionProgress(key, metric, label, value, target, met, progress,
                                      evidence, min_evidence if evidence is not None else 0))
    return rows


def criteria_met(rows: list[CriterionProgress]) -> int:
    return sum(r.met for r in rows)
