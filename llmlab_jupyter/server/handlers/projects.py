"""``/projects``: projects the caller belongs to, and their members."""

from __future__ import annotations

from typing import Any

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
    @operation("read", "Members of a project", response=s.ListMembersResponse)
    def get(self, project: str) -> s.ListMembersResponse:
        return s.ListMembersResponse(items=self.services.projects.members(self.caller, project))


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
