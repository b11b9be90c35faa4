"""Stored statistics of finished experiments (see :class:`~.orm.SummarySnapshotRow`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from ..orm.base import utcnow
from ..orm.experiments import SummarySnapshotRow
from ..queries import Queries

if TYPE_CHECKING:
    pass


class SummaryQueries(Queries):
    """Mixin of :class:`SQLStore`: one JSON text per (experiment, statistics parameters)."""

    def summary_snapshot(self, experiment_id: int, params: str, fingerprint: str) -> str | None:
        """The stored body for ``params``, or ``None`` if absent or made from another state."""
        with self.tx.read() as s:
            row = s.execute(
                select(SummarySnapshotRow.fingerprint, SummarySnapshotRow.body).where(
                    SummarySnapshotRow.experiment_id == experiment_id,
                    SummarySnapshotRow.params == params,
                )
            ).first()
        if row is None or row[0] != fingerprint:
            return None
        return str(row[1])

    def save_summary_snapshot(
        self, experiment_id: int, params: str, fingerprint: str, body: str
    ) -> None:
        """Store (or replace) the body for ``params``; idempotent."""
        values: dict[str, Any] = {
            "experiment_id": experiment_id,
            "params": params,
            "fingerprint": fingerprint,
            "body": body,
            "created_at": utcnow(),
        }
        insert: Any = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        stmt = insert(SummarySnapshotRow).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["experiment_id", "params"],
            set_={k: stmt.excluded[k] for k in ("fingerprint", "body", "created_at")},
        )
        with self.tx.write() as s:
            s.execute(stmt)
