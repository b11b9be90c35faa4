"""Who is calling and what they may do in a project."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ..exceptions import InvalidInput, NotFound, PermissionDenied

if TYPE_CHECKING:
    from ..store.sql_store import SQLStore

Action = Literal["read", "write", "admin"]
ROLES = ("owner", "editor", "viewer")
_ALLOWED: dict[str, set[str]] = {
    "owner": {"read", "write", "admin"},
    "editor": {"read", "write"},
    "viewer": {"read"},
}


@dataclass(frozen=True)
class Caller:
    """The identified user a service call is made for (from the request, never from env)."""

    user: str

    def __post_init__(self) -> None:
        if not isinstance(self.user, str) or not self.user.strip() or len(self.user) > 200:
            raise InvalidInput("user must be a non-empty name", field="user")


class Access:
    """Checks a caller's role in a project. Non-members see nothing (404)."""

    def __init__(self, store: SQLStore) -> None:
        self.store = store

    def require(self, caller: Caller, project: str, action: Action) -> str:
        """Return the caller's role, or raise ``NotFound`` / ``PermissionDenied``."""
        role = self.store.role_of(project, caller.user)
        if role is None:
            raise NotFound(f"project {project!r} not found", field="project")
        if action not in _ALLOWED[role]:
            raise PermissionDenied(
                f"{caller.user!r} is a {role} of {project!r} and may not {action} it"
            )
        return role
