"""Report output: the PTL report as JSON, plain text, Markdown (mailing list) and CSV rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from reviewbot.metrics.core_effort import Distribution
from reviewbot.metrics.report import STATE_LABELS, STATES, PriorityReport, Report, ReportChange
from reviewbot.views.bidi import isolate

CSV_COLUMNS = (
    "number", "project", "branch", "subject", "owner", "priorities", "status", "state", "wip",
    "patch_set", "patch_set_created", "created", "last_update", "last_activity", "closed",
    "wait_days",
    "age_days", "stale",
)


def _stamp(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _dist(d: Distribution) -> dict[str, Any]:
    return {"count": d.count, "median_days": _round(d.median), "p75_days": _round(d.p75)}


def _row(r: ReportChange) -> dict[str, Any]:
    return {
        "number": r.number, "project": r.project, "branch": r.branch, "subject": r.subject,
        "owner": r.owner, "priorities": list(r.priorities), "status": r.status,
        "state": r.state, "wip": r.wip, "patch_set": r.patch_set,
        "patch_set_created": _stamp(r.patch_set_created), "created": _stamp(r.created),
        "last_update": _stamp(r.last_update), "last_activity": _stamp(r.last_activity),
        "closed": _stamp(r.closed),
        "wait_days": _round(r.wait_days), "age_days": _round(r.age_days), "stale": r.stale,
    }


def _priority(p: PriorityReport) -> dict[str, Any]:
    return {
        "id": p.id, "title": p.title, "rank": p.rank, "owners": list(p.owners), "spec": p.spec,
        "open": p.open, "merged": p.merged, "abandoned": p.abandoned,
        "states": dict(p.states),
        "wait_since_patch_set": _dist(p.wait_since_patch_set), "age": _dist(p.age),
        "merges_per_week": [
            {"week_start": w.week_start.isoformat(), "merged": w.merged}
            for w in p.merges_per_week
        ],
        "stale": [_row(r) for r in p.stale],
        "changes": [r.number for r in p.changes],
    }


def report_json(report: Report) -> dict[str, Any]:
    """The machine-readable report (`--format json`, `/api/v1/report`)."""
    e = report.effort
    other = _priority(report.other)
    other.pop("owners"), other.pop("spec"), other.pop("rank")
    return {
        "cycle": report.cycle,
        "cycle_start": report.cycle_start.isoformat(),
        "cycle_end": report.cycle_end.isoformat(),
        "feature_freeze": report.feature_freeze.isoformat() if report.feature_freeze else None,
        "milestones": {k: v.isoformat() for k, v in report.milestones.items()},
        "as_of": _stamp(report.as_of),
        "stale_days": report.stale_days,
        "priorities": [_priority(p) for p in report.priorities],
        "not_priority": other,
        "core_reviews": e.reviews,
        "core_priority_reviews": e.priority_reviews,
        "core_priority_share": e.core_priority_share,
        "gate_compliance": dict(e.gate_compliance),
        "cores": [
            {"username": f.username, "account_id": f.account_id, "reviews": f.reviews,
             "priority_reviews": f.priority_reviews, "priority_share": f.priority_share,
             "exempt_reviews": f.exempt_reviews, "gate_checked": f.gate_checked,
             "gate_jumps": f.gate_jumps}
            for f in e.cores
        ],
        "gate_latency": _dist(e.gate_latency),
        "core_latency_after_gate": _dist(e.core_latency_after_gate),
        "notes": list(report.notes),
    }


# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV
# injection"): `=HYPERLINK(...)` in a subject anyone can type into Gerrit would run
# in the PTL's spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula, with a leading apostrophe (shown
    as text, the apostrophe hidden); numbers and other text unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def render_csv(report: Report) -> str:
    """One row per change in the report's scope, as of T; no cell runs as a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in report.rows:
        d = _row(r)
        d["priorities"] = ";".join(r.priorities)
        writer.writerow([spreadsheet_safe("" if d[k] is None else d[k]) for k in CSV_COLUMNS])
    return out.getvalue()


