"""Experiment queries of the store: plans and their records.

The dataset version and variants of an experiment are fixed when it is created, so they are
read once per process (:data:`EXPERIMENT_PARTS_CACHE` experiments are kept).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ... import models
from ...exceptions import Conflict, NotFound
from ..convert import aware
from ..orm.catalog import ProjectRow, PromptRow, PromptVersionRow
from ..orm.datasets import DatasetRow, DatasetVersionRow
from ..orm.experiments import ExperimentRow, VariantRow
from ..queries import Queries

if TYPE_CHECKING:
    pass

#: Experiments whose dataset and variants (fixed at creation) are kept per process.
EXPERIMENT_PARTS_CACHE = 256
_parts_lock = threading.Lock()
_EXPERIMENT_ROW = (
    select(ExperimentRow)
    .join(ProjectRow, ProjectRow.id == ExperimentRow.project_id)
    .where(ProjectRow.slug == bindparam("slug"), ExperimentRow.name == bindparam("name"))
)


class ExperimentQueries(Queries):
    """Mixin of :class:`SQLStore` for experiments: their plans, records and lists."""

    _parts_cache: OrderedDict[Any, Any]

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
