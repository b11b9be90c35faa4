"""Prometheus metrics of llmlab-jupyter, served at ``<base_url>llmlab/metrics``.

Each server extension owns one :class:`Metrics` (a private ``CollectorRegistry``, so two apps
in one process, as in tests, never share counters). Code that runs inside the server reaches
the active one with :func:`current`::

    from llmlab_jupyter import metrics
    metrics.current().http_requests.labels(method="GET", route="/projects", status="200").inc()

Model calls, tokens, cost, latency and errors (by project slug and model), and experiments
and jobs by state, are made by many processes (background runs, notebook kernels, batch
workers) that all write the database; :class:`DatabaseCollector` reads them from there at
scrape time (:meth:`Metrics.watch_store`), so every process is counted and nothing is lost on
restart. Labels are project slugs, model ids, states and error codes: never user names or text.

Adding an in-process metric: declare it as an attribute in :meth:`Metrics.__init__` with
``registry=self.registry``, named ``llmlab_<noun>_<unit>`` with low-cardinality labels.
``prometheus_client`` is imported here only, on first use.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store.metrics import MetricTotals

log = logging.getLogger(__name__)

#: Latency buckets (seconds) for HTTP requests.
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """A private registry and the metric objects registered in it."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "llmlab_http_requests",
            "REST requests served, by route template, method and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_request_duration = Histogram(
            "llmlab_http_request_duration_seconds",
            "Time to serve a REST request, by route template and method.",
            ["method", "route"],
            buckets=HTTP_BUCKETS,
            registry=self.registry,
        )
        self.database: DatabaseCollector | None = None

    def watch_store(self, store: Any) -> DatabaseCollector:
        """Serve the ledger, experiment and job totals of ``store`` (read at each scrape)."""
        if self.database is not None:
            self.registry.unregister(self.database)
        self.database = DatabaseCollector(store)
        self.registry.register(self.database)
        return self.database

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record one served request (``route`` is the template, never the raw path)."""
        self.http_requests.labels(method=method, route=route, status=str(status)).inc()
        self.http_request_duration.labels(method=method, route=route).observe(seconds)

    def render(self) -> tuple[bytes, str]:
        """The registry in the Prometheus text format, with its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


#: States every project reports (0 when none), so a series drops to 0 instead of vanishing.
EXPERIMENT_STATES = (
    "created",
    "running",
    "completed",
    "failed",
    "cancelled",
    "budget_exceeded",
    "interrupted",
)
JOB_STATES = ("queued", "running", "succeeded", "failed", "cancelled")


