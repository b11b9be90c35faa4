"""The fast path: OpenAI-compatible ``/chat/completions`` over one pooled aiohttp session.

Used for OpenAI itself and for any compatible server (vLLM, Ollama, LM Studio, an
internal proxy). Per call it does one ``json.dumps``, one POST and one ``json.loads``:
no validation models, no logging above DEBUG.

Security: the ``Authorization`` header is built from the key named by the spec's
``api_key_env`` and sent only to that spec's ``base_url``; redirects are never followed
(a 3xx answer is an error), so the key cannot travel to another host. Error messages
never include the key or the response body.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import aiohttp

from ..exceptions import InvalidInput, ProviderError, ProviderTimeout, RateLimited
from .base import ChatRequest, Completion, Provider, redact
from .pricing import price_for

if TYPE_CHECKING:
    from .config import ModelSpec

__all__ = ["OpenAIHTTPProvider", "parse_retry_after"]

log = logging.getLogger(__name__)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _error_detail(body: bytes, secret: str | None) -> str:
    """A short, key-free description from an OpenAI-style error body."""
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, str):
        return f": {redact(err[:300], secret)}"
    if not isinstance(err, dict):
        return ""
    parts = [str(err[k])[:300] for k in ("type", "message") if isinstance(err.get(k), str)]
    return f": {redact(' - '.join(parts), secret)}" if parts else ""


class _Route:
    """What is precomputed per model spec: URL, headers, timeout, price."""

    __slots__ = ("base_url", "headers", "key", "price", "timeout", "url", "wire_model")

    def __init__(self, spec: ModelSpec) -> None:
        if not spec.base_url:
            raise InvalidInput(f"model '{spec.name}' needs a base_url", field="base_url")
        self.base_url = spec.base_url
        self.url = f"{spec.base_url}/chat/completions"
        self.wire_model = spec.wire_model
        self.headers = {"Content-Type": "application/json"}
        self.key: str | None = None
        if spec.api_key_env:
            key = os.environ.get(spec.api_key_env)
            if not key:
                raise ProviderError(
                    f"model '{spec.name}' needs an API key: set the environment variable "
                    f"{spec.api_key_env}",
                    retryable=False,
                    field="api_key_env",
                )
            self.key = key
            self.headers["Authorization"] = f"Bearer {key}"
        self.timeout = aiohttp.ClientTimeout(total=spec.timeout_s)
        self.price = price_for(spec)


class OpenAIHTTPProvider(Provider):
    """OpenAI-compatible chat completions over one pooled ``aiohttp.ClientSession`` per base URL.

    Bind one instance to one event loop (the gateway keeps one per loop).
    """

    handles_timeout = True

    def __init__(self) -> None:
        self._sessions: dict[str, aiohttp.ClientSession] = {}
        self._routes: dict[str, _Route] = {}

    def _session(self, base_url: str) -> aiohttp.ClientSession:
        session = self._sessions.get(base_url)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
            session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=None),
                skip_auto_headers=("User-Agent",),
                headers={"User-Agent": "llmlab-jupyter"},
                json_serialize=json.dumps,
            )
            self._sessions[base_url] = session
        return session

    def _route(self, spec: ModelSpec) -> _Route:
        route = self._routes.get(spec.name)
        if route is None:
            route = self._routes[spec.name] = _Route(spec)
        return route

    async def complete(self, request: ChatRequest, spec: ModelSpec, *, attempt: int) -> Completion:
        """POST one chat completion; map HTTP failures to our errors (see module docstring)."""
        route = self._route(spec)
        body: dict[str, Any] = {"model": route.wire_model, "messages": request.messages}
        if request.params:
            body.update(request.params)
            body["model"] = route.wire_model
            if body.get("stream"):
                raise InvalidInput("streaming is not supported by Gateway.complete", field="stream")
        payload = json.dumps(body).encode()
        session = self._session(route.base_url)
        start = time.perf_counter()
        try:
            async with session.post(
                route.url,
                data=payload,
                headers=route.headers,
                timeout=route.timeout,
                allow_redirects=False,
            ) as resp:
                status = resp.status
                raw = await resp.read()
                retry_after_header = resp.headers.get("Retry-After") if status >= 400 else None
        except asyncio.TimeoutError as err:
            raise ProviderTimeout(
                f"model '{spec.name}' did not answer within {spec.timeout_s:g} s", retryable=True
            ) from err
        except aiohttp.ClientError as err:
            # str(err) of connection errors names host:port only, never headers.
            raise ProviderError(
                f"cannot reach model '{spec.name}' at {route.base_url}: {type(err).__name__}",
                retryable=True,
            ) from err
        latency_ms = (time.perf_counter() - start) * 1000.0
        if status != 200:
            raise self._http_error(spec, route, status, raw, retry_after_header)
        try:
            data = json.loads(raw)
            choice = data["choices"][0]
            text = choice["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as err:
            raise ProviderError(
                f"model '{spec.name}' sent a response that is not a chat completion",
                retryable=True,
                provider_status=status,
            ) from err
        usage = data.get("usage") or {}
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        completion_tokens = int(usage.get("completion_tokens") or 0)
        return Completion(
            text=text,
            model=spec.name,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=route.price.cost(prompt_tokens, completion_tokens),
            latency_ms=latency_ms,
            attempts=1,
            finish_reason=choice.get("finish_reason"),
            raw_model=data.get("model"),
        )

    @staticmethod
    def _http_error(
        spec: ModelSpec, route: _Route, status: int, raw: bytes, retry_after_header: str | None
    ) -> ProviderError:
        detail = _error_detail(raw, route.key)
        if status == 429:
            retry_after = parse_retry_after(retry_after_header)
            return RateLimited(
                f"model '{spec.name}' is rate limited (HTTP 429){detail}",
                retryable=True,
                retry_after=retry_after,
                provider_status=status,
            )
        if 300 <= status < 400:
            return ProviderError(
                f"model '{spec.name}' answered with a redirect (HTTP {status}); redirects are "
                "not followed so that the API key stays with its base URL",
                retryable=False,
                provider_status=status,
            )
        if status in (408, 504):
            return ProviderTimeout(
                f"model '{spec.name}' timed out (HTTP {status}){detail}",
                retryable=True,
                provider_status=status,
            )
        retryable = status >= 500
        return ProviderError(
            f"model '{spec.name}' failed with HTTP {status}{detail}",
            retryable=retryable,
            retry_after=parse_retry_after(retry_after_header) if retryable else None,
            provider_status=status,
        )

    async def aclose(self) -> None:
        """Close every pooled session."""
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            if not session.closed:
                await session.close()
