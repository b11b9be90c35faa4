"""``/projects``: projects the caller belongs to, and their members (users and Hub groups)."""

from __future__ import annotations

from typing import Any

from ...exceptions import InvalidInput
from ...models import Membership, Project
from ..schemas import common as s
from .base import LlmLabHandler, Reply, operation


class ProjectsHandler(LlmLabHandler):
    @operation(
        "read", "List the caller's projects", response=s.ListProjectsResponse, query=s.PageQuery
    )
    def get(self, *, query: Any) -> s.ListProjectsResponse:
        items = self.services.projects.list(self.caller, limit=query.limit, offset=query.offset)
        return s.ListProjectsResponse(
            items=items, next_offset=s.next_offset(query.offset, query.limit, len(items))
        )

    @operation(
        "write",
        "Create a project owned by the caller",
        response=Project,
        status=201,
        body=s.CreateProject,
        errors=(400, 403, 409),
    )
    def post(self, *, body: Any) -> Project:
        return self.services.projects.create(self.caller, body.slug, body.title)


class ProjectHandler(LlmLabHandler):
    @operation("read", "A project, with the caller's role", response=Project)
    def get(self, project: str) -> Project:
        return self.services.projects.get(self.caller, project)


class MembersHandler(LlmLabHandler):
    @operation(
        "read",
        "Members of a project: users, then Hub groups (each item's kind says which)",
        response=s.ListMembersResponse,
    )
    def get(self, project: str) -> s.ListMembersResponse:
        return s.ListMembersResponse(items=self.services.projects.members(self.caller, project))

    @operation(
        "write",
        "Grant a role to a user or to a Hub group, or change it (owners only). The body names "
        'exactly one of user and group: {"group": "ml-team", "role": "editor"}',
        response=Membership,
        body=s.GrantMember,
        errors=(400, 403, 404, 409),
    )
    def post(self, project: str, *, body: Any) -> Membership:
        projects = self.services.projects
        if body.user is not None and body.group is not None:
            raise InvalidInput("give either user or group, not both", field="group")
        if body.group is not None:
            return projects.set_group(self.caller, project, body.group, body.role)
        if body.user is None:
            raise InvalidInput("user or group is required", field="user")
        return projects.set_member(self.caller, project, body.user, body.role)


class MemberHandler(LlmLabHandler):
    @operation(
        "write",
        "Add a member or change their role (owners only)",
        response=Membership,
        body=s.SetMember,
        errors=(400, 403, 404, 409),
    )
    def put(self, project: str, user: str, *, body: Any) -> Membership:
        return self.services.projects.set_member(self.caller, project, user, body.role)

    @operation("write", "Remove a member (owners only)", status=204, errors=(400, 403, 404, 409))
    def delete(self, project: str, user: str) -> Reply:
        self.services.projects.remove_member(self.caller, project, user)
        return Reply(None, 204)


class GroupMemberHandler(LlmLabHandler):
    """One Hub group's grant in a project (the group counterpart of ``members/{user}``)."""

    @operation(
        "write",
        "Grant a role to every member of a Hub group, or change it (owners only)",
        response=Membership,
        body=s.SetMember,
        errors=(400, 403, 404, 409),
    )
    def put(self, project: str, group: str, *, body: Any) -> Membership:
        return self.services.projects.set_group(self.caller, project, group, body.role)

    @operation(
        "write",
        "Revoke a Hub group's role (owners only); its members lose it at once",
        status=204,
        errors=(400, 403, 404, 409),
    )
    def delete(self, project: str, group: str) -> Reply:
        self.services.projects.remove_group(self.caller, project, group)
        return Reply(None, 204)
