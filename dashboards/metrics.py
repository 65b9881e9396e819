"""Web: /metrics — the store's facts as Prometheus metrics, read at scrape time.

prometheus_client's custom-collector pattern for values that live in a database: a
Collector whose `collect()` reads the store on each scrape and yields metric families,
registered on a CollectorRegistry of the app's own (never the process-global one, so two
apps in one process — tests — never share state), exposed with `generate_latest`. Any web
process can serve it: nothing is counted in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy.engine import Engine
from sqlmodel import Session

from reviewbot.config import Config

GATE_STATES = ("priority", "exempt", "open", "gated", "closed")
WRITE_RESULTS = ("planned", "applied", "failed", "forbidden")
CYCLE_STEPS = ("sync", "launchpad", "evaluate", "apply")

# The cycle's trend series (reviewbot.views.trends): metric name, TrendWeek field, help.
TREND_SERIES = (
    ("reviewbot_trend_queue_size", "queue_size",
     "Core queue size (open changes waiting on reviewers) at each cycle week's end."),
    ("reviewbot_trend_changes_created", "created", "Changes created in each cycle week."),
    ("reviewbot_trend_gate_latency_days", "gate_latency_days",
     "Median days from upload to the first non-core +1, by week created."),
    ("reviewbot_trend_core_latency_days", "core_latency_days",
     "Median days from upload to the first core review, by week created."),
)


def _gauge(name: str, help_text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help_text, value=value)


def _labelled(kind: type, name: str, help_text: str, label: str,
              samples: list[tuple[str, float]]) -> Metric:
    family = kind(name, help_text, labels=[label])
    for key, value in samples:
        family.add_metric([key], value)
    return family


def _epoch(value: datetime) -> float:
    return (value - datetime(1970, 1, 1)).total_seconds()


def metric_families(facts: dict[str, Any]) -> list[Metric]:
    """The metric families for the store's facts (reviewbot.store.ops.metrics_facts, plus
    `trends`: the worker's stored weeks as JSON). A pure function."""
    return [*_store_families(facts), *_trend_families(facts.get("trends") or [])]


def _store_families(facts: dict[str, Any]) -> list[Metric]:
    """The cycle, Gerrit, gate state, write-back and Launchpad cache figures."""
    last = facts.get("last_cycle") or {}
    counters = facts.get("counters") or {}
    sync_step = (last.get("steps") or {}).get("sync") or {}
    success = facts.get("last_sync_success")
    cycles = counters.get("cycles") or {}
    step_errors = counters.get("step_errors") or {}
    by_status = counters.get("gerrit_requests") or {}
    errors = {k: v for k, v in by_status.items() if not (k.isdigit() and int(k) < 400)}
    gates = facts.get("gate_states") or {}
    writes = facts.get("writes") or {}
    lp = counters.get("launchpad_cache") or {}
    return [
        _gauge("reviewbot_cycle_duration_seconds", "Wall time of the last cycle.",
               float(last.get("duration") or 0)),
        _gauge("reviewbot_sync_duration_seconds", "Wall time of the last cycle's sync step.",
               float(sync_step.get("seconds") or 0)),
        _gauge("reviewbot_last_sync_success_timestamp_seconds",
               "Unix time of the last successful sync (0: never).",
               _epoch(success) if success else 0),
        _labelled(CounterMetricFamily, "reviewbot_cycles_total", "Cycles run, by outcome.",
                  "outcome", [(k, cycles.get(k, 0)) for k in ("ok", "error")]),
        _labelled(CounterMetricFamily, "reviewbot_cycle_step_errors_total",
                  "Failed cycle steps, by step.", "step",
                  [(k, step_errors.get(k, 0)) for k in CYCLE_STEPS]),
        _labelled(CounterMetricFamily, "reviewbot_gerrit_requests_total",
                  "HTTP requests the cycles made to Gerrit, by response status.", "status",
                  sorted(by_status.items())),
        _labelled(CounterMetricFamily, "reviewbot_gerrit_errors_total",
                  "Gerrit requests that failed (HTTP status >= 400 or no response), by status.",
                  "status", sorted(errors.items())),
        _labelled(GaugeMetricFamily, "reviewbot_changes", "Evaluated changes, by gate state.",
                  "gate_state", [(k, gates.get(k, 0))
                                 for k in sorted(set(GATE_STATES) | set(gates))]),
        _labelled(CounterMetricFamily, "reviewbot_writes_total",
                  "Write-back actions logged, by result (planned includes dry runs).",
                  "result", [(k, writes.get(k, 0))
                             for k in sorted(set(WRITE_RESULTS) | set(writes))]),
        CounterMetricFamily("reviewbot_launchpad_cache_hits_total",
                            "Launchpad lookups answered from the cache.",
                            value=lp.get("hits", 0)),
        CounterMetricFamily("reviewbot_launchpad_cache_misses_total",
                            "Launchpad lookups that went to Launchpad.",
                            value=lp.get("misses", 0)),
        _gauge("reviewbot_launchpad_records", "Launchpad records cached.",
               facts.get("launchpad_records", 0)),
    ]


def _trend_families(weeks: list[dict[str, Any]]) -> list[Metric]:
    """One sample per cycle week; a week without a latency (nobody got the vote yet) has
    no sample rather than a zero. Among several teams each sample carries its team."""
    families: list[Metric] = []
    several = any("team" in w for w in weeks)
    for name, key, help_text in TREND_SERIES:
        family = GaugeMetricFamily(name, help_text,
                                   labels=["team", "week_start"] if several else ["week_start"])
        for w in weeks:
            if w.get(key) is not None:
                family.add_metric([w["team"], w["week_start"]] if several
                                  else [w["week_start"]], w[key])
        families.append(family)
    return families


def store_facts(engine: Engine, config: Config) -> dict[str, Any]:
    """Everything /metrics reports, read from the store in one session."""
    from reviewbot.store.ops import metrics_facts
    from reviewbot.views.trends import TRENDS_KEY, stored_trends

    with Session(engine) as session:
        facts = metrics_facts(session)
        # The worker's hourly copy: a scrape never replays the cycle.
        facts["trends"] = []
        several = config.several_teams
        for team in config.team_configs():  # one store key per team among several
            held = stored_trends(session, team.state_key(TRENDS_KEY))
            facts["trends"] += [{**w.as_json(), **({"team": team.team_name} if several
                                                   else {})} for w in held[1]] if held else []
    return facts


class StoreCollector(Collector):
    """Reads the store on every scrape (prometheus_client calls `collect`)."""

    def __init__(self, engine: Engine, config: Config):
        self.engine = engine
        self.config = config

    def collect(self) -> Iterator[Metric]:
        yield from metric_families(store_facts(self.engine, self.config))


def metrics_registry(engine: Engine, config: Config) -> CollectorRegistry:
    """A registry of the app's own with the store collector (auto_describe off: describing
    would read the store once more at registration)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(engine, config))
    return registry
