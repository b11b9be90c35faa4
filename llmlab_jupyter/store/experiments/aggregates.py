"""Aggregates computed in the database: per-variant summaries, paired counts, usage."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, and_, case, cast, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased

from ...exceptions import InvalidInput
from ..orm.experiments import ExperimentRow, ResultRow, ScoreRow, UsageRow
from ..queries import Queries

if TYPE_CHECKING:
    pass

USAGE_GROUPS = {
    "model": UsageRow.model,
    "user": UsageRow.user_name,
    "experiment": ExperimentRow.name,
    "status": UsageRow.status,
    "purpose": UsageRow.purpose,
    "cache_hit": UsageRow.cache_hit,
}


class AggregateQueries(Queries):
    """Mixin of :class:`SQLStore`."""

    def variant_aggregates(self, experiment_id: int) -> dict[int, dict[str, Any]]:
        """Per variant: counts, errors, tokens, cost, cache hits, attempts, latency p50/p95."""
        with self.tx.read() as s:
            cols = [
                ResultRow.variant_idx,
                func.count(),
                func.count(ResultRow.error),
                func.coalesce(func.sum(ResultRow.prompt_tokens), 0),
                func.coalesce(func.sum(ResultRow.completion_tokens), 0),
                func.coalesce(func.sum(ResultRow.cost_usd), 0.0),
                func.coalesce(func.sum(ResultRow.saved_usd), 0.0),
                func.coalesce(func.sum(cast(ResultRow.cache_hit, Integer)), 0),
                func.coalesce(func.avg(ResultRow.attempts), 0.0),
            ]
            ok = ResultRow.error.is_(None)
            if self.dialect == "postgresql":  # both percentiles from one sort per variant
                cols.append(
                    func.percentile_cont(postgresql.array([0.5, 0.95]))
                    .within_group(ResultRow.latency_ms)
                    .filter(ok)
                )
            rows = s.execute(
                select(*cols)
                .where(ResultRow.experiment_id == experiment_id)
                .group_by(ResultRow.variant_idx)
            ).all()
            out: dict[int, dict[str, Any]] = {}
            for r in rows:
                out[r[0]] = {
                    "results": int(r[1]),
                    "errors": int(r[2]),
                    "prompt_tokens": int(r[3]),
                    "completion_tokens": int(r[4]),
                    "cost_usd": float(r[5]),
                    "saved_usd": float(r[6]),
                    "cache_hits": int(r[7]),
                    "mean_attempts": float(r[8]),
                }
                if self.dialect == "postgresql":
                    p50, p95 = r[9] if r[9] is not None else (None, None)
                    out[r[0]]["latency_p50_ms"] = float(p50) if p50 is not None else None
                    out[r[0]]["latency_p95_ms"] = float(p95) if p95 is not None else None
            if self.dialect != "postgresql":
                import numpy as np

                for idx in out:
                    lat = np.fromiter(
                        s.scalars(
                            select(ResultRow.latency_ms).where(
                                ResultRow.experiment_id == experiment_id,
                                ResultRow.variant_idx == idx,
                                ok,
                            )
                        ),
                        dtype=float,
                    )
                    has = lat.size > 0
                    out[idx]["latency_p50_ms"] = float(np.percentile(lat, 50)) if has else None
                    out[idx]["latency_p95_ms"] = float(np.percentile(lat, 95)) if has else None
            return out

    def score_aggregates(self, experiment_id: int) -> dict[tuple[int, str], dict[str, float]]:
        """Per (variant, scorer): n, mean and standard deviation of non-null scores."""
        with self.tx.read() as s:
            rows = s.execute(
                select(
                    ScoreRow.variant_idx,
                    ScoreRow.scorer,
                    func.count(ScoreRow.value),
                    func.avg(ScoreRow.value),
                    func.avg(ScoreRow.value * ScoreRow.value),
                )
                .where(ScoreRow.experiment_id == experiment_id)
                .group_by(ScoreRow.variant_idx, ScoreRow.scorer)
            ).all()
            out = {}
            for v, scorer, n, mean, mean_sq in rows:
                n = int(n)
                var = max(float(mean_sq or 0) - float(mean or 0) ** 2, 0.0) * (
                    n / (n - 1) if n > 1 else 0.0
                )
                out[(v, scorer)] = {
                    "n": n,
                    "mean": float(mean) if mean is not None else float("nan"),
                    "std": var**0.5,
                }
            return out

    def score_values(self, experiment_id: int, variant_idx: int, scorer: str) -> list[float]:
        with self.tx.read() as s:
            return [
                float(v or 0.0)
                for v in s.scalars(
                    select(ScoreRow.value).where(
                        ScoreRow.experiment_id == experiment_id,
                        ScoreRow.variant_idx == variant_idx,
                        ScoreRow.scorer == scorer,
                        ScoreRow.value.is_not(None),
                    )
                )
            ]

    @staticmethod
    def _paired(
        columns: Any, a: Any, b: Any, experiment_id: int, base: int, other: int, scorer: str
    ) -> Any:
        """``columns`` over rows where both ``base`` (``a``) and ``other`` (``b``) scored."""
        return (
            select(*columns(a, b))
            .select_from(a)
            .join(
                b,
                and_(
                    b.experiment_id == a.experiment_id,
                    b.row_idx == a.row_idx,
                    b.scorer == a.scorer,
                    b.variant_idx == other,
                ),
            )
            .where(
                a.experiment_id == experiment_id,
                a.variant_idx == base,
                a.scorer == scorer,
                a.value.is_not(None),
                b.value.is_not(None),
            )
        )

    def paired_values(
        self, experiment_id: int, base: int, other: int, scorer: str
    ) -> list[tuple[float, float]]:
        """(base score, other score) for rows where both variants have a score."""
        query = self._paired(
            lambda a, b: (a.value, b.value),
            aliased(ScoreRow),
            aliased(ScoreRow),
            experiment_id,
            base,
            other,
            scorer,
        )
        with self.tx.read() as s:
            return [(float(x or 0.0), float(y or 0.0)) for x, y in s.execute(query)]

    def paired_counts(
        self, experiment_id: int, base: int, other: int, scorer: str, tie_tolerance: float
    ) -> dict[str, float]:
        """Wins/losses/ties of ``other`` against ``base`` and the mean difference, in SQL."""

        def columns(a: Any, b: Any) -> tuple[Any, ...]:
            diff = b.value - a.value
            return (
                func.count(),
                func.coalesce(func.sum(case((diff > tie_tolerance, 1), else_=0)), 0),
                func.coalesce(func.sum(case((diff < -tie_tolerance, 1), else_=0)), 0),
                func.avg(diff),
                func.avg(diff * diff),
            )

        query = self._paired(
            columns, aliased(ScoreRow), aliased(ScoreRow), experiment_id, base, other, scorer
        )
        with self.tx.read() as s:
            n, wins, losses, mean, mean_sq = s.execute(query).one()
            n = int(n)
            return {
                "n": n,
                "wins": int(wins),
                "losses": int(losses),
                "ties": n - int(wins) - int(losses),
                "mean_diff": float(mean) if mean is not None else float("nan"),
                "mean_sq_diff": float(mean_sq) if mean_sq is not None else float("nan"),
            }

    def paired_counts_many(
        self,
        experiment_id: int,
        base: int,
        others: list[int],
        scorer: str,
        tie_tolerance: float,
    ) -> dict[int, dict[str, float]]:
        """:meth:`paired_counts` of every variant in ``others`` against ``base``, in one scan."""
        a, b = aliased(ScoreRow), aliased(ScoreRow)
        diff = b.value - a.value
        out = {
            other: {
                "n": 0,
                "wins": 0,
                "losses": 0,
                "ties": 0,
                "mean_diff": float("nan"),
                "mean_sq_diff": float("nan"),
            }
            for other in others
        }
        if not others:
            return out
        with self.tx.read() as s:
            rows = s.execute(
                select(
                    b.variant_idx,
                    func.count(),
                    func.coalesce(func.sum(case((diff > tie_tolerance, 1), else_=0)), 0),
                    func.coalesce(func.sum(case((diff < -tie_tolerance, 1), else_=0)), 0),
                    func.avg(diff),
                    func.avg(diff * diff),
                )
                .select_from(a)
                .join(
                    b,
                    and_(
                        b.experiment_id == a.experiment_id,
                        b.row_idx == a.row_idx,
                        b.scorer == a.scorer,
                        b.variant_idx.in_(others),
                    ),
                )
                .where(
                    a.experiment_id == experiment_id,
                    a.variant_idx == base,
                    a.scorer == scorer,
                    a.value.is_not(None),
                    b.value.is_not(None),
                )
                .group_by(b.variant_idx)
            ).all()
        for other, n, wins, losses, mean, mean_sq in rows:
            n = int(n)
            out[int(other)] = {
                "n": n,
                "wins": int(wins),
                "losses": int(losses),
                "ties": n - int(wins) - int(losses),
                "mean_diff": float(mean) if mean is not None else float("nan"),
                "mean_sq_diff": float(mean_sq) if mean_sq is not None else float("nan"),
            }
        return out

    def usage_grouped(
        self,
        project: str,
        *,
        by: list[str],
        experiment_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Usage-ledger totals grouped by any of :data:`USAGE_GROUPS`."""
        unknown = [g for g in by if g not in USAGE_GROUPS]
        if unknown:
            raise InvalidInput(
                f"cannot group usage by {', '.join(unknown)}; choose from "
                f"{', '.join(USAGE_GROUPS)}",
                field="by",
            )
        keys = [USAGE_GROUPS[g].label(g) for g in by]
        with self.tx.read() as s:
            proj = self._project(s, project)
            query = (
                select(
                    *keys,
                    func.count().label("calls"),
                    func.coalesce(func.sum(UsageRow.prompt_tokens), 0).label("prompt_tokens"),
                    func.coalesce(func.sum(UsageRow.completion_tokens), 0).label(
                        "completion_tokens"
                    ),
                    func.coalesce(func.sum(UsageRow.cost_usd), 0.0).label("cost_usd"),
                    func.coalesce(func.sum(UsageRow.saved_usd), 0.0).label("saved_usd"),
                    func.coalesce(func.sum(cast(UsageRow.cache_hit, Integer)), 0).label(
                        "cache_hits"
                    ),
                    func.coalesce(func.sum(case((UsageRow.status != "ok", 1), else_=0)), 0).label(
                        "errors"
                    ),
                    func.coalesce(func.avg(UsageRow.latency_ms), 0.0).label("mean_latency_ms"),
                )
                .select_from(UsageRow)
                .outerjoin(ExperimentRow, ExperimentRow.id == UsageRow.experiment_id)
                .where(UsageRow.project_id == proj.id)
            )
            if experiment_id is not None:
                query = query.where(UsageRow.experiment_id == experiment_id)
            if since is not None:
                query = query.where(UsageRow.created_at >= since)
            if until is not None:
                query = query.where(UsageRow.created_at < until)
            if keys:
                query = query.group_by(*[USAGE_GROUPS[g] for g in by]).order_by(
                    *[USAGE_GROUPS[g] for g in by]
                )
            return [dict(r._mapping) for r in s.execute(query)]