class DatabaseCollector:
    """A prometheus-client collector reading the store at scrape time.

    One read transaction per scrape (:meth:`SQLStore.metric_totals`): the usage ledger grouped
    by project and model, experiments by status and jobs by state. If the database cannot be
    read, the scrape still succeeds with ``llmlab_database_up 0`` and the error is logged.
    """

    def __init__(self, store: Any) -> None:
        self.store = store

    def describe(self) -> Iterator[Any]:
        """The families without samples (so registering does not query the database)."""
        yield from self._families(None, up=1.0, seconds=0.0)

    def collect(self) -> Iterator[Any]:
        started = time.perf_counter()
        try:
            totals: MetricTotals | None = self.store.metric_totals()
            up = 1.0
        except Exception:  # a scrape must not fail because the database hiccups
            log.exception("llmlab: reading metrics from the database failed")
            totals, up = None, 0.0
        yield from self._families(totals, up=up, seconds=time.perf_counter() - started)

    def _families(self, totals: MetricTotals | None, *, up: float, seconds: float) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        from .store.metrics import LATENCY_BUCKETS

        pm = ["project", "model"]
        calls = CounterMetricFamily(
            "llmlab_model_calls",
            "Model calls in the usage ledger (every process), by outcome and cache hit.",
            labels=[*pm, "status", "cache_hit"],
        )
        tokens = CounterMetricFamily(
            "llmlab_model_tokens",
            "Tokens of model calls, by kind (prompt or completion).",
            labels=[*pm, "kind"],
        )
        cost = CounterMetricFamily(
            "llmlab_model_cost_usd", "Cost of model calls in US dollars.", labels=pm
        )
        saved = CounterMetricFamily(
            "llmlab_model_saved_usd",
            "Cost the cache saved (what cache hits would have cost), in US dollars.",
            labels=pm,
        )
        errors = CounterMetricFamily(
            "llmlab_model_errors", "Failed model calls, by error code.", labels=[*pm, "error_code"]
        )
        latency = HistogramMetricFamily(
            "llmlab_model_latency_seconds",
            "Latency of model calls that reached the provider (cache hits excluded).",
            labels=pm,
        )
        experiments = GaugeMetricFamily(
            "llmlab_experiments", "Experiments by status.", labels=["project", "status"]
        )
        jobs = GaugeMetricFamily("llmlab_jobs", "Batch jobs by state.", labels=["project", "state"])
        if totals is not None:
            by_calls: dict[tuple[str, ...], int] = defaultdict(int)
            by_model: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0])
            by_error: dict[tuple[str, str, str], int] = defaultdict(int)
            hist: dict[tuple[str, str], list[float]] = {}
            for u in totals.usage:
                key = (u.project, u.model)
                hit = "true" if u.cache_hit else "false"
                by_calls[(u.project, u.model, u.status, hit)] += u.calls
                acc = by_model[key]
                acc[0] += u.prompt_tokens
                acc[1] += u.completion_tokens
                acc[2] += u.cost_usd
                acc[3] += u.saved_usd
                if u.status != "ok":
                    by_error[(u.project, u.model, u.error_code or "unknown")] += u.calls
                if u.latency_count:
                    h = hist.setdefault(key, [0.0] * (len(u.buckets) + 2))
                    for i, n in enumerate(u.buckets):
                        h[i] += n
                    h[-2] += u.latency_count
                    h[-1] += u.latency_sum_s
            for labels, n in sorted(by_calls.items()):
                calls.add_metric(list(labels), n)
            for (project, model), (p_tok, c_tok, usd, saved_usd) in sorted(by_model.items()):
                tokens.add_metric([project, model, "prompt"], p_tok)
                tokens.add_metric([project, model, "completion"], c_tok)
                cost.add_metric([project, model], usd)
                saved.add_metric([project, model], saved_usd)
            for labels3, n in sorted(by_error.items()):
                errors.add_metric(list(labels3), n)
            for (project, model), h in sorted(hist.items()):
                buckets = [(_le(b), h[i]) for i, b in enumerate(LATENCY_BUCKETS[: len(h) - 2])] + [
                    ("+Inf", h[-2])
                ]
                latency.add_metric([project, model], buckets, h[-1])
            for family, rows, states in (
                (experiments, totals.experiments, EXPERIMENT_STATES),
                (jobs, totals.jobs, JOB_STATES),
            ):
                counts: dict[str, dict[str, int]] = {}
                for project, state, n in rows:
                    counts.setdefault(project, dict.fromkeys(states, 0))[state] = n
                for project, by_state in sorted(counts.items()):
                    for state, n in sorted(by_state.items()):
                        family.add_metric([project, state], n)
        yield from (calls, tokens, cost, saved, errors, latency, experiments, jobs)
        yield GaugeMetricFamily(
            "llmlab_database_up", "1 if the last scrape could read the database.", value=up
        )
        yield GaugeMetricFamily(
            "llmlab_metrics_scrape_duration_seconds",
            "Time the last scrape spent reading the database.",
            value=seconds,
        )


def _le(bound: float) -> str:
    """A bucket bound as Prometheus writes it (``0.05``, ``1.0``)."""
    return repr(float(bound))


_lock = threading.Lock()
_current: Metrics | None = None


def current() -> Metrics:
    """The metrics of the running server extension (a fresh set if none is active)."""
    global _current
    with _lock:
        if _current is None:
            _current = Metrics()
        return _current


def activate(metrics: Metrics) -> Metrics:
    """Make ``metrics`` the ones :func:`current` returns (called by the server extension)."""
    global _current
    with _lock:
        _current = metrics
    return metrics


def labels_of(**values: Any) -> dict[str, str]:
    """Label values as strings (``None`` becomes ``""``), for ``.labels(**...)``."""
    return {k: "" if v is None else str(v) for k, v in values.items()}
