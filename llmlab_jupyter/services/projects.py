"""Projects and memberships: roles granted to users and to JupyterHub groups."""

from __future__ import annotations

import builtins

from ..exceptions import InvalidInput
from ..models import Membership, Project
from ..prompts import validate_slug
from .access import ROLES, Access, Caller, valid_name
from .base import Service


class ProjectService(Service):
    """Create projects, list the caller's projects, manage members (owners only).

    A member is a user or a Hub group; a Hub admin (``Caller.admin``) acts as the owner of
    every project.
    """

    def create(self, caller: Caller, slug: str, title: str = "") -> Project:
        validate_slug(slug, "slug")
        return self.store.create_project(slug, _title(title), caller.user)

    def ensure(self, caller: Caller, slug: str, title: str = "") -> Project:
        """The project, created with the caller as owner if it does not exist yet."""
        validate_slug(slug, "slug")
        project = self.store.ensure_project(slug, _title(title), caller.user)
        if project.role != "owner":  # a group's or a Hub admin's role counts too
            role = Access(self.store).require(caller, slug, "read")
            project = project.model_copy(update={"role": role})
        return project

    def get(self, caller: Caller, slug: str) -> Project:
        role = self.access.require(caller, slug, "read")
        return self.store.get_project(slug).model_copy(update={"role": role})

    def list(self, caller: Caller, *, limit: int = 100, offset: int = 0) -> builtins.list[Project]:
        """The projects the caller has a role in (their own or a group's); every project
        for a Hub admin."""
        self.page(limit, offset)
        return self.store.list_projects(
            caller.user, caller.groups, every=caller.admin, limit=limit, offset=offset
        )

    def members(self, caller: Caller, slug: str) -> builtins.list[Membership]:
        """The project's grants: users first, then groups (``Membership.kind``)."""
        self.access.require(caller, slug, "read")
        return self.store.list_members(slug)

    def set_member(self, caller: Caller, slug: str, user: str, role: str) -> Membership:
        """Grant ``role`` to ``user`` or change it (owners and Hub admins only)."""
        self.access.require(caller, slug, "admin")
        _role(role)
        Caller(user)  # validates the name
        return self.store.set_member(slug, user, role, caller.user)

    def remove_member(self, caller: Caller, slug: str, user: str) -> None:
        self.access.require(caller, slug, "admin")
        self.store.remove_member(slug, user)

    def set_group(self, caller: Caller, slug: str, group: str, role: str) -> Membership:
        """Grant ``role`` to every member of the Hub group ``group`` (owners and Hub admins
        only). A member of several groups, or named as a user too, has the highest role."""
        self.access.require(caller, slug, "admin")
        _role(role)
        valid_name(group, "group")
        return self.store.set_member(slug, group, role, caller.user, kind="group")

    def remove_group(self, caller: Caller, slug: str, group: str) -> None:
        """Revoke the grant to the Hub group ``group``: its members lose it at once."""
        self.access.require(caller, slug, "admin")
        valid_name(group, "group")
        self.store.remove_member(slug, group, kind="group")


def _role(role: object) -> None:
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")


def _title(title: str) -> str:
    if not isinstance(title, str) or len(title) > 300:
        raise InvalidInput("title must be a string of at most 300 characters", field="title")
    return title
