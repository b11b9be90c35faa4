"""Feedback queries of the store: one judgement per (result, user), upserted; aggregates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ...exceptions import NotFound
from ..convert import aware
from ..orm.base import utcnow
from ..orm.experiments import FeedbackRow, ResultRow
from ..queries import Queries

if TYPE_CHECKING:
    pass

FEEDBACK_FIELDS = ("thumbs", "rating", "label", "comment")
#: Per-variant feedback of one experiment (built once: a summary reads it on every call).
_AGGREGATES = (
    select(
        FeedbackRow.variant_idx,
        func.count(),
        func.coalesce(func.sum(case((FeedbackRow.thumbs == 1, 1), else_=0)), 0),
        func.coalesce(func.sum(case((FeedbackRow.thumbs == -1, 1), else_=0)), 0),
        func.avg(FeedbackRow.rating),
        func.count(FeedbackRow.rating),
    )
    .where(FeedbackRow.experiment_id == bindparam("exp"))
    .group_by(FeedbackRow.variant_idx)
)


def _record(row: FeedbackRow) -> dict[str, Any]:
    return {
        "variant_idx": row.variant_idx,
        "row_idx": row.row_idx,
        "user": row.user_name,
        "thumbs": row.thumbs,
        "rating": row.rating,
        "label": row.label,
        "comment": row.comment,
        "created_at": aware(row.created_at),
        "updated_at": aware(row.updated_at),
    }


class FeedbackQueries(Queries):
    """Mixin of :class:`SQLStore` for human feedback on results."""

    def upsert_feedback(
        self,
        experiment_id: int,
        variant_idx: int,
        row_idx: int,
        user: str,
        values: dict[str, Any],
    ) -> dict[str, Any]:
        """Create or update ``user``'s feedback on one result; returns the stored record.

        Only the fields present in ``values`` (thumbs, rating, label, comment) change on
        an update; a present ``None`` clears that field (``comment`` clears to ``""``).
        Raises ``NotFound`` when the result does not exist (yet).
        """
        fields = {k: v for k, v in values.items() if k in FEEDBACK_FIELDS}
        if "comment" in fields and fields["comment"] is None:
            fields["comment"] = ""
        now = utcnow()
        with self.tx.write() as s:
            self._require_result(s, experiment_id, variant_idx, row_idx)
            row = {
                "experiment_id": experiment_id,
                "variant_idx": variant_idx,
                "row_idx": row_idx,
                "user_name": user,
                "comment": "",
                **fields,
                "created_at": now,
                "created_by": user,
                "updated_at": now,
            }
            if self.dialect == "postgresql":
                stmt: Any = postgresql.insert(FeedbackRow).values(**row)
            else:
                stmt = sqlite.insert(FeedbackRow).values(**row)
            stmt = stmt.on_conflict_do_update(
                index_elements=["experiment_id", "variant_idx", "row_idx", "user_name"],
                set_={**fields, "updated_at": now},
            )
            s.execute(stmt)
            stored = s.scalars(
                select(FeedbackRow)
                .where(
                    FeedbackRow.experiment_id == experiment_id,
                    FeedbackRow.variant_idx == variant_idx,
                    FeedbackRow.row_idx == row_idx,
                    FeedbackRow.user_name == user,
                )
                .execution_options(populate_existing=True)
            ).one()
            return _record(stored)

    @staticmethod
    def _require_result(s: Session, experiment_id: int, variant_idx: int, row_idx: int) -> None:
        found = s.scalar(
            select(func.count())
            .select_from(ResultRow)
            .where(
                ResultRow.experiment_id == experiment_id,
                ResultRow.variant_idx == variant_idx,
                ResultRow.row_idx == row_idx,
            )
        )
        if not found:
            raise NotFound(
                f"no result for variant {variant_idx}, row {row_idx}: run the experiment first",
                field="row_idx",
            )

    def list_feedback(
        self,
        experiment_id: int,
        *,
        variant_idx: int | None = None,
        row_lo: int | None = None,
        row_hi: int | None = None,
        user: str | None = None,
    ) -> list[dict[str, Any]]:
        """Feedback records of an experiment (optionally a row range, a variant or a user)."""
        with self.tx.read() as s:
            query = select(FeedbackRow).where(FeedbackRow.experiment_id == experiment_id)
            if variant_idx is not None:
                query = query.where(FeedbackRow.variant_idx == variant_idx)
            if row_lo is not None:
                query = query.where(FeedbackRow.row_idx >= row_lo)
            if row_hi is not None:
                query = query.where(FeedbackRow.row_idx <= row_hi)
            if user is not None:
                query = query.where(FeedbackRow.user_name == user)
            query = query.order_by(
                FeedbackRow.row_idx, FeedbackRow.variant_idx, FeedbackRow.user_name
            )
            return [_record(r) for r in s.scalars(query)]

    def feedback_aggregates(self, experiment_id: int) -> dict[int, dict[str, Any]]:
        """Per variant: thumbs up/down counts, mean rating, how many ratings, feedback rows."""
        with self.tx.read() as s:
            rows = s.connection().execute(_AGGREGATES, {"exp": experiment_id}).all()
        return {
            int(v): {
                "feedback": int(n),
                "thumbs_up": int(up),
                "thumbs_down": int(down),
                "mean_rating": float(mean) if mean is not None else None,
                "rated": int(rated),
            }
            for v, n, up, down, mean, rated in rows
        }
