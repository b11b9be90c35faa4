"""SQLStore: every query of the domain, in short transactions.

The services validate input and check permissions; the store keeps the
invariants that need the database: contiguous version numbers under
concurrency (the parent row is locked with ``FOR UPDATE`` on PostgreSQL;
SQLite writes start with ``BEGIN IMMEDIATE``), idempotent saves (same content
hash as the latest version returns it), and a history row for every label move.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import models
from ..exceptions import Conflict, InvalidInput, NotFound
from . import convert
from .aggregates import AggregateQueries
from .datasets_store import DatasetQueries
from .engine import Transactions, ensure_schema, make_engine, upgrade
from .experiment_runs_store import ExperimentRunQueries
from .experiments_store import ExperimentQueries
from .feedback_store import FeedbackQueries
from .job_dispatch_store import JobDispatchQueries
from .job_leases_store import JobLeaseQueries
from .jobs_store import JobQueries
from .metrics_store import MetricQueries
from .orm.base import utcnow
from .orm.catalog import (
    LabelEventRow,
    LabelRow,
    MembershipRow,
    ProjectRow,
    PromptRow,
    PromptVersionRow,
)
from .results_store import ResultQueries
from .schedules_store import ScheduleQueries
from .summaries_store import SummaryQueries

# Statements of the hottest reads, built once (bound parameters): building a select() costs
# more than running it on SQLite. Executed on the session's connection (Core, no ORM layer).
_ROLE_OF = (
    select(ProjectRow.id, MembershipRow.role)
    .outerjoin(
        MembershipRow,
        (MembershipRow.project_id == ProjectRow.id)
        & (MembershipRow.user_name == bindparam("user")),
    )
    .where(ProjectRow.slug == bindparam("slug"))
)
_PROMPT = select(*PromptRow.__table__.c).where(
    PromptRow.project_id == bindparam("pid"), PromptRow.name == bindparam("name")
)
_LABELS_OF = select(LabelRow.prompt_id, LabelRow.name, LabelRow.version).where(
    LabelRow.prompt_id.in_(bindparam("ids", expanding=True))
)

_PROJECT_ID = select(ProjectRow.id).where(ProjectRow.slug == bindparam("slug"))
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


class SQLStore(
    DatasetQueries,
    ExperimentQueries,
    ExperimentRunQueries,  # after ExperimentQueries, whose _experiment_row it uses
    ResultQueries,
    AggregateQueries,
    FeedbackQueries,
    JobQueries,
    JobLeaseQueries,
    JobDispatchQueries,
    ScheduleQueries,
    MetricQueries,
    SummaryQueries,
):
    """The store over SQLAlchemy (SQLite or PostgreSQL)."""

    def __init__(self, url: str, *, auto_migrate: bool = True, check_schema: bool = True) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self.tx = Transactions(self.engine)
        if check_schema:
            ensure_schema(self.engine, auto_migrate=auto_migrate)

    @property
    def dialect(self) -> str:
        return self.tx.dialect

    def upgrade(self, revision: str = "head") -> None:
        """Apply Alembic migrations up to ``revision``."""
        upgrade(self.engine, revision)

    def close(self) -> None:
        self.engine.dispose()

    # -- helpers ---------------------------------------------------------------------------
    def reading(self) -> AbstractContextManager[None]:
        """Share one connection and read transaction among the store reads of this block.

        For a service's read operations: the role check and the fetch cost one pool checkout
        and one transaction. Reads only (a write inside raises ``RuntimeError``).
        """
        return self.tx.pinned()

    @staticmethod
    def _project(s: Session, slug: str) -> ProjectRow:
        cache = s.info.setdefault("llmlab_projects", {})
        row = cache.get(slug)
        if row is None:
            row = s.scalars(select(ProjectRow).where(ProjectRow.slug == slug)).first()
            if row is None:
                raise NotFound(f"project {slug!r} not found", field="project")
            cache[slug] = row
        return row

    @staticmethod
    def _project_id(s: Session, slug: str) -> int:
        """The id of project ``slug`` (remembered for the rest of the session)."""
        ids = s.info.setdefault("llmlab_project_ids", {})
        if slug not in ids:
            found = s.connection().execute(_PROJECT_ID, {"slug": slug}).scalar()
            if found is None:
                raise NotFound(f"project {slug!r} not found", field="project")
            ids[slug] = found
        return int(ids[slug])

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

    # -- projects and memberships ----------------------------------------------------------
    def create_project(self, slug: str, title: str, user: str) -> models.Project:
        """Create a project owned by ``user``; ``Conflict`` if the slug is taken."""
        try:
            with self.tx.write() as s:
                row = ProjectRow(slug=slug, title=title, created_by=user)
                s.add(row)
                s.flush()
                s.add(
                    MembershipRow(project_id=row.id, user_name=user, role="owner", created_by=user)
                )
                return convert.project(row, "owner")
        except IntegrityError as err:
            raise Conflict(f"project {slug!r} already exists", field="slug") from err

    def ensure_project(self, slug: str, title: str, user: str) -> models.Project:
        """Return the project, creating it (owned by ``user``) if it does not exist."""
        with self.tx.read() as s:
            row = s.scalars(select(ProjectRow).where(ProjectRow.slug == slug)).first()
            if row is not None:
                return convert.project(row, self._role(s, row.id, user))
        try:
            return self.create_project(slug, title, user)
        except Conflict:
            with self.tx.read() as s:
                row = self._project(s, slug)
                return convert.project(row, self._role(s, row.id, user))

    @staticmethod
    def _role(s: Session, project_id: int, user: str) -> str | None:
        return s.scalars(
            select(MembershipRow.role).where(
                MembershipRow.project_id == project_id, MembershipRow.user_name == user
            )
        ).first()

    def role_of(self, project: str, user: str) -> str | None:
        """The role of ``user`` in ``project`` or ``None``; ``NotFound`` if no such project.

        One query; inside :meth:`reading` the answer is kept for the rest of the block.
        """
        with self.tx.read() as s:
            roles = s.info.setdefault("llmlab_roles", {})
            if (project, user) in roles:
                return roles[(project, user)]  # type: ignore[no-any-return]
            found = s.connection().execute(_ROLE_OF, {"user": user, "slug": project}).first()
            if found is None:
                raise NotFound(f"project {project!r} not found", field="project")
            s.info.setdefault("llmlab_project_ids", {})[project] = found[0]
            roles[(project, user)] = found[1]
            return found[1]

    def get_project(self, slug: str, user: str | None = None) -> models.Project:
        with self.tx.read() as s:
            row = self._project(s, slug)
            return convert.project(row, self._role(s, row.id, user) if user else None)

    def list_projects(self, user: str, *, limit: int, offset: int = 0) -> list[models.Project]:
        """Projects ``user`` is a member of, by slug."""
        with self.tx.read() as s:
            rows = s.execute(
                select(ProjectRow, MembershipRow.role)
                .join(MembershipRow, MembershipRow.project_id == ProjectRow.id)
                .where(MembershipRow.user_name == user)
                .order_by(ProjectRow.slug)
                .limit(limit)
                .offset(offset)
            ).all()
            return [convert.project(p, role) for p, role in rows]

    def set_member(self, project: str, user: str, role: str, by: str) -> models.Membership:
        """Add ``user`` to ``project`` or change their role."""
        with self.tx.write() as s:
            proj = self._project(s, project)
            row = s.scalars(
                select(MembershipRow).where(
                    MembershipRow.project_id == proj.id, MembershipRow.user_name == user
                )
            ).first()
            if row is None:
                row = MembershipRow(project_id=proj.id, user_name=user, role=role, created_by=by)
                s.add(row)
            else:
                row.role = role
            s.flush()
            self._keep_an_owner(s, proj.id)
            return convert.membership(row, project)

    def remove_member(self, project: str, user: str) -> None:
        with self.tx.write() as s:
            proj = self._project(s, project)
            row = s.scalars(
                select(MembershipRow).where(
                    MembershipRow.project_id == proj.id, MembershipRow.user_name == user
                )
            ).first()
            if row is None:
                raise NotFound(f"{user!r} is not a member of {project!r}", field="user")
            s.delete(row)
            s.flush()
            self._keep_an_owner(s, proj.id)

    @staticmethod
    def _keep_an_owner(s: Session, project_id: int) -> None:
        owners = s.scalar(
            select(func.count()).where(
                MembershipRow.project_id == project_id, MembershipRow.role == "owner"
            )
        )
        if not owners:
            raise Conflict("a project must keep at least one owner", field="role")

    def list_members(self, project: str) -> list[models.Membership]:
        with self.tx.read() as s:
            proj = self._project(s, project)
            rows = s.scalars(
                select(MembershipRow)
                .where(MembershipRow.project_id == proj.id)
                .order_by(MembershipRow.user_name)
            ).all()
            return [convert.membership(r, project) for r in rows]

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

    def check_page(self, limit: int, offset: int, cap: int) -> None:
        if limit < 1 or limit > cap:
            raise InvalidInput(f"limit must be between 1 and {cap}", field="limit")
        if offset < 0:
            raise InvalidInput("offset must not be negative", field="offset")