def _days(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def _waits(p: PriorityReport) -> str:
    w, a = p.wait_since_patch_set, p.age
    def days(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1f} days"

    return (
        f"since current patch set: median {days(w.median)}, 75th percentile "
        f"{days(w.p75)}; total age: median {days(a.median)}, 75th percentile {days(a.p75)}"
    )


def _states(p: PriorityReport) -> str:
    return ", ".join(f"{STATE_LABELS[s]} {p.states[s]}" for s in STATES)


def _weeks(p: PriorityReport) -> str:
    return " ".join(str(w.merged) for w in p.merges_per_week) or "none"


def _header(report: Report) -> list[str]:
    freeze = f", feature freeze {report.feature_freeze}" if report.feature_freeze else ""
    return [
        f"Cycle {report.cycle_start} to {report.cycle_end}{freeze}. Changes created by the "
        f"report date and updated during the cycle; stale = no human activity for "
        f"{report.stale_days} days.",
    ]


def render_markdown(report: Report, link_base: str) -> str:
    """Markdown for pasting into a mailing-list post; change links point at Gerrit."""
    base = link_base.rstrip("/")
    lines = [
        f"# {report.cycle.capitalize()} review priorities: status as of {_stamp(report.as_of)}",
        "",
        *_header(report),
        "",
        "| Priority | Open | Merged | Abandoned | Waiting on reviewers | Waiting on author "
        "| Blocked | Approved | Stale |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in [*report.priorities, report.other]:
        s = p.states
        lines.append(
            f"| {p.title} | {p.open} | {p.merged} | {p.abandoned} | "
            f"{s['waiting_on_reviewers']} | {s['waiting_on_author']} | {s['blocked']} | "
            f"{s['approved']} | {len(p.stale)} |"
        )
    for p in report.priorities:
        lines += ["", f"## {p.rank}. {p.title}", ""]
        if p.owners:
            lines.append(f"Owners: {', '.join(p.owners)}  ")
        if p.spec:
            lines.append(f"Spec: <{p.spec}>  ")
        lines.append(f"Open {p.open}, merged {p.merged}, abandoned {p.abandoned}.  ")
        lines.append(f"Open by state: {_states(p)}.  ")
        lines.append(f"Waits {_waits(p)}.  ")
        lines.append(f"Merges per week from {report.cycle_start}: {_weeks(p)}")
        if p.stale:
            lines += ["", f"Stale (no human activity for {report.stale_days} days):", ""]
            for r in p.stale:
                lines.append(
                    f"- [{r.number}]({base}/{r.number}) {_md(r.subject)} "
                    f"({_stale_state(r)}, last human activity {r.last_activity.date()})"
                )
    lines += ["", *_effort_lines(report, markdown=True)]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    """Keep subjects from turning into Markdown markup, or reordering the line (bidi)."""
    for ch in "\\`*_[]<>|":
        text = text.replace(ch, "\\" + ch)
    return isolate(text)


def _effort_lines(report: Report, *, markdown: bool) -> list[str]:
    e = report.effort
    title = f"Core review effort ({report.cycle_start} to {_stamp(report.as_of)})"
    lines = [f"## {title}" if markdown else title.upper(), ""]
    lines.append(
        f"Core reviews: {e.reviews}, on priority changes: {e.priority_reviews} "
        f"({_pct(e.core_priority_share)})."
    )
    lines.append(
        f"Gate latency (upload to first qualifying non-core +1): median "
        f"{_days(e.gate_latency.median)} days over {e.gate_latency.count} patch sets."
    )
    lines.append(
        f"Core latency after the gate (gate opening to first core review): median "
        f"{_days(e.core_latency_after_gate.median)} days over "
        f"{e.core_latency_after_gate.count} patch sets."
    )
    for note in report.notes:
        lines.append(f"Note: {note}")
    if markdown:
        lines = [line + "  " if line and i > 1 else line for i, line in enumerate(lines)]
    if not e.cores:
        return lines
    lines.append("")
    header = ("Core", "Reviews", "On priorities", "Share", "Exempt", "Gated kind",
              "Gate jumps")
    rows = [
        (f.username, str(f.reviews), str(f.priority_reviews), _pct(f.priority_share),
         str(f.exempt_reviews), str(f.gate_checked), str(f.gate_jumps))
        for f in e.cores
    ]
    if markdown:
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|---|" + "---:|" * (len(header) - 1))
        lines += ["| " + " | ".join(r) + " |" for r in rows]
    else:
        lines += _table(header, rows)
    return lines


def _stale_state(r: ReportChange) -> str:
    """Stale rows are open changes, and an open change always has a review state."""
    if r.state is None:
        raise ValueError(f"change {r.number} is listed as stale but has no review state")
    return STATE_LABELS[r.state]


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return [fmt.format(*header), *(fmt.format(*r) for r in rows)]


def render_text(report: Report) -> str:
    """Plain text for the terminal."""
    lines = [
        f"{report.cycle.capitalize()} review priorities as of {_stamp(report.as_of)}",
        *_header(report),
        "",
    ]
    for p in [*report.priorities, report.other]:
        prefix = f"{p.rank}. " if p.rank else ""
        lines.append(f"{prefix}{p.title}")
        if p.owners:
            lines.append(f"  owners: {', '.join(p.owners)}")
        lines.append(f"  open {p.open}, merged {p.merged}, abandoned {p.abandoned}")
        lines.append(f"  open by state: {_states(p)}")
        lines.append(f"  waits {_waits(p)}")
        lines.append(f"  merges per week from {report.cycle_start}: {_weeks(p)}")
        # Non-priority changes: the count is in the state line; listing them is the queue's job.
        for r in p.stale if p is not report.other else ():
            lines.append(
                f"  stale: {r.number} {isolate(r.subject)} ({_stale_state(r)}, "
                f"last human activity {r.last_activity.date()})"
            )
        lines.append("")
    lines += _effort_lines(report, markdown=False)
    return "\n".join(lines) + "\n"
