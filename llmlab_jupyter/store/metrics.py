"""Totals for the Prometheus scrape: the usage ledger, experiments and jobs, across projects.

Model calls are made by many processes (the server's background runs, notebook kernels, batch
workers), and all of them write the usage ledger, so the metrics are read from the database at
scrape time rather than counted in memory. Each family is one grouped query, all in one read
transaction; the rows returned are few (projects × models × outcomes), never user text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, case, cast, func, select

from .orm.catalog import ProjectRow
from .orm.experiments import ExperimentRow, UsageRow
from .orm.jobs import JobRow

if TYPE_CHECKING:
    from .engine import Transactions

#: Upper bounds (seconds) of the model-call latency histogram.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass
class UsageTotals:
    """Ledger totals of one (project, model, status, cache_hit, error_code) group.

    ``buckets[i]`` counts calls with ``latency <= LATENCY_BUCKETS[i]`` (cumulative, as
    Prometheus wants), ``latency_count``/``latency_sum_s`` cover the same calls.
    """

    project: str
    model: str
    status: str
    cache_hit: bool
    error_code: str | None
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    saved_usd: float
    latency_count: int
    latency_sum_s: float
    buckets: list[int] = field(default_factory=list)


@dataclass
class MetricTotals:
    """Everything one scrape needs."""

    usage: list[UsageTotals]
    experiments: list[tuple[str, str, int]]  # (project, status, count)
    jobs: list[tuple[str, str, int]]  # (project, state, count)


class MetricQueries:
    """Mixin of :class:`SQLStore`."""

    tx: Transactions

    def metric_totals(self, buckets: tuple[float, ...] = LATENCY_BUCKETS) -> MetricTotals:
        """Usage-ledger totals by project slug and model, experiments and jobs by state.

        The latency histogram covers calls that reached the provider (cache hits excluded).
        """
        with self.tx.read() as s:
            return MetricTotals(
                usage=self._usage_totals(s, buckets),
                experiments=self._state_counts(s, ExperimentRow.project_id, ExperimentRow.status),
                jobs=self._state_counts(s, JobRow.project_id, JobRow.state),
            )

    @staticmethod
    def _usage_totals(s: Any, buckets: tuple[float, ...]) -> list[UsageTotals]:
        called = UsageRow.cache_hit.is_(False)
        timed = [
            func.coalesce(
                func.sum(case((called & (UsageRow.latency_ms <= b * 1000.0), 1), else_=0)), 0
            )
            for b in buckets
        ]
        query = (
            select(
                ProjectRow.slug,
                UsageRow.model,
                UsageRow.status,
                UsageRow.cache_hit,
                UsageRow.error_code,
                func.count(),
                func.coalesce(func.sum(UsageRow.prompt_tokens), 0),
                func.coalesce(func.sum(UsageRow.completion_tokens), 0),
                func.coalesce(func.sum(UsageRow.cost_usd), 0.0),
                func.coalesce(func.sum(UsageRow.saved_usd), 0.0),
                func.coalesce(func.sum(cast(called, Integer)), 0),
                func.coalesce(func.sum(case((called, UsageRow.latency_ms), else_=0.0)), 0.0),
                *timed,
            )
            .join(ProjectRow, ProjectRow.id == UsageRow.project_id)
            .group_by(
                ProjectRow.slug,
                UsageRow.model,
                UsageRow.status,
                UsageRow.cache_hit,
                UsageRow.error_code,
            )
        )
        out = []
        for row in s.execute(query):
            (slug, model, status, hit, code, calls, p_tok, c_tok, cost, saved, n, total_ms) = row[
                :12
            ]
            out.append(
                UsageTotals(
                    project=slug,
                    model=model,
                    status=status,
                    cache_hit=bool(hit),
                    error_code=code,
                    calls=int(calls),
                    prompt_tokens=int(p_tok),
                    completion_tokens=int(c_tok),
                    cost_usd=float(cost),
                    saved_usd=float(saved),
                    latency_count=int(n),
                    latency_sum_s=float(total_ms) / 1000.0,
                    buckets=[int(v) for v in row[12:]],
                )
            )
        return out

    @staticmethod
    def _state_counts(s: Any, project_id: Any, state: Any) -> list[tuple[str, str, int]]:
        query = (
            select(ProjectRow.slug, state, func.count())
            .join(ProjectRow, ProjectRow.id == project_id)
            .group_by(ProjectRow.slug, state)
        )
        return [(slug, str(value), int(n)) for slug, value, n in s.execute(query)]
