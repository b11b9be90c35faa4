"""Project and membership queries of :class:`~llmlab_jupyter.store.sql_store.SQLStore`.

A membership grants a role to a user (``kind="user"``) or to a JupyterHub group
(``kind="group"``). The store reads and writes the grants; which role a caller ends up with
(the highest of their own and their groups', owner for a Hub admin) is the services' rule
(``services/access.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, bindparam, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ... import models
from ...exceptions import Conflict, NotFound
from .. import convert
from ..orm.catalog import MembershipRow, ProjectRow
from ..queries import Queries

_IS_USER = and_(MembershipRow.kind == "user", MembershipRow.name == bindparam("user"))
_IS_GROUP = and_(
    MembershipRow.kind == "group", MembershipRow.name.in_(bindparam("groups", expanding=True))
)

# Statements of the hottest reads, built once (bound parameters): building a select() costs
# more than running it on SQLite. Executed on the session's connection (Core, no ORM layer).
# A caller without groups (the single-user server) keeps the one-row lookup of before.
_GRANTS_TO_USER = (
    select(ProjectRow.id, MembershipRow.kind, MembershipRow.name, MembershipRow.role)
    .outerjoin(MembershipRow, (MembershipRow.project_id == ProjectRow.id) & _IS_USER)
    .where(ProjectRow.slug == bindparam("slug"))
)
_GRANTS_TO = (
    select(ProjectRow.id, MembershipRow.kind, MembershipRow.name, MembershipRow.role)
    .outerjoin(
        MembershipRow, (MembershipRow.project_id == ProjectRow.id) & or_(_IS_USER, _IS_GROUP)
    )
    .where(ProjectRow.slug == bindparam("slug"))
)
#: a role's rank (0 = owner), to take the highest of several grants in SQL
_RANK = case({role: rank for rank, role in enumerate(models.ROLES)}, value=MembershipRow.role)

Grants = tuple[str | None, dict[str, str]]


class ProjectQueries(Queries):
    """Mixin: projects, their members (users and groups) and roles."""

    def create_project(self, slug: str, title: str, user: str) -> models.Project:
        """Create a project owned by ``user``; ``Conflict`` if the slug is taken."""
        try:
            with self.tx.write() as s:
                row = ProjectRow(slug=slug, title=title, created_by=user)
                s.add(row)
                s.flush()
                s.add(
                    MembershipRow(
                        project_id=row.id, kind="user", name=user, role="owner", created_by=user
                    )
                )
                return convert.project(row, "owner")
        except IntegrityError as err:
            raise Conflict(f"project {slug!r} already exists", field="slug") from err

    def ensure_project(self, slug: str, title: str, user: str) -> models.Project:
        """Return the project, creating it (owned by ``user``) if it does not exist. Its
        ``role`` is the one granted to ``user`` by name (``None`` if none)."""
        with self.tx.read() as s:
            row = s.scalars(select(ProjectRow).where(ProjectRow.slug == slug)).first()
            if row is not None:
                return convert.project(row, self._user_role(s, row.id, user))
        try:
            return self.create_project(slug, title, user)
        except Conflict:
            with self.tx.read() as s:
                row = self._project(s, slug)
                return convert.project(row, self._user_role(s, row.id, user))

    @staticmethod
    def _user_role(s: Session, project_id: int, user: str) -> str | None:
        return s.scalars(
            select(MembershipRow.role).where(
                MembershipRow.project_id == project_id,
                MembershipRow.kind == "user",
                MembershipRow.name == user,
            )
        ).first()

    def grants_to(self, project: str, user: str, groups: Iterable[str] = ()) -> Grants:
        """``(role granted to user, {group: role} granted to those of groups that have one)``
        in ``project``; ``NotFound`` if no such project.

        One query; inside :meth:`reading` the answer is kept for the rest of the block.
        """
        wanted = frozenset(groups)
        with self.tx.read() as s:
            known = s.info.setdefault("llmlab_grants", {})
            if (project, user, wanted) in known:
                return known[(project, user, wanted)]  # type: ignore[no-any-return]
            conn = s.connection()
            if wanted:
                params = {"user": user, "groups": sorted(wanted), "slug": project}
                rows = conn.execute(_GRANTS_TO, params).all()
            else:
                rows = conn.execute(_GRANTS_TO_USER, {"user": user, "slug": project}).all()
            if not rows:
                raise NotFound(f"project {project!r} not found", field="project")
            s.info.setdefault("llmlab_project_ids", {})[project] = rows[0][0]
            own: str | None = None
            by_group: dict[str, str] = {}
            for _pid, kind, name, role in rows:
                if kind == "user":
                    own = role
                elif kind == "group":
                    by_group[name] = role
            known[(project, user, wanted)] = (own, by_group)
            return own, by_group

    def get_project(self, slug: str) -> models.Project:
        """The project ``slug`` (without a caller's role); ``NotFound`` if there is none."""
        with self.tx.read() as s:
            return convert.project(self._project(s, slug))

    def list_projects(
        self,
        user: str,
        groups: Iterable[str] = (),
        *,
        every: bool = False,
        limit: int,
        offset: int = 0,
    ) -> list[models.Project]:
        """The projects granting a role to ``user`` or one of ``groups``, by slug, each with
        the highest such role; with ``every``, all projects, each with the role ``owner``
        (what a Hub admin sees)."""
        with self.tx.read() as s:
            if every:
                rows = s.scalars(
                    select(ProjectRow).order_by(ProjectRow.slug).limit(limit).offset(offset)
                ).all()
                return [convert.project(p, "owner") for p in rows]
            wanted = sorted(frozenset(groups))
            match = _IS_USER if not wanted else or_(_IS_USER, _IS_GROUP)
            ranked = s.execute(
                select(ProjectRow, func.min(_RANK))
                .join(MembershipRow, MembershipRow.project_id == ProjectRow.id)
                .where(match)
                .group_by(ProjectRow.id)
                .order_by(ProjectRow.slug)
                .limit(limit)
                .offset(offset),
                {"user": user, "groups": wanted},
            ).all()
            return [convert.project(p, models.ROLES[rank]) for p, rank in ranked]

    def set_member(
        self, project: str, name: str, role: str, by: str, *, kind: str = "user"
    ) -> models.Membership:
        """Grant ``role`` in ``project`` to the user (or, with ``kind="group"``, the Hub
        group) ``name``, or change the role it has."""
        with self.tx.write() as s:
            proj = self._project(s, project)
            row = self._member(s, proj.id, kind, name)
            if row is None:
                row = MembershipRow(
                    project_id=proj.id, kind=kind, name=name, role=role, created_by=by
                )
                s.add(row)
            else:
                row.role = role
            s.flush()
            self._keep_an_owner(s, proj.id)
            return convert.membership(row, project)

    def remove_member(self, project: str, name: str, *, kind: str = "user") -> None:
        """Revoke the grant to the user (or group) ``name``; ``NotFound`` if there is none."""
        with self.tx.write() as s:
            proj = self._project(s, project)
            row = self._member(s, proj.id, kind, name)
            if row is None:
                what = "member" if kind == "user" else "member group"
                raise NotFound(f"{name!r} is not a {what} of {project!r}", field=kind)
            s.delete(row)
            s.flush()
            self._keep_an_owner(s, proj.id)

    @staticmethod
    def _member(s: Session, project_id: int, kind: str, name: str) -> MembershipRow | None:
        return s.scalars(
            select(MembershipRow).where(
                MembershipRow.project_id == project_id,
                MembershipRow.kind == kind,
                MembershipRow.name == name,
            )
        ).first()

    @staticmethod
    def _keep_an_owner(s: Session, project_id: int) -> None:
        """A project keeps at least one owner named as a user: a group can be emptied on the
        Hub without the project hearing of it."""
        owners = s.scalar(
            select(func.count()).where(
                MembershipRow.project_id == project_id,
                MembershipRow.kind == "user",
                MembershipRow.role == "owner",
            )
        )
        if not owners:
            raise Conflict("a project must keep at least one owner", field="role")

    def list_members(self, project: str) -> list[models.Membership]:
        """The grants of ``project``: users by name, then groups by name."""
        with self.tx.read() as s:
            proj = self._project(s, project)
            rows = s.scalars(
                select(MembershipRow)
                .where(MembershipRow.project_id == proj.id)
                .order_by(MembershipRow.kind.desc(), MembershipRow.name)
            ).all()
            return [convert.membership(r, project) for r in rows]
