"""A test identity provider: the token ``<name>-token`` authenticates user ``<name>``.

Like JupyterHub's single-user server (``JupyterHubUser``) and the ``llmlab serve`` service,
each user carries a Hub user model as ``hub_user`` (``{"name", "groups", "admin", "kind"}``):
the groups in :data:`HUB_GROUPS` and the admin flag from :data:`HUB_ADMINS`, read on every
request, so a test changes what "the Hub" says about a user by changing them.

Importable by a server started in a subprocess (its folder is put on ``PYTHONPATH``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jupyter_server.auth.identity import IdentityProvider, User

USERS = ("alice", "bob", "carol", "dave", "erin")
#: user -> the Hub groups they are in (what the Hub says now)
HUB_GROUPS: dict[str, list[str]] = {}
#: users the Hub calls admins
HUB_ADMINS: set[str] = set()


@dataclass
class HubUser(User):
    """A ``jupyter_server`` user with the Hub's model of it, as on JupyterHub."""

    hub_user: dict[str, Any] = field(default_factory=dict)


class UsersByToken(IdentityProvider):
    """``<name>-token`` -> user ``<name>``; the server's own token still works (anonymous)."""

    async def get_user_token(self, handler: Any) -> User | None:
        token = self.get_token(handler)
        if token and token.endswith("-token") and token[: -len("-token")] in USERS:
            name = token[: -len("-token")]
            model = {
                "kind": "user",
                "name": name,
                "groups": list(HUB_GROUPS.get(name, [])),
                "admin": name in HUB_ADMINS,
            }
            return HubUser(username=name, hub_user=model)
        return await super().get_user_token(handler)
