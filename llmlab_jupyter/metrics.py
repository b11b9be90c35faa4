"""Prometheus metrics of llmlab-jupyter, served at ``<base_url>llmlab/metrics``.

Each server extension owns one :class:`Metrics` (a private ``CollectorRegistry``, so two apps
in one process, as in tests, never share counters). Code that runs inside the server reaches
the active one with :func:`current`::

    from llmlab_jupyter import metrics
    metrics.current().http_requests.labels(method="GET", route="/projects", status="200").inc()

Adding a metric (model calls, tokens, cost, experiments or jobs by state, ...): declare it as
an attribute in :meth:`Metrics.__init__` with ``registry=self.registry``, named
``llmlab_<noun>_<unit>`` with low-cardinality labels (model, project, state; never user text).
``prometheus_client`` is imported here only, on first use.
"""

from __future__ import annotations

import threading
from typing import Any

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
        # Model calls, tokens, cost, latency and errors by model and project, and experiments
        # and jobs by state, are declared here by the gateway and executor work.

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record one served request (``route`` is the template, never the raw path)."""
        self.http_requests.labels(method=method, route=route, status=str(status)).inc()
        self.http_request_duration.labels(method=method, route=route).observe(seconds)

    def render(self) -> tuple[bytes, str]:
        """The registry in the Prometheus text format, with its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


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
