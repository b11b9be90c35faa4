"""Dispatch of queued jobs to a remote executor's broker.

Remote executors (Celery) record when a job was handed to their broker in ``dispatched_at``;
:meth:`JobDispatchQueries.take_jobs_to_dispatch` finds queued jobs whose dispatch failed or
whose message the broker seems to have lost, so that they are sent again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from ..orm.base import utcnow
from ..orm.jobs import JobRow
from .common import JobQueriesBase

#: A queued job never handed to the broker is sent again only once it is this old (its
#: submitter is probably still sending it: this avoids most needless duplicate messages).
DISPATCH_GRACE_S = 5.0


class JobDispatchQueries(JobQueriesBase):
    """Mixin of :class:`SQLStore` for handing queued jobs to a broker (again)."""

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
