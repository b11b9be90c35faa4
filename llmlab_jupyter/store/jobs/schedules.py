"""Schedule and alert queries of the store: cron ticks that fire exactly once.

:meth:`ScheduleQueries.fire_due_schedules` locks the due schedules (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), queues one job per schedule for its
due tick and moves ``next_run_at`` past now, all in one transaction; the unique
``(schedule_id, scheduled_for)`` key of ``jobs`` makes a second job for one tick impossible
even if two schedulers race.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...exceptions import Conflict, NotFound
from ...models import Alert, Job, Schedule
from ..convert import aware
from ..orm.base import utcnow
from ..orm.catalog import ProjectRow
from ..orm.jobs import AlertRow, JobRow, ScheduleRow
from ..queries import Queries
from .common import job_record

if TYPE_CHECKING:
    pass

#: (cron, timezone, after) -> the next tick strictly after ``after`` (aware, UTC)
NextTick = Callable[[str, str, datetime], datetime]


def _schedule(row: ScheduleRow, project: str) -> Schedule:
    return Schedule(
        project=project,
        name=row.name,
        cron=row.cron,
        timezone=row.timezone,
        template=row.template,
        parameters=row.parameters,
        alert_rule=row.alert_rule,
        timeout_s=row.timeout_s,
        paused=row.paused,
        next_run_at=aware(row.next_run_at),
        last_run_at=aware(row.last_run_at) if row.last_run_at else None,
        created_at=aware(row.created_at),
        created_by=row.created_by,
    )


class ScheduleQueries(Queries):
    """Mixin of :class:`SQLStore` for schedules and alerts."""

    def _schedule_row(self, s: Session, project: str, name: str) -> ScheduleRow:
        proj = self._project(s, project)
        row = s.scalars(
            select(ScheduleRow).where(ScheduleRow.project_id == proj.id, ScheduleRow.name == name)
        ).first()
        if row is None:
            raise NotFound(f"schedule {name!r} not found", field="name")
        return row

    def create_schedule(
        self,
        project: str,
        name: str,
        *,
        cron: str,
        timezone: str,
        template: str,
        parameters: dict[str, Any],
        alert_rule: dict[str, Any] | None,
        timeout_s: float,
        next_run_at: datetime,
        user: str,
    ) -> Schedule:
        try:
            with self.tx.write() as s:
                proj = self._project(s, project)
                row = ScheduleRow(
                    project_id=proj.id,
                    name=name,
                    cron=cron,
                    timezone=timezone,
                    template=template,
                    parameters=parameters,
                    alert_rule=alert_rule,
                    timeout_s=timeout_s,
                    paused=False,
                    next_run_at=next_run_at,
                    created_by=user,
                )
                s.add(row)
                s.flush()
                return _schedule(row, project)
        except IntegrityError as err:
            raise Conflict(f"schedule {name!r} already exists", field="name") from err

    def get_schedule(self, project: str, name: str) -> Schedule:
        with self.tx.read() as s:
            return _schedule(self._schedule_row(s, project, name), project)

    def list_schedules(self, project: str) -> list[Schedule]:
        with self.tx.read() as s:
            proj = self._project(s, project)
            rows = s.scalars(
                select(ScheduleRow)
                .where(ScheduleRow.project_id == proj.id)
                .order_by(ScheduleRow.name)
            ).all()
            return [_schedule(r, project) for r in rows]

    def set_schedule_paused(
        self, project: str, name: str, paused: bool, next_run_at: datetime | None
    ) -> Schedule:
        """Pause or resume; resuming sets the next tick (missed ticks are not run)."""
        with self.tx.write() as s:
            row = self._schedule_row(s, project, name)
            row.paused = paused
            if next_run_at is not None:
                row.next_run_at = next_run_at
            s.flush()
            return _schedule(row, project)

    def delete_schedule(self, project: str, name: str) -> None:
        with self.tx.write() as s:
            row = self._schedule_row(s, project, name)
            s.execute(delete(ScheduleRow).where(ScheduleRow.id == row.id))

    def fire_due_schedules(
        self, next_tick: NextTick, *, executor: str, max_attempts: int, now: datetime | None = None
    ) -> list[Job]:
        """Queue one job for every schedule whose tick is due; returns the new jobs.

        Ticks missed while nothing ran (server down) collapse into the one run for the
        latest due tick; ``next_run_at`` moves to the first tick after ``now``.
        """
        now = now or utcnow()
        created: list[Job] = []
        with self.tx.write() as s:
            query = select(ScheduleRow).where(
                ScheduleRow.paused.is_(False), ScheduleRow.next_run_at <= now
            )
            if self.dialect != "sqlite":
                query = query.with_for_update(skip_locked=True)
            for row in s.scalars(query.order_by(ScheduleRow.id)).all():
                tick = aware(row.next_run_at)
                later = next_tick(row.cron, row.timezone, tick)
                while later <= now:  # collapse missed ticks into the latest one
                    tick, later = later, next_tick(row.cron, row.timezone, later)
                slug = str(s.scalar(select(ProjectRow.slug).where(ProjectRow.id == row.project_id)))
                exists = s.scalar(
                    select(JobRow.id).where(
                        JobRow.schedule_id == row.id, JobRow.scheduled_for == tick
                    )
                )
                if exists is None:
                    job = JobRow(
                        project_id=row.project_id,
                        template=row.template,
                        parameters=row.parameters,
                        state="queued",
                        executor=executor,
                        schedule_id=row.id,
                        scheduled_for=tick,
                        attempts=0,
                        max_attempts=max_attempts,
                        timeout_s=row.timeout_s,
                        artifacts={},
                        created_by=row.created_by,
                    )
                    s.add(job)
                    s.flush()
                    created.append(job_record(job, slug, row.name))
                row.last_run_at, row.next_run_at = tick, later
        return created

    def schedule_of_job(self, job_id: int) -> Schedule | None:
        with self.tx.read() as s:
            job = s.get(JobRow, job_id)
            if job is None or job.schedule_id is None:
                return None
            row = s.get(ScheduleRow, job.schedule_id)
            slug = str(s.scalar(select(ProjectRow.slug).where(ProjectRow.id == job.project_id)))
            return _schedule(row, slug) if row is not None else None

    def previous_result(self, job_id: int) -> dict[str, Any] | None:
        """The result of the latest succeeded earlier job of the same schedule."""
        with self.tx.read() as s:
            job = s.get(JobRow, job_id)
            if job is None or job.schedule_id is None:
                return None
            return s.scalar(
                select(JobRow.result)
                .where(
                    JobRow.schedule_id == job.schedule_id,
                    JobRow.id < job_id,
                    JobRow.state == "succeeded",
                )
                .order_by(JobRow.id.desc())
                .limit(1)
            )

    # -- alerts ----------------------------------------------------------------------------
    def create_alert(
        self,
        job_id: int,
        *,
        metric: str,
        value: float | None,
        baseline: float | None,
        message: str,
    ) -> tuple[Alert, bool]:
        """The alert of a job (one per job: a repeated call returns the first)."""
        try:
            with self.tx.write() as s:
                job = s.get(JobRow, job_id)
                if job is None:
                    raise NotFound(f"job {job_id} not found", field="job")
                existing = s.scalars(select(AlertRow).where(AlertRow.job_id == job_id)).first()
                if existing is not None:
                    return self._alert(s, existing), False
                row = AlertRow(
                    project_id=job.project_id,
                    schedule_id=job.schedule_id,
                    job_id=job_id,
                    metric=metric,
                    value=value,
                    baseline=baseline,
                    message=message,
                    webhook_status="",
                    created_by=job.created_by,
                )
                s.add(row)
                s.flush()
                return self._alert(s, row), True
        except IntegrityError:
            with self.tx.read() as s:
                row2 = s.scalars(select(AlertRow).where(AlertRow.job_id == job_id)).one()
                return self._alert(s, row2), False

    def set_alert_webhook_status(self, alert_id: int, status: str) -> None:
        with self.tx.write() as s:
            row = s.get(AlertRow, alert_id)
            if row is not None:
                row.webhook_status = status[:200]

    def list_alerts(self, project: str, *, limit: int = 100) -> list[Alert]:
        with self.tx.read() as s:
            proj = self._project(s, project)
            rows = s.scalars(
                select(AlertRow)
                .where(AlertRow.project_id == proj.id)
                .order_by(AlertRow.id.desc())
                .limit(limit)
            ).all()
            return [self._alert(s, r) for r in rows]

    @staticmethod
    def _alert(s: Session, row: AlertRow) -> Alert:
        slug = str(s.scalar(select(ProjectRow.slug).where(ProjectRow.id == row.project_id)))
        schedule = None
        if row.schedule_id is not None:
            schedule = s.scalar(select(ScheduleRow.name).where(ScheduleRow.id == row.schedule_id))
        return Alert(
            id=row.id,
            project=slug,
            schedule=schedule,
            job_id=row.job_id,
            metric=row.metric,
            value=row.value,
            baseline=row.baseline,
            message=row.message,
            webhook_status=row.webhook_status,
            created_at=aware(row.created_at),
        )
