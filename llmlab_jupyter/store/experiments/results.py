"""Result queries of the store: batched, idempotent writes of results, scores, usage and
cache entries; what a resumed run skips or retries; pages of results with their scores."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..orm.base import utcnow
from ..orm.experiments import CacheEntryRow, ExperimentRow, ResultRow, ScoreRow, UsageRow
from ..queries import Queries

if TYPE_CHECKING:
    pass


class ResultQueries(Queries):
    """Mixin of :class:`SQLStore` for results, scores, usage and the cache."""

    def _insert(self, table: Any) -> Any:
        """An INSERT that skips rows whose key already exists (idempotent writes)."""
        if self.dialect == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing()
        if self.dialect == "sqlite":
            return sqlite.insert(table).on_conflict_do_nothing()
        return insert(table)

    # -- results ---------------------------------------------------------------------------
    def completed_keys(self, experiment_id: int) -> set[tuple[int, int]]:
        with self.tx.read() as s:
            return {
                (v, r)
                for v, r in s.execute(
                    select(ResultRow.variant_idx, ResultRow.row_idx).where(
                        ResultRow.experiment_id == experiment_id
                    )
                )
            }

    def delete_failed_results(self, experiment_id: int) -> int:
        """Drop errored results (and their scores) so a resumed run tries them again."""
        with self.tx.write() as s:
            failed = select(ResultRow.variant_idx, ResultRow.row_idx).where(
                ResultRow.experiment_id == experiment_id, ResultRow.error.is_not(None)
            )
            keys = list(s.execute(failed))
            for v, r in keys:
                s.execute(
                    delete(ScoreRow).where(
                        ScoreRow.experiment_id == experiment_id,
                        ScoreRow.variant_idx == v,
                        ScoreRow.row_idx == r,
                    )
                )
            s.execute(
                delete(ResultRow).where(
                    ResultRow.experiment_id == experiment_id, ResultRow.error.is_not(None)
                )
            )
            return len(keys)

    def write_batch(
        self,
        experiment_id: int,
        *,
        results: Sequence[dict[str, Any]],
        scores: Sequence[dict[str, Any]],
        usage: Sequence[dict[str, Any]],
        cache_entries: Sequence[dict[str, Any]],
        runner_id: str,
    ) -> None:
        """Write one batch in one transaction; rows already present are skipped."""
        with self.tx.write() as s:
            if results:
                s.execute(self._insert(ResultRow), list(results))
            if scores:
                s.execute(self._insert(ScoreRow), list(scores))
            if usage:
                s.execute(insert(UsageRow), list(usage))
            if cache_entries:
                s.execute(self._insert(CacheEntryRow), list(cache_entries))
            errors = sum(1 for r in results if r.get("error") is not None)
            spent = sum(float(u.get("cost_usd") or 0.0) for u in usage)
            s.execute(
                update(ExperimentRow)
                .where(ExperimentRow.id == experiment_id)
                .values(
                    completed_items=ExperimentRow.completed_items + len(results),
                    error_items=ExperimentRow.error_items + errors,
                    spent_usd=ExperimentRow.spent_usd + spent,
                    heartbeat_at=utcnow(),
                )
            )

    def insert_usage(self, rows: Sequence[dict[str, Any]], *, project: str) -> None:
        """Record model calls made outside experiments (``project`` is a slug)."""
        if not rows:
            return
        with self.tx.write() as s:
            project_id = self._project(s, project).id
            s.execute(insert(UsageRow), [{**r, "project_id": project_id} for r in rows])

    def project_id(self, project: str) -> int:
        with self.tx.read() as s:
            return self._project(s, project).id

    def cache_get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = list(dict.fromkeys(keys))
        out: dict[str, dict[str, Any]] = {}
        if not wanted:
            return out
        with self.tx.read() as s:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                for row in s.execute(
                    select(
                        CacheEntryRow.key,
                        CacheEntryRow.text,
                        CacheEntryRow.prompt_tokens,
                        CacheEntryRow.completion_tokens,
                        CacheEntryRow.cost_usd,
                        CacheEntryRow.finish_reason,
                    ).where(CacheEntryRow.key.in_(chunk))
                ):
                    out[row[0]] = {
                        "text": row[1],
                        "prompt_tokens": row[2],
                        "completion_tokens": row[3],
                        "cost_usd": row[4],
                        "finish_reason": row[5],
                    }
        return out

    def cache_put_many(self, entries: Sequence[dict[str, Any]]) -> None:
        if entries:
            with self.tx.write() as s:
                s.execute(self._insert(CacheEntryRow), list(entries))

    @staticmethod
    def _results_filter(
        query: Any,
        experiment_id: int,
        variant_idx: int | None,
        errors_only: bool,
        search: str | None,
    ) -> Any:
        query = query.where(ResultRow.experiment_id == experiment_id)
        if variant_idx is not None:
            query = query.where(ResultRow.variant_idx == variant_idx)
        if errors_only:
            query = query.where(ResultRow.error.is_not(None))
        if search:
            query = query.where(ResultRow.output.icontains(search, autoescape=True))
        return query

    def count_results(
        self,
        experiment_id: int,
        *,
        variant_idx: int | None = None,
        errors_only: bool = False,
        search: str | None = None,
    ) -> int:
        with self.tx.read() as s:
            query = self._results_filter(
                select(func.count()).select_from(ResultRow),
                experiment_id,
                variant_idx,
                errors_only,
                search,
            )
            return int(s.scalar(query) or 0)

    def results_rows(
        self,
        experiment_id: int,
        *,
        variant_idx: int | None = None,
        offset: int = 0,
        limit: int | None = None,
        errors_only: bool = False,
        search: str | None = None,
    ) -> list[dict[str, Any]]:
        """Results with their scores (``scores`` maps scorer → (value, reason))."""
        with self.tx.read() as s:
            query = self._results_filter(
                select(ResultRow), experiment_id, variant_idx, errors_only, search
            )
            query = query.order_by(ResultRow.row_idx, ResultRow.variant_idx).offset(offset)
            if limit is not None:
                query = query.limit(limit)
            rows = s.scalars(query).all()
            if not rows:
                return []
            lo, hi = rows[0].row_idx, rows[-1].row_idx
            score_query = select(ScoreRow).where(
                ScoreRow.experiment_id == experiment_id,
                and_(ScoreRow.row_idx >= lo, ScoreRow.row_idx <= hi),
            )
            scores: dict[tuple[int, int], dict[str, tuple[float | None, str]]] = {}
            for sc in s.scalars(score_query):
                scores.setdefault((sc.variant_idx, sc.row_idx), {})[sc.scorer] = (
                    sc.value,
                    sc.reason,
                )
            out = []
            for r in rows:
                out.append(
                    {
                        "variant_idx": r.variant_idx,
                        "row_idx": r.row_idx,
                        "input_hash": r.input_hash,
                        "output": r.output,
                        "error": r.error,
                        "error_code": r.error_code,
                        "latency_ms": r.latency_ms,
                        "prompt_tokens": r.prompt_tokens,
                        "completion_tokens": r.completion_tokens,
                        "cost_usd": r.cost_usd,
                        "saved_usd": r.saved_usd,
                        "cache_hit": r.cache_hit,
                        "attempts": r.attempts,
                        "scores": scores.get((r.variant_idx, r.row_idx), {}),
                    }
                )
            return out
