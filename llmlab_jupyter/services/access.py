"""Who is calling and what they may do in a project.

A caller's role in a project is the highest of the role granted to them by name and the roles
granted to their Hub groups; a Hub admin acts as the owner of every project. :func:`role_in`
is that one rule: :class:`Access` applies it to what the store reads, and the server's
in-memory copies (``server/prompt_cache.py``, ``server/summary_cache.py``) apply it to the
members they hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ..exceptions import InvalidInput, NotFound, PermissionDenied
from ..models import ROLES

if TYPE_CHECKING:
    from ..store.sql_store import SQLStore

Action = Literal["read", "write", "admin"]
MEMBER_KINDS = ("user", "group")
_RANK: dict[str, int] = {role: rank for rank, role in enumerate(ROLES)}
_ALLOWED: dict[str, set[str]] = {
    "owner": {"read", "write", "admin"},
    "editor": {"read", "write"},
    "viewer": {"read"},
}
MAX_NAME = 200


def valid_name(value: object, field_name: str) -> str:
    """``value`` if it names a user or a group (non-empty, at most 200 characters, no control
    characters); else ``InvalidInput`` naming ``field_name``."""
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > MAX_NAME
        or any(ord(c) < 32 or ord(c) == 127 for c in value)
    ):
        raise InvalidInput(
            f"{field_name} must be a non-empty name of at most {MAX_NAME} characters",
            field=field_name,
        )
    return value


def highest(roles: Iterable[str | None]) -> str | None:
    """The highest of ``roles`` (``None`` entries ignored), or ``None`` if there is none."""
    found = [r for r in roles if r is not None]
    return min(found, key=_RANK.__getitem__) if found else None


@dataclass(frozen=True)
class Caller:
    """The identified user a service call is made for (from the request, never from env).

    ``groups`` are the user's JupyterHub groups and ``admin`` whether the Hub calls them an
    admin, both as the Hub's user model says (see :meth:`from_hub_user`).
    """

    user: str
    groups: frozenset[str] = frozenset()
    admin: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.user, str) or not self.user.strip() or len(self.user) > MAX_NAME:
            raise InvalidInput("user must be a non-empty name", field="user")
        if isinstance(self.groups, str) or not isinstance(self.groups, Iterable):
            raise InvalidInput("groups must be a set of group names", field="groups")
        groups = frozenset(self.groups)
        for group in groups:
            valid_name(group, "groups")
        object.__setattr__(self, "groups", groups)
        if not isinstance(self.admin, bool):
            raise InvalidInput("admin must be true or false", field="admin")

    @classmethod
    def from_hub_user(cls, name: str, hub_user: Any) -> Caller:
        """The caller named ``name`` with the groups and admin flag of a JupyterHub user model
        (``{"name", "groups", "admin", ...}``). Anything that is not such a dict gives a caller
        with no groups; a group name that could never be granted is left out."""
        if not isinstance(hub_user, Mapping):
            return cls(name)
        listed = hub_user.get("groups")
        groups = frozenset(
            g
            for g in (listed if isinstance(listed, (list, tuple, set, frozenset)) else ())
            if isinstance(g, str) and _is_name(g)
        )
        return cls(name, groups, hub_user.get("admin") is True)

    def role_in(self, user_roles: Mapping[str, str], group_roles: Mapping[str, str]) -> str | None:
        """This caller's role in a project that grants ``user_roles`` (user name -> role) and
        ``group_roles`` (group name -> role): :func:`role_in`."""
        return role_in(self, user_roles.get(self.user), group_roles)


def role_in(caller: Caller, own: str | None, group_roles: Mapping[str, str]) -> str | None:
    """The one rule: owner for a Hub admin, else the highest of ``own`` (the role granted to
    the caller by name) and the roles ``group_roles`` grants to the caller's groups."""
    if caller.admin:
        return "owner"
    return highest([own, *(group_roles.get(g) for g in caller.groups)])


def _is_name(value: str) -> bool:
    try:
        valid_name(value, "groups")
    except InvalidInput:
        return False
    return True


class Access:
    """Checks a caller's role in a project. Non-members see nothing (404)."""

    def __init__(self, store: SQLStore) -> None:
        self.store = store

    def require(self, caller: Caller, project: str, action: Action) -> str:
        """Return the caller's role, or raise ``NotFound`` / ``PermissionDenied``."""
        own, groups = self.store.grants_to(project, caller.user, caller.groups)
        role = role_in(caller, own, groups)
        if role is None:
            raise NotFound(f"project {project!r} not found", field="project")
        if action not in _ALLOWED[role]:
            raise PermissionDenied(
                f"{caller.user!r} is a {role} of {project!r} and may not {action} it"
            )
        return role
