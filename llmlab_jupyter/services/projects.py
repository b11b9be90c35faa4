"""Projects and memberships."""

from __future__ import annotations

import builtins

from ..exceptions import InvalidInput
from ..models import Membership, Project
from ..prompts import validate_slug
from .access import ROLES, Access, Caller
from .base import Service


class ProjectService(Service):
    """Create projects, list the caller's projects, manage members (owners only)."""

    def create(self, caller: Caller, slug: str, title: str = "") -> Project:
        validate_slug(slug, "slug")
        return self.store.create_project(slug, _title(title), caller.user)

    def ensure(self, caller: Caller, slug: str, title: str = "") -> Project:
        """The project, created with the caller as owner if it does not exist yet."""
        validate_slug(slug, "slug")
        project = self.store.ensure_project(slug, _title(title), caller.user)
        if project.role is None:
            Access(self.store).require(caller, slug, "read")
        return project

    def get(self, caller: Caller, slug: str) -> Project:
        role = self.access.require(caller, slug, "read")
        return self.store.get_project(slug).model_copy(update={"role": role})

    def list(self, caller: Caller, *, limit: int = 100, offset: int = 0) -> builtins.list[Project]:
        self.page(limit, offset)
        return self.store.list_projects(caller.user, limit=limit, offset=offset)

    def members(self, caller: Caller, slug: str) -> builtins.list[Membership]:
        self.access.require(caller, slug, "read")
        return self.store.list_members(slug)

    def set_member(self, caller: Caller, slug: str, user: str, role: str) -> Membership:
        self.access.require(caller, slug, "admin")
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
        Caller(user)  # validates the name
        return self.store.set_member(slug, user, role, caller.user)

    def remove_member(self, caller: Caller, slug: str, user: str) -> None:
        self.access.require(caller, slug, "admin")
        self.store.remove_member(slug, user)


def _title(title: str) -> str:
    if not isinstance(title, str) or len(title) > 300:
        raise InvalidInput("title must be a string of at most 300 characters", field="title")
    return title
