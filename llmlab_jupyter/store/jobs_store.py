"""Job queue queries of the store: idempotent submit, leased claims, heartbeats, logs.

The queue is the ``jobs`` table. A worker *claims* a job inside one write transaction
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent workers never wait on each other
or take the same row; ``BEGIN IMMEDIATE`` on SQLite, which serializes writers) and holds it
through a lease token that it renews by heartbeat. Only the holder of the current lease can
finish a job, so a job that was taken over after its worker was presumed dead can never
record two results. :meth:`JobQueries.reap_jobs` turns expired leases back into queued jobs
(or failed ones once attempts are exhausted) and fails jobs past their timeout.

Remote executors (Celery) record when a job was handed to their broker in ``dispatched_at``;
:meth:`JobQueries.take_jobs_to_dispatch` finds queued jobs whose dispatch failed or whose
message the broker seems to have lost, so that they are sent again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..exceptions import Conflict, NotFound
from ..models_jobs import Claim, Job, JobLog
from .convert import aware
from .orm.base import utcnow
from .orm.catalog import ProjectRow
from .orm.jobs import JobLogRow, JobRow, ScheduleRow

if TYPE_CHECKING:
    from .engine import Transactions

#: Extra time past a job's timeout before the reaper fails a job whose worker still heartbeats.
TIMEOUT_GRACE_S = 30.0
#: A queued job never handed to the broker is sent again only once it is this old (its
#: submitter is probably still sending it: this avoids most needless duplicate messages).
DISPATCH_GRACE_S = 5.0


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


class JobQueries:
    """Mixin of :class:`SQLStore` for the job queue and job logs."""

    tx: Transactions

    @property
    def dialect(self) -> str:  # pragma: no cover - provided by SQLStore
        raise NotImplementedError

    @staticmethod
    def _project(s: Session, slug: str) -> ProjectRow:  # pragma: no cover - SQLStore
        raise NotImplementedError

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

    # -- claim, heartbeat, finish ----------------------------------------------------------
    def claim_job(
        self,
        lease_token: str,
        *,
        lease_s: float,
        job_id: int | None = None,
        executor: str | None = None,
        steal_if: Callable[[str], bool] | None = None,
    ) -> Claim | None:
        """Take a queued job (the oldest, or ``job_id``) under ``lease_token``; ``None`` if none.

        A running job is taken over only when its lease expired or ``steal_if(lease_token)``
        says its holder is known dead. ``attempts`` counts each claim.
        """
        now = utcnow()
        with self.tx.write() as s:
            if job_id is None:
                query = select(JobRow).where(JobRow.state == "queued")
                if executor is not None:
                    query = query.where(JobRow.executor == executor)
                query = query.order_by(JobRow.id).limit(1)
            else:
                query = select(JobRow).where(JobRow.id == job_id)
            row = s.scalars(self._lock(query, skip_locked=True)).first()
            if row is None or row.cancel_requested:
                return None
            stale = row.lease_token  # a previous attempt's processes are killed before we start
            if row.state == "running":
                expired = row.lease_expires_at is not None and aware(row.lease_expires_at) < now
                dead = bool(steal_if and row.lease_token and steal_if(row.lease_token))
                if not (expired or dead):
                    return None
                if row.attempts >= row.max_attempts:
                    self._end(row, "failed", f"worker lost after {row.attempts} attempts", now)
                    return None
            elif row.state != "queued":
                return None
            row.state, row.lease_token = "running", lease_token
            row.attempts += 1
            row.started_at = row.heartbeat_at = now
            row.lease_expires_at = now + timedelta(seconds=lease_s)
            s.flush()
            return Claim(
                job_id=row.id,
                project=str(
                    s.scalar(select(ProjectRow.slug).where(ProjectRow.id == row.project_id))
                ),
                owner=row.created_by,
                template=row.template,
                parameters=row.parameters,
                attempt=row.attempts,
                timeout_s=row.timeout_s,
                lease_token=lease_token,
                started_at=now,
                stale_token=stale,
            )

    def heartbeat_job(self, job_id: int, lease_token: str, *, lease_s: float) -> str:
        """Renew the lease: ``"ok"``, ``"cancel"`` (stop, cancel requested) or ``"lost"``."""
        now = utcnow()
        with self.tx.write() as s:
            row = s.get(JobRow, job_id)
            if row is None or row.state != "running" or row.lease_token != lease_token:
                return "lost"
            row.heartbeat_at = now
            row.lease_expires_at = now + timedelta(seconds=lease_s)
            return "cancel" if row.cancel_requested else "ok"

    def finish_job(
        self,
        job_id: int,
        lease_token: str,
        state: str,
        *,
        error: str = "",
        result: dict[str, Any] | None = None,
        artifacts: dict[str, str] | None = None,
    ) -> bool:
        """Record the end of an attempt if ``lease_token`` still holds the job.

        Returns ``False`` (and changes nothing) when the lease was lost: the job was taken
        over, reaped or already finished; so a job never gets two results.
        """
        with self.tx.write() as s:
            row = s.scalars(self._lock(select(JobRow).where(JobRow.id == job_id))).first()
            if row is None or row.state != "running" or row.lease_token != lease_token:
                return False
            if row.cancel_requested and state != "succeeded":
                state = "cancelled"
            row.result = result
            row.artifacts = dict(artifacts or {})
            self._end(row, state, error, utcnow())
            return True

    def release_job(self, job_id: int, lease_token: str, error: str) -> bool:
        """Give a job back to the queue (its worker shuts down); the attempt is not counted."""
        with self.tx.write() as s:
            row = s.get(JobRow, job_id)
            if row is None or row.state != "running" or row.lease_token != lease_token:
                return False
            if row.cancel_requested:
                self._end(row, "cancelled", "cancelled", utcnow())
            else:
                row.state, row.lease_token, row.lease_expires_at = "queued", None, None
                row.attempts, row.error = max(row.attempts - 1, 0), error
                row.dispatched_at = None  # back in the queue: to be sent to the broker again
            return True

    @staticmethod
    def _end(row: JobRow, state: str, error: str, now: datetime) -> None:
        row.state, row.error, row.finished_at = state, error[:20000], now
        row.lease_expires_at = None

    def reap_jobs(self, *, steal_if: Callable[[str], bool] | None = None) -> list[Job]:
        """Recover jobs whose worker vanished; returns the jobs put back in the queue.

        Expired lease: cancelled if a cancel was requested, failed once ``max_attempts``
        attempts were made, queued again otherwise. A job still heart-beating past
        ``timeout + TIMEOUT_GRACE_S`` fails (its worker finds its lease lost and kills it).
        A lease whose holder ``steal_if`` says is dead counts as expired.
        """
        now = utcnow()
        requeued: list[Job] = []
        with self.tx.write() as s:
            rows = s.scalars(
                self._lock(select(JobRow).where(JobRow.state == "running"), skip_locked=True)
            ).all()
            for row in rows:
                started = aware(row.started_at) if row.started_at else now
                if (now - started).total_seconds() > row.timeout_s + TIMEOUT_GRACE_S:
                    self._end(row, "failed", f"timed out after {row.timeout_s:g} s", now)
                    continue
                expired = row.lease_expires_at is None or aware(row.lease_expires_at) < now
                dead = bool(steal_if and row.lease_token and steal_if(row.lease_token))
                if not (expired or dead):
                    continue
                if row.cancel_requested:
                    self._end(row, "cancelled", "cancelled", now)
                elif row.attempts >= row.max_attempts:
                    self._end(row, "failed", f"worker lost after {row.attempts} attempts", now)
                else:
                    row.state, row.lease_expires_at = "queued", None
                    row.error = f"worker lost during attempt {row.attempts}; queued again"
                    row.dispatched_at = None  # its caller dispatches it (or maintenance does)
                    s.flush()
                    requeued.append(self._job_record(s, row))
        return requeued

    # -- dispatch to a remote executor's broker -------------------------------------------
    def mark_job_dispatched(self, job_id: int, at: datetime | None = None) -> None:
        """Record that job ``job_id`` was handed to the broker (at ``at``, default now)."""
        with self.tx.write() as s:
            s.execute(
                update(JobRow)
                .where(JobRow.id == job_id)
                .values(dispatched_at=at if at is not None else utcnow())
            )

    def clear_job_dispatch(self, job_ids: list[int], marker: datetime) -> None:
        """Undo :meth:`take_jobs_to_dispatch` for jobs whose send failed: they are again
        "not dispatched" (unless someone dispatched them since, or they left the queue)."""
        if not job_ids:
            return
        with self.tx.write() as s:
            s.execute(
                update(JobRow)
                .where(
                    JobRow.id.in_(job_ids),
                    JobRow.state == "queued",
                    JobRow.dispatched_at == marker,
                )
                .values(dispatched_at=None)
            )

    def take_jobs_to_dispatch(
        self,
        *,
        executor: str,
        stale_after_s: float,
        grace_s: float | None = None,
        limit: int = 100,
    ) -> list[tuple[int, datetime]]:
        """Queued jobs of ``executor`` that must be sent to the broker (again), oldest first.

        Those never dispatched (``dispatched_at`` is NULL: the broker was down, or the
        submitter died before sending) once ``grace_s`` old (default
        :data:`DISPATCH_GRACE_S`), and those dispatched more than
        ``stale_after_s`` ago and still queued (the broker lost the message). Each is marked
        dispatched now, in one transaction, so concurrent maintainers do not both send it;
        returns ``(job_id, marker)`` pairs (one marker for the batch): pass the ids whose send
        failed and the marker to :meth:`clear_job_dispatch`. Cancelled jobs are never returned.
        """
        now = utcnow()
        grace = DISPATCH_GRACE_S if grace_s is None else grace_s
        due = and_(
            JobRow.state == "queued",
            JobRow.executor == executor,
            JobRow.cancel_requested.is_(False),
            or_(
                and_(
                    JobRow.dispatched_at.is_(None),
                    JobRow.created_at <= now - timedelta(seconds=grace),
                ),
                JobRow.dispatched_at <= now - timedelta(seconds=stale_after_s),
            ),
        )
        with self.tx.read() as s:  # the usual answer is "none": no write lock for it
            if s.scalar(select(JobRow.id).where(due).limit(1)) is None:
                return []
        with self.tx.write() as s:
            query = select(JobRow).where(due).order_by(JobRow.id).limit(limit)
            rows = s.scalars(self._lock(query, skip_locked=True)).all()
            for row in rows:
                row.dispatched_at = now
            s.flush()
            return [(row.id, now) for row in rows]

    def cancel_job(self, project: str, job_id: int) -> Job:
        """Cancel a queued job now; ask a running one to stop. ``Conflict`` once it ended."""
        with self.tx.write() as s:
            proj = self._project(s, project)
            row = s.scalars(self._lock(select(JobRow).where(JobRow.id == job_id))).first()
            if row is None or row.project_id != proj.id:
                raise NotFound(f"job {job_id} not found", field="job")
            if row.state in ("succeeded", "failed"):
                raise Conflict(f"job {job_id} already {row.state}", field="job")
            if row.state == "queued":
                self._end(row, "cancelled", "cancelled before it started", utcnow())
            row.cancel_requested = True
            s.flush()
            return self._job_record(s, row)

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
