"""Prompt queries of :class:`~llmlab_jupyter.store.sql_store.SQLStore`: versions and reads.

A save appends a version numbered latest + 1 (the prompt row is locked with ``FOR UPDATE``
on PostgreSQL; SQLite writes start with ``BEGIN IMMEDIATE``) unless its content hash equals
the latest version's, which is returned instead.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ... import models
from ...exceptions import Conflict, NotFound
from .. import convert
from ..orm.base import utcnow
from ..orm.catalog import LabelRow, PromptRow, PromptVersionRow
from ..queries import Queries

if TYPE_CHECKING:
    pass

# Statements of the hottest reads, built once (bound parameters): building a select() costs
# more than running it on SQLite. Executed on the session's connection (Core, no ORM layer).
_PROMPT = select(*PromptRow.__table__.c).where(
    PromptRow.project_id == bindparam("pid"), PromptRow.name == bindparam("name")
)
_LABELS_OF = select(LabelRow.prompt_id, LabelRow.name, LabelRow.version).where(
    LabelRow.prompt_id.in_(bindparam("ids", expanding=True))
)
_LABEL_TARGET = select(LabelRow.version).where(
    LabelRow.prompt_id == bindparam("prompt"), LabelRow.name == bindparam("label")
)
_VERSION = select(*PromptVersionRow.__table__.c).where(
    PromptVersionRow.prompt_id == bindparam("prompt"),
    PromptVersionRow.number == bindparam("number"),
)
_VERSION_LABELS = select(LabelRow.name).where(
    LabelRow.prompt_id == bindparam("prompt"), LabelRow.version == bindparam("number")
)


def _prompt_order(sort: str) -> list[Any]:
    """ORDER BY of a prompt list: ``name`` or ``updated_at``, ``-`` for descending."""
    column = PromptRow.updated_at if sort.lstrip("-") == "updated_at" else PromptRow.name
    return [column.desc() if sort.startswith("-") else column.asc(), PromptRow.name]


@functools.lru_cache(maxsize=8)
def _list_prompts_statement(sort: str) -> Any:
    return (
        select(*PromptRow.__table__.c)
        .where(PromptRow.project_id == bindparam("pid"))
        .order_by(*_prompt_order(sort))
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


class PromptQueries(Queries):
    """Mixin: prompts and their immutable versions."""

    def _prompt(self, s: Session, project_id: int, name: str, *, lock: bool = False) -> PromptRow:
        query = select(PromptRow).where(PromptRow.project_id == project_id, PromptRow.name == name)
        if lock and self.dialect != "sqlite":
            query = query.with_for_update()
        row = s.scalars(query).first()
        if row is None:
            raise NotFound(f"prompt {name!r} not found", field="name")
        return row

    @staticmethod
    def _labels_by_prompt(s: Session, prompt_ids: Sequence[int]) -> dict[int, dict[str, int]]:
        out: dict[int, dict[str, int]] = defaultdict(dict)
        if prompt_ids:
            rows = s.connection().execute(_LABELS_OF, {"ids": list(prompt_ids)})
            for pid, name, version in rows:
                out[pid][name] = version
        return out

    def _version_record(
        self, s: Session, project: str, prompt: PromptRow, row: PromptVersionRow
    ) -> models.PromptVersion:
        labels = s.scalars(
            select(LabelRow.name).where(
                LabelRow.prompt_id == prompt.id, LabelRow.version == row.number
            )
        ).all()
        return convert.prompt_version(row, project, prompt.name, list(labels))

    # -- prompts ---------------------------------------------------------------------------
    def save_prompt_version(
        self,
        project: str,
        name: str,
        *,
        kind: str,
        template: Any,
        variables: list[str],
        declared_variables: list[str],
        model: str | None,
        params: dict[str, Any],
        message: str,
        content_hash: str,
        description: str | None,
        user: str,
        number: int | None = None,
        created_at: datetime | None = None,
        created_by: str | None = None,
        parent: int | None = None,
    ) -> tuple[models.PromptVersion, bool]:
        """Append a version (numbered latest + 1) unless it equals the latest one.

        ``number``/``created_at``/``created_by``/``parent`` are only for imports, which
        must reproduce history exactly; an import whose number is not the next one
        raises ``Conflict``.
        """
        with self.tx.write() as s:
            proj = self._project(s, project)
            prompt = self._get_or_create_prompt(s, proj.id, name, kind, description or "", user)
            latest: PromptVersionRow | None = None
            if prompt.latest_version:
                latest = s.scalars(
                    select(PromptVersionRow).where(
                        PromptVersionRow.prompt_id == prompt.id,
                        PromptVersionRow.number == prompt.latest_version,
                    )
                ).one()
            if number is None and latest is not None and latest.content_hash == content_hash:
                return self._version_record(s, project, prompt, latest), False
            next_number = prompt.latest_version + 1
            if number is not None and number != next_number:
                raise Conflict(
                    f"prompt {name!r} would get version {next_number}, not {number}",
                    field="number",
                )
            now = utcnow()
            row = PromptVersionRow(
                prompt_id=prompt.id,
                number=next_number,
                kind=kind,
                template=template,
                variables=variables,
                declared_variables=declared_variables,
                model=model,
                params=params,
                message=message,
                content_hash=content_hash,
                parent=parent if number is not None else (latest.number if latest else None),
                created_at=created_at or now,
                created_by=created_by or user,
            )
            s.add(row)
            prompt.latest_version = next_number
            prompt.kind = kind
            prompt.updated_at = created_at or now
            if description is not None:
                prompt.description = description
            s.flush()
            return convert.prompt_version(row, project, name, []), True

    def _get_or_create_prompt(
        self, s: Session, project_id: int, name: str, kind: str, description: str, user: str
    ) -> PromptRow:
        try:
            return self._prompt(s, project_id, name, lock=True)
        except NotFound:
            pass
        try:
            with s.begin_nested():
                s.add(
                    PromptRow(
                        project_id=project_id,
                        name=name,
                        kind=kind,
                        description=description,
                        created_by=user,
                    )
                )
        except IntegrityError:
            pass  # created concurrently: lock the winner's row below
        return self._prompt(s, project_id, name, lock=True)

    @staticmethod
    def _prompt_columns(s: Session, project_id: int, name: str, *columns: Any) -> Any:
        """A Core row of the prompt (``columns``, or every column); ``NotFound`` if none."""
        if columns:
            row = s.execute(
                select(*columns).where(PromptRow.project_id == project_id, PromptRow.name == name)
            ).first()
        else:
            row = s.connection().execute(_PROMPT, {"pid": project_id, "name": name}).first()
        if row is None:
            raise NotFound(f"prompt {name!r} not found", field="name")
        return row

    def get_prompt(self, project: str, name: str) -> models.Prompt:
        with self.tx.read() as s:
            row = self._prompt_columns(s, self._project_id(s, project), name)
            return convert.prompt(row, project, self._labels_by_prompt(s, [row.id])[row.id])

    def list_prompts(
        self,
        project: str,
        *,
        search: str | None = None,
        label: str | None = None,
        limit: int,
        offset: int = 0,
        sort: str = "name",
    ) -> list[models.Prompt]:
        """Prompts of a project by name, optionally matching ``search`` or carrying ``label``.

        ``sort`` is ``name`` or ``updated_at``, descending with a ``-`` prefix (ties by name).
        """
        with self.tx.read() as s:
            pid = self._project_id(s, project)
            if not search and not label:  # the sidebar's paging: a statement built once
                rows = (
                    s.connection()
                    .execute(
                        _list_prompts_statement(sort),
                        {"pid": pid, "limit": limit, "offset": offset},
                    )
                    .all()
                )
                labels = self._labels_by_prompt(s, [r.id for r in rows])
                return [convert.prompt(r, project, labels.get(r.id, {})) for r in rows]
            query = select(*PromptRow.__table__.c).where(PromptRow.project_id == pid)
            if search:
                query = query.where(
                    or_(
                        PromptRow.name.icontains(search, autoescape=True),
                        PromptRow.description.icontains(search, autoescape=True),
                    )
                )
            if label:
                query = query.where(
                    PromptRow.id.in_(select(LabelRow.prompt_id).where(LabelRow.name == label))
                )
            rows = s.execute(query.order_by(*_prompt_order(sort)).limit(limit).offset(offset)).all()
            labels = self._labels_by_prompt(s, [r.id for r in rows])
            return [convert.prompt(r, project, labels.get(r.id, {})) for r in rows]

    def count_prompts(self, project: str) -> int:
        with self.tx.read() as s:
            pid = self._project_id(s, project)
            return int(s.scalar(select(func.count()).where(PromptRow.project_id == pid)) or 0)

    def get_prompt_version(
        self, project: str, name: str, *, number: int | None = None, label: str | None = None
    ) -> models.PromptVersion:
        """One version by number, by label, or the latest when both are ``None``."""
        with self.tx.read() as s:
            conn = s.connection()
            prompt = self._prompt_columns(s, self._project_id(s, project), name)
            if label is not None:
                target = conn.execute(_LABEL_TARGET, {"prompt": prompt.id, "label": label}).scalar()
                if target is None:
                    raise NotFound(f"prompt {name!r} has no label {label!r}", field="label")
            else:
                target = number if number is not None else prompt.latest_version
            row = conn.execute(_VERSION, {"prompt": prompt.id, "number": target}).first()
            if row is None:
                raise NotFound(f"prompt {name!r} has no version {target}", field="version")
            labels = conn.execute(
                _VERSION_LABELS, {"prompt": prompt.id, "number": row.number}
            ).scalars()
            return convert.prompt_version(row, project, name, list(labels))

    def list_prompt_versions(
        self, project: str, name: str, *, limit: int, offset: int = 0
    ) -> list[models.PromptVersion]:
        """Versions of a prompt, newest first."""
        with self.tx.read() as s:
            prompt = self._prompt_columns(s, self._project_id(s, project), name, PromptRow.id)
            rows = s.execute(
                select(*PromptVersionRow.__table__.c)
                .where(PromptVersionRow.prompt_id == prompt.id)
                .order_by(PromptVersionRow.number.desc())
                .limit(limit)
                .offset(offset)
            ).all()
            by_version: dict[int, list[str]] = defaultdict(list)
            for lname, version in self._labels_by_prompt(s, [prompt.id])[prompt.id].items():
                by_version[version].append(lname)
            return [
                convert.prompt_version(r, project, name, by_version.get(r.number, [])) for r in rows
            ]
