"""Project and membership queries of :class:`~llmlab_jupyter.store.sql_store.SQLStore`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ... import models
from ...exceptions import Conflict, NotFound
from .. import convert
from ..orm.catalog import MembershipRow, ProjectRow
from ..queries import Queries

if TYPE_CHECKING:
    pass

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


class ProjectQueries(Queries):
    """Mixin: projects, their members and roles."""

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
