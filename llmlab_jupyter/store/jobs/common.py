"""What the job queue mixins share: the :class:`Job` record of a row, and row locks."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Job
from ..convert import aware
from ..orm.catalog import ProjectRow
from ..orm.jobs import JobRow, ScheduleRow
from ..queries import Queries

if TYPE_CHECKING:
    pass


def _opt(value: datetime | None) -> datetime | None:
    return aware(value) if value is not None else None


def job_record(row: JobRow, project: str, schedule: str | None = None) -> Job:
    """The :class:`Job` record of a row."""
    return Job(
        id=row.id,
        project=project,
        template=row.template,
        parameters=row.parameters,
        state=row.state,  # type: ignore[arg-type]
        executor=row.executor,
        idempotency_key=row.idempotency_key,
        schedule=schedule,
        scheduled_for=_opt(row.scheduled_for),
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        timeout_s=row.timeout_s,
        cancel_requested=row.cancel_requested,
        lease_expires_at=_opt(row.lease_expires_at),
        dispatched_at=_opt(row.dispatched_at),
        heartbeat_at=_opt(row.heartbeat_at),
        started_at=_opt(row.started_at),
        finished_at=_opt(row.finished_at),
        error=row.error,
        result=row.result,
        artifacts=dict(row.artifacts or {}),
        created_at=aware(row.created_at),
        created_by=row.created_by,
    )


class JobQueriesBase(Queries):
    """Base of the job queue mixins of :class:`SQLStore`: job records and row locks."""

    def _job_record(self, s: Session, row: JobRow) -> Job:
        slug = s.scalar(select(ProjectRow.slug).where(ProjectRow.id == row.project_id))
        schedule = None
        if row.schedule_id is not None:
            schedule = s.scalar(select(ScheduleRow.name).where(ScheduleRow.id == row.schedule_id))
        return job_record(row, str(slug), schedule)

    def _lock(self, query: Any, *, skip_locked: bool = False) -> Any:
        if self.dialect == "sqlite":  # BEGIN IMMEDIATE already holds the write lock
            return query
        return query.with_for_update(skip_locked=skip_locked)
