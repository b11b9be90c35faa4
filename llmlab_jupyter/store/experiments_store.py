"""Experiment queries of the store: plans, batched result writes, resume, aggregates."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import models
from ..exceptions import Conflict, NotFound
from .convert import aware
from .orm.base import utcnow
from .orm.catalog import ProjectRow, PromptRow, PromptVersionRow
from .orm.datasets import DatasetRow, DatasetVersionRow
from .orm.experiments import CacheEntryRow, ExperimentRow, ResultRow, ScoreRow, UsageRow, VariantRow

if TYPE_CHECKING:
    from .engine import Transactions

FINAL = ("completed", "failed", "cancelled", "budget_exceeded")
#: Experiments whose dataset and variants (fixed at creation) are kept per process.
EXPERIMENT_PARTS_CACHE = 256
_parts_lock = threading.Lock()
_EXPERIMENT_ROW = (
    select(ExperimentRow)
    .join(ProjectRow, ProjectRow.id == ExperimentRow.project_id)
    .where(ProjectRow.slug == bindparam("slug"), ExperimentRow.name == bindparam("name"))
)


class ExperimentQueries:
    """Mixin of :class:`SQLStore` for experiments, results, scores, usage and the cache."""

    _parts_cache: OrderedDict[Any, Any]

    tx: Transactions

    @property
    def dialect(self) -> str:  # pragma: no cover - provided by SQLStore
        raise NotImplementedError

    @staticmethod
    def _project(s: Session, slug: str) -> ProjectRow:  # pragma: no cover - SQLStore
        raise NotImplementedError

    def _insert(self, table: Any) -> Any:
        """An INSERT that skips rows whose key already exists (idempotent writes)."""
        if self.dialect == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing()
        if self.dialect == "sqlite":
            return sqlite.insert(table).on_conflict_do_nothing()
        return insert(table)

    # -- experiments -----------------------------------------------------------------------
    def create_experiment(
        self,
        project: str,
        name: str,
        *,
        description: str,
        dataset: str,
        dataset_version: int,
        variants: Sequence[dict[str, Any]],
        scorers: list[dict[str, Any]],
        settings: dict[str, Any],
        budget_usd: float | None,
        total_items: int,
        package_version: str,
        user: str,
    ) -> models.Experiment:
        """Store the plan of an experiment; ``variants`` name prompt versions by (name, number)."""
        try:
            with self.tx.write() as s:
                proj = self._project(s, project)
                dv_id = s.scalar(
                    select(DatasetVersionRow.id)
                    .join(DatasetRow, DatasetRow.id == DatasetVersionRow.dataset_id)
                    .where(
                        DatasetRow.project_id == proj.id,
                        DatasetRow.name == dataset,
                        DatasetVersionRow.number == dataset_version,
                    )
                )
                if dv_id is None:
                    raise NotFound(
                        f"dataset {dataset}@{dataset_version} not found", field="dataset"
                    )
                row = ExperimentRow(
                    project_id=proj.id,
                    name=name,
                    description=description,
                    dataset_version_id=dv_id,
                    status="created",
                    scorers=scorers,
                    settings=settings,
                    budget_usd=budget_usd,
                    total_items=total_items,
                    package_version=package_version,
                    created_by=user,
                )
                s.add(row)
                s.flush()
                for v in variants:
                    pv_id = s.scalar(
                        select(PromptVersionRow.id)
                        .join(PromptRow, PromptRow.id == PromptVersionRow.prompt_id)
                        .where(
                            PromptRow.project_id == proj.id,
                            PromptRow.name == v["prompt"],
                            PromptVersionRow.number == v["prompt_version"],
                        )
                    )
                    if pv_id is None:
                        raise NotFound(
                            f"prompt {v['prompt']}@{v['prompt_version']} not found",
                            field="variants",
                        )
                    s.add(
                        VariantRow(
                            experiment_id=row.id,
                            idx=v["idx"],
                            name=v["name"],
                            prompt_version_id=pv_id,
                            model=v["model"],
                            params=v["params"],
                        )
                    )
                s.flush()
                return self._experiment_record(s, project, row)
        except IntegrityError as err:
            raise Conflict(f"experiment {name!r} already exists", field="name") from err

    def _experiment_row(self, s: Session, project: str, name: str) -> ExperimentRow:
        """The experiment's row (one query; remembered for the rest of the session)."""
        rows = s.info.setdefault("llmlab_experiments", {})
        row = rows.get((project, name))
        if row is None:
            row = s.scalars(_EXPERIMENT_ROW, {"slug": project, "name": name}).first()
            if row is None:
                self._project(s, project)  # NotFound names the project when it is the project
                raise NotFound(f"experiment {name!r} not found", field="experiment")
            rows[(project, name)] = row
        return row

    def _experiment_parts(
        self, s: Session, row: ExperimentRow
    ) -> tuple[tuple[str, int, str], list[models.Variant]]:
        """(dataset name, version, hash) and the variants: fixed when the experiment is made,
        so they are read once per process (keyed by id and creation time)."""
        key = (row.id, row.created_at)
        cache: OrderedDict[Any, Any] | None = getattr(self, "_parts_cache", None)
        if cache is None:
            cache = OrderedDict()
            self._parts_cache = cache
        with _parts_lock:
            hit = cache.get(key)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        ds_name, ds_number, ds_hash = s.execute(
            select(DatasetRow.name, DatasetVersionRow.number, DatasetVersionRow.content_hash)
            .join(DatasetRow, DatasetRow.id == DatasetVersionRow.dataset_id)
            .where(DatasetVersionRow.id == row.dataset_version_id)
        ).one()
        variants = [
            models.Variant(
                idx=v.idx,
                name=v.name,
                prompt=pname,
                prompt_version=pnum,
                prompt_hash=phash,
                model=v.model,
                params=dict(v.params),
            )
            for v, pname, pnum, phash in s.execute(
                select(
                    VariantRow,
                    PromptRow.name,
                    PromptVersionRow.number,
                    PromptVersionRow.content_hash,
                )
                .join(PromptVersionRow, PromptVersionRow.id == VariantRow.prompt_version_id)
                .join(PromptRow, PromptRow.id == PromptVersionRow.prompt_id)
                .where(VariantRow.experiment_id == row.id)
                .order_by(VariantRow.idx)
            )
        ]
        if variants:  # (a row being created in an open transaction has none yet)
            with _parts_lock:
                cache[key] = ((ds_name, ds_number, ds_hash), variants)
                while len(cache) > EXPERIMENT_PARTS_CACHE:
                    cache.popitem(last=False)
        return (ds_name, ds_number, ds_hash), variants

    def _experiment_record(self, s: Session, project: str, row: ExperimentRow) -> models.Experiment:
        (ds_name, ds_number, ds_hash), parts = self._experiment_parts(s, row)
        variants = [v.model_copy(deep=True) for v in parts]

        def opt(value: datetime | None) -> datetime | None:
            return aware(value) if value is not None else None

        return models.Experiment(
            project=project,
            name=row.name,
            description=row.description,
            dataset=ds_name,
            dataset_version=ds_number,
            dataset_hash=ds_hash,
            status=row.status,  # type: ignore[arg-type]
            variants=variants,
            scorers=list(row.scorers),
            settings=dict(row.settings),
            budget_usd=row.budget_usd,
            spent_usd=row.spent_usd,
            total_items=row.total_items,
            completed_items=row.completed_items,
            error_items=row.error_items,
            package_version=row.package_version,
            message=row.message,
            created_at=aware(row.created_at),
            created_by=row.created_by,
            started_at=opt(row.started_at),
            finished_at=opt(row.finished_at),
            heartbeat_at=opt(row.heartbeat_at),
        )

    def get_experiment(self, project: str, name: str) -> models.Experiment:
        with self.tx.read() as s:
            return self._experiment_record(s, project, self._experiment_row(s, project, name))

    def experiment_id(self, project: str, name: str) -> tuple[int, int]:
        """(experiment id, project id): what the runner passes around."""
        with self.tx.read() as s:
            row = self._experiment_row(s, project, name)
            return row.id, row.project_id

    def list_experiments(
        self, project: str, *, status: str | None = None, limit: int, offset: int = 0
    ) -> list[models.Experiment]:
        with self.tx.read() as s:
            proj = self._project(s, project)
            query = select(ExperimentRow).where(ExperimentRow.project_id == proj.id)
            if status:
                query = query.where(ExperimentRow.status == status)
            rows = s.scalars(
                query.order_by(ExperimentRow.created_at.desc(), ExperimentRow.id.desc())
                .limit(limit)
                .offset(offset)
            ).all()
            return [self._experiment_record(s, project, r) for r in rows]

    def claim_experiment(self, experiment_id: int, runner_id: str, *, stale_after_s: float) -> str:
        """Mark an experiment running for ``runner_id``; ``Conflict`` if another live runner has it.

        A runner whose heartbeat is older than ``stale_after_s`` is presumed dead.
        Returns the status the experiment had before.
        """
        with self.tx.write() as s:
            query = select(ExperimentRow).where(ExperimentRow.id == experiment_id)
            if self.dialect != "sqlite":
                query = query.with_for_update()
            row = s.scalars(query).one()
            now = utcnow()
            if row.status == "running" and row.runner_id != runner_id and row.heartbeat_at:
                age = (now - aware(row.heartbeat_at)).total_seconds()
                if age < stale_after_s:
                    raise Conflict(
                        f"experiment {row.name!r} is already running (heartbeat {age:.0f}s ago)",
                        field="experiment",
                    )
            previous = row.status
            row.status, row.runner_id, row.heartbeat_at = "running", runner_id, now
            row.started_at = row.started_at or now
            row.finished_at = None
            row.message = ""
            return previous

    def experiment_runner(self, experiment_id: int) -> str | None:
        """The id of the runner holding the experiment's lease, if any."""
        with self.tx.read() as s:
            return s.scalar(
                select(ExperimentRow.runner_id).where(ExperimentRow.id == experiment_id)
            )

    def heartbeat(self, experiment_id: int, runner_id: str) -> str:
        """Refresh the lease; returns the status (``cancelled`` tells the runner to stop)."""
        with self.tx.write() as s:
            s.execute(
                update(ExperimentRow)
                .where(ExperimentRow.id == experiment_id, ExperimentRow.runner_id == runner_id)
                .values(heartbeat_at=utcnow())
            )
            return str(
                s.scalar(select(ExperimentRow.status).where(ExperimentRow.id == experiment_id))
            )

    def finish_experiment(
        self, experiment_id: int, status: str, *, runner_id: str | None = None, message: str = ""
    ) -> None:
        """Set a final (or ``interrupted``) status and recount the results exactly."""
        with self.tx.write() as s:
            row = s.get(ExperimentRow, experiment_id)
            assert row is not None
            if runner_id is not None and row.runner_id not in (None, runner_id):
                return  # someone else took over; leave their state alone
            if row.status == "cancelled" and status != "cancelled":
                status = "cancelled"
            done, errors, spent = s.execute(
                select(
                    func.count(),
                    func.count(ResultRow.error),
                    func.coalesce(func.sum(ResultRow.cost_usd), 0.0),
                ).where(ResultRow.experiment_id == experiment_id)
            ).one()
            judge = s.scalar(
                select(func.coalesce(func.sum(UsageRow.cost_usd), 0.0)).where(
                    UsageRow.experiment_id == experiment_id, UsageRow.purpose == "judge"
                )
            )
            row.completed_items, row.error_items = int(done), int(errors)
            row.spent_usd = float(spent) + float(judge or 0.0)
            row.status, row.message = status, message
            row.finished_at = utcnow() if status in FINAL or status == "interrupted" else None
            row.runner_id = None

    def set_experiment_status(
        self, project: str, name: str, status: str, message: str = ""
    ) -> None:
        with self.tx.write() as s:
            row = self._experiment_row(s, project, name)
            row.status, row.message = status, message
            if status in FINAL:
                row.finished_at = utcnow()

    def mark_orphans_interrupted(self, stale_after_s: float, *, dead_local: bool = False) -> int:
        """Running experiments whose runner is gone become ``interrupted``.

        A runner is gone when its heartbeat is older than ``stale_after_s`` or, with
        ``dead_local``, when it was a process of this host that no longer exists.
        """
        from datetime import timedelta

        from ..leases import holder_is_dead

        cutoff = utcnow() - timedelta(seconds=stale_after_s)
        with self.tx.write() as s:
            rows = s.scalars(select(ExperimentRow).where(ExperimentRow.status == "running")).all()
            count = 0
            for row in rows:
                stale = row.heartbeat_at is None or aware(row.heartbeat_at) < cutoff
                if stale or (dead_local and holder_is_dead(row.runner_id)):
                    row.status, row.runner_id = "interrupted", None
                    row.message = "the runner stopped; start the experiment again to resume"
                    count += 1
            return count

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
