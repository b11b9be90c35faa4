"""A small synchronous JSON client for ``<url>/llmlab/api`` that raises our exceptions.

Error bodies ``{"message", "error_code"[, "field"]}`` become the exception class with that
``error_code`` (``InvalidInput``, ``NotFound``, ...), so code written against the in-process
services handles remote errors the same way.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from ... import exceptions as exc
from ...prompts import validate_slug

_BY_STATUS: dict[int, type[exc.LlmLabError]] = {
    400: exc.InvalidInput,
    403: exc.PermissionDenied,
    404: exc.NotFound,
    409: exc.Conflict,
    413: exc.InvalidInput,
}


def _error_classes() -> dict[str, type[exc.LlmLabError]]:
    found: dict[str, type[exc.LlmLabError]] = {}
    stack: list[type[exc.LlmLabError]] = [exc.LlmLabError]
    while stack:
        cls = stack.pop()
        found.setdefault(cls.error_code, cls)
        stack.extend(cls.__subclasses__())
    found["unauthenticated"] = exc.PermissionDenied
    return found


def error_from(status: int, body: Any) -> exc.LlmLabError:
    """The exception an error response stands for."""
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        code = str(body.get("error_code", ""))
        cls = _error_classes().get(code) or _BY_STATUS.get(status, exc.LlmLabError)
        field = body.get("field")
        return cls(body["message"], field=field if isinstance(field, str) else None)
    cls = _BY_STATUS.get(status, exc.LlmLabError)
    return cls(f"the server answered HTTP {status}")


class HttpClient:
    """A small JSON client for ``<url>/llmlab/api`` (httpx, keep-alive, token auth)."""

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 60.0) -> None:
        import httpx

        self.base = url.rstrip("/") + "/llmlab/api/"
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"token {token}"
        self._http = httpx.Client(headers=headers, timeout=timeout, trust_env=False)

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        content: bytes | None = None,
    ) -> Any:
        """Send a request; return the decoded JSON (``None`` for 204) or raise our error."""
        import httpx

        query = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        kwargs: dict[str, Any] = {"params": query}
        if body is not None:
            try:
                kwargs["content"] = json.dumps(body, allow_nan=False).encode()
            except (TypeError, ValueError) as err:
                raise exc.InvalidInput(f"cannot send as JSON: {err}", field="body") from err
            kwargs["headers"] = {"Content-Type": "application/json"}
        elif content is not None:
            kwargs["content"] = content
            kwargs["headers"] = {"Content-Type": "application/octet-stream"}
        try:
            response = self._http.request(method, self.base + path, **kwargs)
        except httpx.HTTPError as err:
            reason = str(err) or type(err).__name__
            raise exc.ServiceUnavailable(
                f"cannot reach the llmlab server at {self.base} ({reason})"
            ) from None
        if response.status_code == 204:
            return None
        try:
            decoded = response.json()
        except ValueError:
            decoded = None
        if response.status_code >= 400 or decoded is None:
            raise error_from(response.status_code, decoded)
        return decoded

    def close(self) -> None:
        self._http.close()


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def segment(value: Any, field: str) -> str:
    """One URL path segment; values that cannot form one are rejected like the services do."""
    if not isinstance(value, str) or value in ("", ".", ".."):
        validate_slug(value, field)
    return quote(str(value), safe="")
