"""The remote mode of the per-user server extension: every llmlab API call goes to the service.

On a JupyterHub with ``llmlab serve``, a user's server holds no database URL and no key. It
authenticates and authorizes each ``<base_url>llmlab/api/...`` request as usual (Hub login
cookie with XSRF, or a token), then sends it to the service with the credential that
authenticated it: the requester's own Hub token (the OAuth token of their browser session,
or the token their request carried). So the service sees who is really asking, also when
bob uses alice's server through Hub sharing, and never this server's own identity. The
service's answer (status, JSON body, content type) comes back unchanged; a service that
cannot be reached gives 502 ``service_unavailable`` naming its URL, never a token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from jupyter_server.auth.decorator import authorized
from tornado import web

from ..exceptions import LlmLabError, PermissionDenied, ServiceUnavailable
from ..server.handlers.base import AUTH_RESOURCE, LlmLabHandler

#: ``settings`` key of the pooled session to the service
SESSION_KEY = "llmlab_forward_session"
#: response headers passed back from the service
_PASS_BACK = ("Content-Type", "Content-Disposition", "Cache-Control", "ETag", "Location")
#: request headers passed on to the service
_PASS_ON = ("Content-Type", "Accept", "Idempotency-Key", "If-None-Match")


def _forwarding(action: str) -> Callable[..., Awaitable[None]]:
    """A handler method that authenticates, authorizes ``llmlab:<action>`` and forwards."""

    @web.authenticated
    @authorized(action, resource=AUTH_RESOURCE)
    async def method(self: ForwardHandler, path: str) -> None:
        await self.forward(path)

    return method  # type: ignore[return-value]


class ForwardHandler(LlmLabHandler):
    """``/llmlab/api/(.*)`` on a per-user server in remote mode."""

    @property
    def service_url(self) -> str:
        return str(self.settings["llmlab_service_url"])

    def requester_token(self) -> str:
        """The Hub token of whoever made this request (never this server's own token)."""
        hub_auth = getattr(self.identity_provider, "hub_auth", None)
        if hub_auth is None:
            raise PermissionDenied(
                "remote mode needs a JupyterHub login: this server's identity provider "
                "is not JupyterHub's"
            )
        token = hub_auth.get_token(self) or ""
        if not token:
            raise PermissionDenied("no JupyterHub token came with this request")
        return str(token)

    def session(self) -> Any:
        """One pooled keep-alive session per server: no connection set-up or name lookup per
        call (a new connection per request costs more than the rest of the forward)."""
        session = self.settings.get(SESSION_KEY)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(
                limit=int(self.settings.get("llmlab_forward_max_connections", 64)),
                keepalive_timeout=60,
                ttl_dns_cache=300,
            )
            timeout = aiohttp.ClientTimeout(
                total=float(self.settings.get("llmlab_forward_timeout_s", 600)), connect=10
            )
            session = aiohttp.ClientSession(
                connector=connector,
                timeout=timeout,
                # loopback: the service answers uncompressed, so nothing is unzipped here
                # only for this server to zip it again for the browser
                skip_auto_headers=("User-Agent", "Accept-Encoding"),
            )
            self.settings[SESSION_KEY] = session
        return session

    async def forward(self, path: str) -> None:
        try:
            self.reject_nul((path,))
            token = self.requester_token()
        except LlmLabError as err:
            self.send_json_error(err.status_code, err.to_dict())
            return
        query = self.request.query
        url = f"{self.service_url}llmlab/api/{path}" + (f"?{query}" if query else "")
        headers = {k: v for k in _PASS_ON if (v := self.request.headers.get(k))}
        headers["Authorization"] = f"token {token}"
        method = self.request.method or "GET"
        body = self.request.body if method in ("POST", "PUT", "PATCH", "DELETE") else None
        limit = int(self.settings.get("llmlab_max_body") or 1 << 30)
        try:
            async with self.session().request(
                method, url, headers=headers, data=body, allow_redirects=False
            ) as reply:
                payload = await reply.content.read(limit + 1)
                status, reason, got = reply.status, reply.reason, reply.headers
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as err:
            self._unreachable(err)
            return
        if len(payload) > limit:
            self._unreachable(None, "its answer was larger than this server accepts")
            return
        self.set_status(status, reason)
        for name in _PASS_BACK:
            value = got.get(name)
            if value:
                self.set_header(name, value)
        self.finish(payload)

    def _log(self) -> None:
        """Forwarded successes at debug level: the service logs every call already (the
        single-user server's own request log costs more than the forward itself)."""
        if self.get_status() < 400:
            self.log.debug(
                "%d %s %.2fms", self.get_status(), self._request_summary(),
                1000.0 * self.request.request_time(),
            )  # fmt: skip
            return
        super()._log()

    def _unreachable(self, err: BaseException | None, reason: str = "") -> None:
        reason = reason or (type(err).__name__ if err is not None else "no answer")
        if isinstance(err, asyncio.TimeoutError):
            reason = "timed out"
        elif isinstance(err, OSError) and err.strerror:
            reason = err.strerror.lower()
        self.log.warning("llmlab: the service at %s is unreachable: %s", self.service_url, reason)
        failure = ServiceUnavailable(
            f"the llmlab service at {self.service_url} is unreachable ({reason})"
        )
        self.send_json_error(failure.status_code, failure.to_dict())

    # every method: authenticated here, authorized for llmlab read/write, then forwarded
    get = _forwarding("read")
    post = put = patch = delete = _forwarding("write")


def forward_handlers() -> list[tuple[str, type[ForwardHandler], dict[str, Any]]]:
    """``(pattern, handler, kwargs)`` for ``ExtensionApp.handlers`` in remote mode."""
    from ..server.routes import API_PREFIX

    return [(API_PREFIX + "/(.*)", ForwardHandler, {"route": "forwarded"})]
