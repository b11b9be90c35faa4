"""Turn table rows into the records of :mod:`llmlab_jupyter.models`.

A row is an ORM object or, on the read paths, a Core row of the same table's columns.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Row

from .. import models
from .orm.catalog import (
    LabelEventRow,
    LabelRow,
    MembershipRow,
    ProjectRow,
    PromptRow,
    PromptVersionRow,
)
from .orm.datasets import DatasetRow, DatasetVersionRow


def aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def project(row: ProjectRow, role: str | None = None) -> models.Project:
    return models.Project(
        slug=row.slug,
        title=row.title,
        created_at=aware(row.created_at),
        created_by=row.created_by,
        role=role,  # type: ignore[arg-type]
    )


def membership(row: MembershipRow, project_slug: str) -> models.Membership:
    return models.Membership(
        project=project_slug,
        kind=row.kind,  # type: ignore[arg-type]
        user=row.name if row.kind == "user" else None,
        group=row.name if row.kind == "group" else None,
        role=row.role,  # type: ignore[arg-type]
        created_at=aware(row.created_at),
        created_by=row.created_by,
    )


def prompt(row: PromptRow | Row[Any], project_slug: str, labels: dict[str, int]) -> models.Prompt:
    return models.Prompt(
        project=project_slug,
        name=row.name,
        description=row.description,
        kind=row.kind,  # type: ignore[arg-type]
        latest_version=row.latest_version,
        labels=labels,
        created_at=aware(row.created_at),
        created_by=row.created_by,
        updated_at=aware(row.updated_at),
    )


def prompt_version(
    row: PromptVersionRow | Row[Any], project_slug: str, prompt_name: str, labels: list[str]
) -> models.PromptVersion:
    return models.PromptVersion(
        project=project_slug,
        prompt=prompt_name,
        number=row.number,
        kind=row.kind,  # type: ignore[arg-type]
        template=row.template,
        variables=list(row.variables),
        declared_variables=list(row.declared_variables),
        model=row.model,
        params=dict(row.params),
        message=row.message,
        content_hash=row.content_hash,
        parent=row.parent,
        labels=sorted(labels),
        created_at=aware(row.created_at),
        created_by=row.created_by,
    )


def label(row: LabelRow, project_slug: str, prompt_name: str) -> models.Label:
    return models.Label(
        project=project_slug,
        prompt=prompt_name,
        name=row.name,
        version=row.version,
        updated_at=aware(row.updated_at),
        updated_by=row.updated_by,
    )


def label_event(row: LabelEventRow, project_slug: str, prompt_name: str) -> models.LabelEvent:
    return models.LabelEvent(
        project=project_slug,
        prompt=prompt_name,
        label=row.label,
        from_version=row.from_version,
        to_version=row.to_version,
        created_at=aware(row.created_at),
        created_by=row.created_by,
    )


def dataset(row: DatasetRow, project_slug: str) -> models.Dataset:
    return models.Dataset(
        project=project_slug,
        name=row.name,
        description=row.description,
        latest_version=row.latest_version,
        created_at=aware(row.created_at),
        created_by=row.created_by,
        updated_at=aware(row.updated_at),
    )


def dataset_version(
    row: DatasetVersionRow, project_slug: str, dataset_name: str
) -> models.DatasetVersion:
    return models.DatasetVersion(
        project=project_slug,
        dataset=dataset_name,
        number=row.number,
        content_hash=row.content_hash,
        columns=[models.Column(**c) for c in row.columns],
        row_count=row.row_count,
        source_format=row.source_format,
        message=row.message,
        created_at=aware(row.created_at),
        created_by=row.created_by,
    )
