"""The runner's hold on an experiment: claim, heartbeat, final status, orphan recovery.

A runner claims an experiment (``running``, with its id and a heartbeat) and refreshes the
heartbeat while it works; a runner whose heartbeat is too old is presumed dead, so another
one may take over, and :meth:`ExperimentRunQueries.mark_orphans_interrupted` marks its
experiments ``interrupted`` (to be resumed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ...exceptions import Conflict
from ..convert import aware
from ..orm.base import utcnow
from ..orm.experiments import ExperimentRow, ResultRow, UsageRow
from ..queries import Queries

if TYPE_CHECKING:
    pass

FINAL = ("completed", "failed", "cancelled", "budget_exceeded")


class ExperimentRunQueries(Queries):
    """Mixin of :class:`SQLStore` for the status and runner lease of experiments."""

    def _experiment_row(  # pragma: no cover - provided by ExperimentQueries
        self, s: Session, project: str, name: str
    ) -> ExperimentRow:
        raise NotImplementedError

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

        from ...leases import holder_is_dead

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
