"""A test identity provider: the token ``<name>-token`` authenticates user ``<name>``.

Importable by a server started in a subprocess (its folder is put on ``PYTHONPATH``).
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.identity import IdentityProvider, User

USERS = ("alice", "bob", "carol", "dave")


class UsersByToken(IdentityProvider):
    """``<name>-token`` -> user ``<name>``; the server's own token still works (anonymous)."""

    async def get_user_token(self, handler: Any) -> User | None:
        token = self.get_token(handler)
        if token and token.endswith("-token") and token[: -len("-token")] in USERS:
            return User(username=token[: -len("-token")])
        return await super().get_user_token(handler)
