"""Who calls the llmlab service: the JupyterHub user a request's token names.

``llmlab serve`` replaces jupyter-server's identity provider with
:class:`HubServiceIdentityProvider`. Every request carries ``Authorization: token <t>``:

* a JupyterHub token (a user's server token, the OAuth token of their browser session that
  their server forwards, or any API token they made), checked with the Hub by
  :class:`jupyterhub.services.auth.HubAuth` and accepted only with the access scope of this
  service (``access:services!service=llmlab``); the Hub's answer (name, groups, admin) is
  kept for ``token_cache_s`` seconds, so a revoked token is refused within that time;
* a job token (:mod:`llmlab_jupyter.job_tokens`) that a worker minted for one attempt of a
  batch job, accepted while that attempt runs, for the job's owner (groups from the Hub).

The caller is never read from the environment or from a header other than the token.
:class:`ServiceAuthorizer` then lets a caller reach the llmlab API and nothing else the
underlying jupyter-server could serve (kernels, contents, terminals: 403).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.identity import IdentityProvider, User
from jupyterhub.services.auth import HubAuth
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from traitlets import Instance, Int, Unicode, default

from .. import job_tokens
from ..server.handlers.base import AUTH_RESOURCE

#: ``handler.settings`` key of the app's job-token check: ``async (token) -> dict | None``
JOB_TOKEN_CHECK = "llmlab_job_token_check"  # noqa: S105 - a settings key
JobTokenCheck = Callable[[str], Awaitable["dict[str, Any] | None"]]


class HubUser(User):
    """A jupyter-server user carrying the Hub's user model (``name``, ``groups``, ``admin``)."""

    hub_user: dict[str, Any]

    def __init__(self, hub_user: dict[str, Any]) -> None:
        self.hub_user = hub_user
        info = hub_user.get("user_info") or {}
        super().__init__(
            username=str(hub_user["name"]),
            name=str(info.get("name") or hub_user["name"]),
            display_name=str(info.get("display_name") or hub_user["name"]),
        )


class HubServiceIdentityProvider(IdentityProvider):
    """Identifies the callers of ``llmlab serve`` by their JupyterHub (or job) token."""

    hub_auth = Instance(HubAuth)
    token_cache_s = Int(
        60,
        min=0,
        config=True,
        help="Seconds a token the Hub confirmed is trusted before it is checked again: "
        "a revoked token is refused at most this long after. Env: LLMLAB_TOKEN_CACHE_S.",
    )
    service_name = Unicode(
        config=True, help="This service's name in the Hub (env JUPYTERHUB_SERVICE_NAME)."
    )
    need_token = False
    token_generated = False

    @default("service_name")
    def _default_service_name(self) -> str:
        import os

        return os.environ.get("JUPYTERHUB_SERVICE_NAME") or "llmlab"

    @default("hub_auth")
    def _default_hub_auth(self) -> HubAuth:
        auth = HubAuth(parent=self, cache_max_age=self.token_cache_s)
        if not auth.access_scopes:  # an externally run service without the Hub's env
            auth.access_scopes = {f"access:services!service={self.service_name}"}
        return auth

    @property
    def login_available(self) -> bool:
        return False  # callers bring tokens; there is no login page

    @property
    def logout_available(self) -> bool:
        return False

    async def get_user(self, handler: web.RequestHandler) -> User | None:  # type: ignore[override]
        if hasattr(handler, "_llmlab_user"):
            return handler._llmlab_user  # type: ignore[no-any-return]
        handler._llmlab_user = None  # type: ignore[attr-defined]
        token = self.hub_auth.get_token(handler, in_cookie=False) or ""
        model: dict[str, Any] | None = None
        if token.startswith(job_tokens.PREFIX):
            check: JobTokenCheck | None = handler.settings.get(JOB_TOKEN_CHECK)
            model = await check(token) if check is not None else None
            if model is not None:  # the owner's groups and admin flag, as the Hub says now
                model["groups"], model["admin"] = await self._hub_roles(model["name"])
        elif token:
            model = await self.hub_auth.user_for_token(token, sync=False)
            if model and not self.hub_auth.check_scopes(self.hub_auth.access_scopes, model):
                self.log.warning(
                    "llmlab: %s %s has no access to this service",
                    model.get("kind", "user"),
                    model.get("name"),
                )
                model = None
        if not model or model.get("kind", "user") not in ("user", "job"):
            return None  # services and unknown tokens act for nobody
        handler._token_authenticated = True  # type: ignore[attr-defined]
        user = HubUser(model)
        handler._llmlab_user = user  # type: ignore[attr-defined]
        return user

    # -- a job owner's groups and admin flag ----------------------------------------------
    _roles: dict[str, tuple[float, list[str], bool]]

    async def _hub_roles(self, name: str) -> tuple[list[str], bool]:
        """The Hub groups of ``name`` and whether they are an admin (asked with this
        service's token, cached like tokens; unknown: no groups, not an admin)."""
        cache = self.__dict__.setdefault("_roles", {})
        hit = cache.get(name)
        if hit is not None and time.monotonic() - hit[0] < self.token_cache_s:
            return hit[1], hit[2]
        url = f"{self.hub_auth.api_url.rstrip('/')}/users/{name}"
        request = HTTPRequest(
            url, headers={"Authorization": f"token {self.hub_auth.api_token}"}, request_timeout=10
        )
        try:
            reply = await AsyncHTTPClient().fetch(request)
            model = json.loads(reply.body)
            groups = [str(g) for g in model.get("groups") or []]
            admin = model.get("admin") is True
        except (HTTPClientError, OSError, ValueError) as err:
            self.log.warning("llmlab: the Hub did not give the groups of %s: %s", name, err)
            groups, admin = [], False
        cache[name] = (time.monotonic(), groups, admin)
        return groups, admin


class ServiceAuthorizer(Authorizer):
    """Only the llmlab API: projects and roles are checked by the services themselves."""

    def is_authorized(
        self, handler: web.RequestHandler, user: Any, action: str, resource: str
    ) -> bool:
        return resource == AUTH_RESOURCE
