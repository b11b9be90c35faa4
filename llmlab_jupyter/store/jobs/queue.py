"""Job queue queries of the store: idempotent submit, reads, logs.

The queue is the ``jobs`` table. Workers take jobs from it under a lease
(:mod:`.leases`); remote executors get them through their broker
(:mod:`.dispatch`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...exceptions import Conflict, NotFound
from ...models import Job, JobLog
from ..convert import aware
from ..orm.jobs import JobLogRow, JobRow, ScheduleRow
from .common import JobQueriesBase, job_record


class JobQueries(JobQueriesBase):
    """Mixin of :class:`SQLStore` for the job queue and job logs."""

    # -- submit and read -------------------------------------------------------------------
    def submit_job(
        self,
        project: str,
        template: str,
        parameters: dict[str, Any],
        *,
        user: str,
        timeout_s: float,
        max_attempts: int,
        executor: str,
        idempotency_key: str | None = None,
    ) -> tuple[Job, bool]:
        """Queue a job; returns ``(job, created)``.

        With an ``idempotency_key`` the first submit creates the job and every later one
        (concurrent ones included: the unique key decides) returns it; reusing a key for a
        different template or parameters is a ``Conflict``.
        """
        for _ in range(3):
            try:
                with self.tx.write() as s:
                    proj = self._project(s, project)
                    if idempotency_key is not None:
                        existing = self._by_key(s, proj.id, idempotency_key)
                        if existing is not None:
                            return self._same_request(s, existing, template, parameters), False
                    row = JobRow(
                        project_id=proj.id,
                        template=template,
                        parameters=parameters,
                        state="queued",
                        executor=executor,
                        idempotency_key=idempotency_key,
                        attempts=0,
                        max_attempts=max_attempts,
                        timeout_s=timeout_s,
                        artifacts={},
                        created_by=user,
                    )
                    s.add(row)
                    s.flush()
                    return job_record(row, project), True
            except IntegrityError:
                if idempotency_key is None:
                    raise
                continue  # a concurrent submit with the same key won: read its job
        raise Conflict("could not submit the job; try again", field="idempotency_key")

    @staticmethod
    def _by_key(s: Session, project_id: int, key: str) -> JobRow | None:
        return s.scalars(
            select(JobRow).where(JobRow.project_id == project_id, JobRow.idempotency_key == key)
        ).first()

    def _same_request(
        self, s: Session, row: JobRow, template: str, parameters: dict[str, Any]
    ) -> Job:
        if row.template != template or row.parameters != parameters:
            raise Conflict(
                f"idempotency key {row.idempotency_key!r} was used for a different job "
                f"(job {row.id})",
                field="idempotency_key",
            )
        return self._job_record(s, row)

    def get_job(self, project: str, job_id: int) -> Job:
        """A job of ``project``; ``NotFound`` otherwise."""
        with self.tx.read() as s:
            proj = self._project(s, project)
            row = s.get(JobRow, job_id)
            if row is None or row.project_id != proj.id:
                raise NotFound(f"job {job_id} not found", field="job")
            return self._job_record(s, row)

    def job_by_id(self, job_id: int) -> Job:
        """A job by id alone (workers and executors; no permission check here)."""
        with self.tx.read() as s:
            row = s.get(JobRow, job_id)
            if row is None:
                raise NotFound(f"job {job_id} not found", field="job")
            return self._job_record(s, row)

    def list_jobs(
        self,
        project: str,
        *,
        state: str | None = None,
        schedule: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Job]:
        """Jobs of a project, newest first."""
        with self.tx.read() as s:
            proj = self._project(s, project)
            query = select(JobRow).where(JobRow.project_id == proj.id)
            if state is not None:
                query = query.where(JobRow.state == state)
            if schedule is not None:
                query = query.join(ScheduleRow, ScheduleRow.id == JobRow.schedule_id).where(
                    ScheduleRow.name == schedule
                )
            rows = s.scalars(query.order_by(JobRow.id.desc()).limit(limit).offset(offset)).all()
            return [self._job_record(s, r) for r in rows]

    def count_jobs(self, *, states: tuple[str, ...]) -> int:
        """How many jobs (all projects) are in one of ``states``."""
        from sqlalchemy import func

        with self.tx.read() as s:
            return int(s.scalar(select(func.count()).where(JobRow.state.in_(states))) or 0)

    # -- logs ------------------------------------------------------------------------------
    def append_job_log(self, job_id: int, attempt: int, text: str) -> None:
        if not text:
            return
        with self.tx.write() as s:
            s.add(JobLogRow(job_id=job_id, attempt=attempt, text=text))

    def job_logs(self, job_id: int, *, after: int = 0, limit: int = 1000) -> list[JobLog]:
        """Log chunks of a job in order (``after``: skip the first chunks)."""
        with self.tx.read() as s:
            rows = s.scalars(
                select(JobLogRow)
                .where(JobLogRow.job_id == job_id)
                .order_by(JobLogRow.id)
                .offset(after)
                .limit(limit)
            ).all()
            return [
                JobLog(attempt=r.attempt, text=r.text, created_at=aware(r.created_at)) for r in rows
            ]

    def set_job_artifacts(self, job_id: int, artifacts: dict[str, str]) -> None:
        with self.tx.write() as s:
            s.execute(update(JobRow).where(JobRow.id == job_id).values(artifacts=artifacts))
