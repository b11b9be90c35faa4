"""Label queries of :class:`~llmlab_jupyter.store.sql_store.SQLStore`: moves and history.

A label points at one version of a prompt; every move (removal included) adds a history row.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import models
from ...exceptions import NotFound
from .. import convert
from ..orm.base import utcnow
from ..orm.catalog import LabelEventRow, LabelRow, PromptRow
from ..queries import Queries

if TYPE_CHECKING:
    pass


class LabelQueries(Queries):
    """Mixin: labels of prompts and their history."""

    def _prompt(  # pragma: no cover - provided by PromptQueries
        self, s: Session, project_id: int, name: str, *, lock: bool = False
    ) -> PromptRow:
        raise NotImplementedError

    def set_label(
        self,
        project: str,
        name: str,
        label: str,
        version: int | None,
        user: str,
        *,
        at: datetime | None = None,
    ) -> models.Label | None:
        """Point ``label`` at ``version`` (``None`` removes it), recording the move."""
        with self.tx.write() as s:
            proj = self._project(s, project)
            prompt = self._prompt(s, proj.id, name, lock=True)
            if version is not None and not (1 <= version <= prompt.latest_version):
                raise NotFound(f"prompt {name!r} has no version {version}", field="version")
            row = s.scalars(
                select(LabelRow).where(LabelRow.prompt_id == prompt.id, LabelRow.name == label)
            ).first()
            if version is None and row is None:
                raise NotFound(f"prompt {name!r} has no label {label!r}", field="label")
            previous = row.version if row is not None else None
            if previous == version:
                return convert.label(row, project, name) if row is not None else None
            now = at or utcnow()
            s.add(
                LabelEventRow(
                    prompt_id=prompt.id,
                    label=label,
                    from_version=previous,
                    to_version=version,
                    created_at=now,
                    created_by=user,
                )
            )
            if version is None:
                if row is None:
                    raise NotFound(f"prompt {name!r} has no label {label!r}", field="label")
                s.delete(row)
                return None
            if row is None:
                row = LabelRow(
                    prompt_id=prompt.id,
                    name=label,
                    version=version,
                    created_by=user,
                    created_at=now,
                    updated_at=now,
                    updated_by=user,
                )
                s.add(row)
            else:
                row.version, row.updated_at, row.updated_by = version, now, user
            s.flush()
            return convert.label(row, project, name)

    def label_history(
        self, project: str, name: str, label: str | None = None
    ) -> list[models.LabelEvent]:
        """Every label move of a prompt, oldest first."""
        with self.tx.read() as s:
            proj = self._project(s, project)
            prompt = self._prompt(s, proj.id, name)
            query = select(LabelEventRow).where(LabelEventRow.prompt_id == prompt.id)
            if label is not None:
                query = query.where(LabelEventRow.label == label)
            rows = s.scalars(query.order_by(LabelEventRow.id)).all()
            return [convert.label_event(r, project, name) for r in rows]
