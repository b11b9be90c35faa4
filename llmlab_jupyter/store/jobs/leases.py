"""Leased claims of queued jobs: claim, heartbeat, finish, release, cancel, reap.

A worker *claims* a job inside one write transaction
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent workers never wait on each other
or take the same row; ``BEGIN IMMEDIATE`` on SQLite, which serializes writers) and holds it
through a lease token that it renews by heartbeat. Only the holder of the current lease can
finish a job, so a job that was taken over after its worker was presumed dead can never
record two results. :meth:`JobLeaseQueries.reap_jobs` turns expired leases back into queued
jobs (or failed ones once attempts are exhausted) and fails jobs past their timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from ...exceptions import Conflict, NotFound
from ...models import Claim, Job
from ..convert import aware
from ..orm.base import utcnow
from ..orm.catalog import ProjectRow
from ..orm.jobs import JobRow
from .common import JobQueriesBase

#: Extra time past a job's timeout before the reaper fails a job whose worker still heartbeats.
TIMEOUT_GRACE_S = 30.0


class JobLeaseQueries(JobQueriesBase):
    """Mixin of :class:`SQLStore` for the leases of running jobs and their ends."""

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
