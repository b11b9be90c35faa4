"""Dataset queries of :class:`~llmlab_jupyter.store.sql_store.SQLStore`.

The rows of a version live in one of two places, invisible to every reader
(:meth:`DatasetQueries.dataset_rows`, :meth:`DatasetQueries.iter_dataset_rows`):

* inline: one ``dataset_items`` row per dataset row (the default, and every version when no
  artifact store is attached);
* in the artifact store, for versions with more rows than ``dataset_inline_max_rows``: one
  content-addressed gzip JSONL artifact named by ``dataset_versions.artifact_key``
  (:mod:`llmlab_jupyter.artifacts.datasets`). The artifact is uploaded before the version row
  is committed, and checked against the row's hash and row count when read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ... import models
from ...artifacts.datasets import DatasetArtifactError, StoredRows
from ...exceptions import Conflict, NotFound
from .. import convert
from ..orm.base import utcnow
from ..orm.datasets import DatasetItemRow, DatasetRow, DatasetVersionRow
from ..queries import Queries

if TYPE_CHECKING:
    from ...artifacts.datasets import DatasetArtifacts

INSERT_BATCH = 5_000


class DatasetQueries(Queries):
    """Mixin: datasets, their immutable versions and rows."""

    #: Where the rows of large versions go; attached by
    #: :class:`~llmlab_jupyter.services.Services`. ``None``: every version is stored inline.
    dataset_artifacts: DatasetArtifacts | None = None

    def _dataset(self, s: Session, project_id: int, name: str, *, lock: bool = False) -> DatasetRow:
        query = select(DatasetRow).where(
            DatasetRow.project_id == project_id, DatasetRow.name == name
        )
        if lock and self.dialect != "sqlite":
            query = query.with_for_update()
        row = s.scalars(query).first()
        if row is None:
            raise NotFound(f"dataset {name!r} not found", field="name")
        return row

    def _dataset_version(
        self, s: Session, project: str, name: str, number: int | None
    ) -> tuple[DatasetRow, DatasetVersionRow]:
        ds = self._dataset(s, self._project(s, project).id, name)
        target = number if number is not None else ds.latest_version
        row = s.scalars(
            select(DatasetVersionRow).where(
                DatasetVersionRow.dataset_id == ds.id, DatasetVersionRow.number == target
            )
        ).first()
        if row is None:
            raise NotFound(f"dataset {name!r} has no version {target}", field="version")
        return ds, row

    def save_dataset_version(
        self,
        project: str,
        name: str,
        *,
        content_hash: str,
        columns: list[dict[str, str]],
        rows: Sequence[dict[str, Any]],
        source_format: str,
        message: str,
        description: str | None,
        user: str,
        number: int | None = None,
        created_at: datetime | None = None,
        created_by: str | None = None,
    ) -> tuple[models.DatasetVersion, bool]:
        """Store a new immutable version, or return the existing one with the same content.

        A version with more rows than the attached :class:`DatasetArtifacts` keep inline has
        its rows uploaded to the artifact store first (skipped when the dataset already has a
        version with this content, which is returned); only then is the version row committed,
        naming the artifact and holding no ``dataset_items``.
        """
        artifact_key: str | None = None
        blobs = self.dataset_artifacts
        if blobs is not None and blobs.offloads(len(rows)):
            if number is None:
                found = self._version_with_hash(project, name, content_hash)
                if found is not None:
                    return found, False
            artifact_key = blobs.write(content_hash, columns, rows)
        with self.tx.write() as s:
            proj = self._project(s, project)
            ds = self._get_or_create_dataset(s, proj.id, name, description or "", user)
            existing = self._newest_with_hash(s, ds.id, content_hash)
            if existing is not None and number is None:
                return convert.dataset_version(existing, project, name), False
            next_number = ds.latest_version + 1
            if number is not None and number != next_number:
                raise Conflict(
                    f"dataset {name!r} would get version {next_number}, not {number}",
                    field="number",
                )
            now = utcnow()
            version = DatasetVersionRow(
                dataset_id=ds.id,
                number=next_number,
                content_hash=content_hash,
                columns=columns,
                row_count=len(rows),
                source_format=source_format,
                message=message,
                artifact_key=artifact_key,
                created_at=created_at or now,
                created_by=created_by or user,
            )
            s.add(version)
            ds.latest_version = next_number
            ds.updated_at = created_at or now
            if description is not None:
                ds.description = description
            s.flush()
            if artifact_key is not None:
                return convert.dataset_version(version, project, name), True
            for start in range(0, len(rows), INSERT_BATCH):
                chunk = rows[start : start + INSERT_BATCH]
                s.execute(
                    insert(DatasetItemRow),
                    [
                        {"version_id": version.id, "idx": start + i, "data": data}
                        for i, data in enumerate(chunk)
                    ],
                )
            return convert.dataset_version(version, project, name), True

    def _version_with_hash(
        self, project: str, name: str, content_hash: str
    ) -> models.DatasetVersion | None:
        """The newest version of dataset ``name`` with ``content_hash``, if there is one."""
        with self.tx.read() as s:
            proj = self._project(s, project)
            ds = s.scalars(
                select(DatasetRow).where(DatasetRow.project_id == proj.id, DatasetRow.name == name)
            ).first()
            if ds is None:
                return None
            row = self._newest_with_hash(s, ds.id, content_hash)
            return None if row is None else convert.dataset_version(row, project, name)

    @staticmethod
    def _newest_with_hash(
        s: Session, dataset_id: int, content_hash: str
    ) -> DatasetVersionRow | None:
        return s.scalars(
            select(DatasetVersionRow)
            .where(
                DatasetVersionRow.dataset_id == dataset_id,
                DatasetVersionRow.content_hash == content_hash,
            )
            .order_by(DatasetVersionRow.number.desc())
        ).first()

    def _get_or_create_dataset(
        self, s: Session, project_id: int, name: str, description: str, user: str
    ) -> DatasetRow:
        try:
            return self._dataset(s, project_id, name, lock=True)
        except NotFound:
            pass
        try:
            with s.begin_nested():
                s.add(
                    DatasetRow(
                        project_id=project_id, name=name, description=description, created_by=user
                    )
                )
        except IntegrityError:
            pass
        return self._dataset(s, project_id, name, lock=True)

    def get_dataset(self, project: str, name: str) -> models.Dataset:
        with self.tx.read() as s:
            return convert.dataset(self._dataset(s, self._project(s, project).id, name), project)

    def list_datasets(
        self, project: str, *, search: str | None = None, limit: int, offset: int = 0
    ) -> list[models.Dataset]:
        with self.tx.read() as s:
            proj = self._project(s, project)
            query = select(DatasetRow).where(DatasetRow.project_id == proj.id)
            if search:
                query = query.where(DatasetRow.name.icontains(search, autoescape=True))
            rows = s.scalars(query.order_by(DatasetRow.name).limit(limit).offset(offset)).all()
            return [convert.dataset(r, project) for r in rows]

    def get_dataset_version(
        self, project: str, name: str, number: int | None = None
    ) -> models.DatasetVersion:
        """One version by number, or the latest."""
        with self.tx.read() as s:
            _, row = self._dataset_version(s, project, name, number)
            return convert.dataset_version(row, project, name)

    def list_dataset_versions(
        self, project: str, name: str, *, limit: int, offset: int = 0
    ) -> list[models.DatasetVersion]:
        with self.tx.read() as s:
            ds = self._dataset(s, self._project(s, project).id, name)
            rows = s.scalars(
                select(DatasetVersionRow)
                .where(DatasetVersionRow.dataset_id == ds.id)
                .order_by(DatasetVersionRow.number.desc())
                .limit(limit)
                .offset(offset)
            ).all()
            return [convert.dataset_version(r, project, name) for r in rows]

    def dataset_rows(
        self, project: str, name: str, number: int, *, offset: int = 0, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Rows of one version in order; a page when ``limit`` is given.

        Works the same whether the rows are inline or in the artifact store; a missing or
        altered artifact raises :class:`~llmlab_jupyter.artifacts.datasets.DatasetArtifactError`.
        """
        with self.tx.read() as s:
            _, version = self._dataset_version(s, project, name, number)
            stored = _stored_rows(version, name)
            if stored is None:
                query = (
                    select(DatasetItemRow.data)
                    .where(DatasetItemRow.version_id == version.id, DatasetItemRow.idx >= offset)
                    .order_by(DatasetItemRow.idx)
                )
                if limit is not None:
                    query = query.limit(limit)
                return list(s.scalars(query).all())
        return self._artifact_rows(stored).rows(stored, offset=offset, limit=limit)

    def iter_dataset_rows(
        self, project: str, name: str, number: int, *, batch: int = 5_000
    ) -> Iterator[dict[str, Any]]:
        """Stream every row of a version: inline rows ``batch`` at a time, or the artifact."""
        with self.tx.read() as s:
            _, version = self._dataset_version(s, project, name, number)
            stored = _stored_rows(version, name)
        if stored is not None:
            yield from self._artifact_rows(stored).iter_rows(stored)
            return
        offset = 0
        while True:
            chunk = self.dataset_rows(project, name, number, offset=offset, limit=batch)
            yield from chunk
            if len(chunk) < batch:
                return
            offset += batch

    def _artifact_rows(self, stored: StoredRows) -> DatasetArtifacts:
        if self.dataset_artifacts is None:
            raise DatasetArtifactError(
                f"the rows of dataset {stored.ref} are in the artifact store, but this store "
                "has no artifact store attached (open it through Services)",
                field="dataset",
            )
        return self.dataset_artifacts


def _stored_rows(version: DatasetVersionRow, name: str) -> StoredRows | None:
    """Where an artifact-backed version's rows are and what they must hash to; else None."""
    if version.artifact_key is None:
        return None
    return StoredRows(
        key=version.artifact_key,
        ref=f"{name}@{version.number}",
        content_hash=version.content_hash,
        columns=list(version.columns),
        row_count=version.row_count,
    )
