"""The fast path: OpenAI-compatible ``/chat/completions`` over one pooled aiohttp session.

Used for OpenAI itself and for any compatible server (vLLM, Ollama, LM Studio, an
internal proxy). Per call it does one ``json.dumps``, one POST and one ``json.loads``:
no validation models, no logging above DEBUG. Streamed calls read the server-sent
events (``data: {...}`` chunks, ``data: [DONE]``) and ask for the usage in the last
chunk (``stream_options.include_usage``).

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
from .base import ChatRequest, Completion, OnDelta, Provider, redact
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


class _SSEParser:
    """Splits a server-sent event stream into the ``data`` of each event.

    Lines end in LF (a trailing CR is dropped); an empty line ends an event; fields
    other than ``data`` (``event``, ``id``, ``retry``, comments) are ignored.
    """

    __slots__ = ("_data", "_tail")

    def __init__(self) -> None:
        self._tail = b""
        self._data: list[bytes] = []

    def feed(self, block: bytes) -> list[str]:
        """The events completed by ``block``."""
        lines = (self._tail + block).split(b"\n")
        self._tail = lines.pop()
        return self._events(lines)

    def close(self) -> list[str]:
        """The events completed by the end of the stream."""
        lines = [self._tail, b""] if self._tail else [b""]
        self._tail = b""
        return self._events(lines)

    def _events(self, lines: list[bytes]) -> list[str]:
        events: list[str] = []
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if self._data:
                    events.append(b"\n".join(self._data).decode("utf-8"))
                    self._data = []
            elif line.startswith(b"data:"):
                value = line[5:]
                self._data.append(value[1:] if value.startswith(b" ") else value)
        return events


class _StreamState:
    """What a streamed answer has delivered so far."""

    __slots__ = ("done", "error", "finish_reason", "first_token_ms", "pieces", "raw_model", "usage")

    def __init__(self) -> None:
        self.done = False
        self.error: bytes | None = None
        self.finish_reason: str | None = None
        self.first_token_ms: float | None = None
        self.pieces: list[str] = []
        self.raw_model: str | None = None
        self.usage: dict[str, Any] = {}

    def add(self, data: str, start: float) -> str:
        """Take one chunk (JSON text, or ``[DONE]``); return its new text, if any."""
        if data == "[DONE]":
            self.done = True
            return ""
        chunk = json.loads(data)
        if not isinstance(chunk, dict):
            raise TypeError("a stream chunk must be a JSON object")
        if chunk.get("error"):
            self.error = data.encode()
            return ""
        model = chunk.get("model")
        if model:
            self.raw_model = model
        usage = chunk.get("usage")
        if isinstance(usage, dict) and usage:
            self.usage = usage
        piece = ""
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            piece = (choice.get("delta") or {}).get("content") or ""
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        if piece:
            if self.first_token_ms is None:
                self.first_token_ms = (time.perf_counter() - start) * 1000.0
            self.pieces.append(piece)
        return piece


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

    @staticmethod
    def _payload(request: ChatRequest, route: _Route, *, stream: bool) -> bytes:
        body: dict[str, Any] = {"model": route.wire_model, "messages": request.messages}
        if request.params:
            body.update(request.params)
            body["model"] = route.wire_model
            if not stream:
                body.pop("stream", None)
                body.pop("stream_options", None)
        if stream:
            body["stream"] = True
            options = body.get("stream_options")
            options = dict(options) if isinstance(options, dict) else {}
            options["include_usage"] = True
            body["stream_options"] = options
        return json.dumps(body).encode()

    async def complete(self, request: ChatRequest, spec: ModelSpec, *, attempt: int) -> Completion:
        """POST one chat completion; map HTTP failures to our errors (see module docstring).

        ``stream``/``stream_options`` in the params are dropped: use :meth:`stream`.
        """
        route = self._route(spec)
        payload = self._payload(request, route, stream=False)
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
            raise self._timeout(spec) from err
        except aiohttp.ClientError as err:
            raise self._unreachable(spec, route, err) from err
        latency_ms = (time.perf_counter() - start) * 1000.0
        if status != 200:
            raise self._http_error(spec, route, status, raw, retry_after_header)
        return self._completion(spec, route, raw, latency_ms)

    async def stream(
        self,
        request: ChatRequest,
        spec: ModelSpec,
        *,
        attempt: int,
        on_delta: OnDelta | None = None,
    ) -> Completion:
        """POST one streamed chat completion and read its server-sent events.

        Sends ``stream_options.include_usage`` so that the last chunk carries the usage;
        text is the concatenation of ``choices[0].delta.content``. A server that answers
        with a plain JSON completion instead is accepted (its text is one piece).
        """
        route = self._route(spec)
        payload = self._payload(request, route, stream=True)
        session = self._session(route.base_url)
        state = _StreamState()
        started = False
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
                if status != 200:
                    raw = await resp.read()
                    retry_after_header = resp.headers.get("Retry-After")
                    raise self._http_error(spec, route, status, raw, retry_after_header)
                if resp.content_type == "application/json":
                    raw = await resp.read()
                    done = self._completion(spec, route, raw, (time.perf_counter() - start) * 1e3)
                    if done.text:
                        done.first_token_ms = done.latency_ms
                        if on_delta is not None:
                            on_delta(done.text)
                    return done
                started = True
                parser = _SSEParser()
                async for block in resp.content.iter_any():
                    for data in parser.feed(block):
                        self._stream_event(spec, route, state, data, start, on_delta)
                    if state.done:
                        break
                else:
                    for data in parser.close():
                        self._stream_event(spec, route, state, data, start, on_delta)
        except asyncio.TimeoutError as err:
            raise self._timeout(spec) from err
        except aiohttp.ClientError as err:
            if started:
                raise ProviderError(
                    f"the stream from model '{spec.name}' broke: {type(err).__name__}",
                    retryable=True,
                    provider_status=200,
                ) from err
            raise self._unreachable(spec, route, err) from err
        latency_ms = (time.perf_counter() - start) * 1000.0
        if not state.done and state.finish_reason is None:
            raise ProviderError(
                f"the stream from model '{spec.name}' ended before the answer was complete",
                retryable=True,
                provider_status=200,
            )
        usage = state.usage
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        completion_tokens = int(usage.get("completion_tokens") or 0)
        return Completion(
            text="".join(state.pieces),
            model=spec.name,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=route.price.cost(prompt_tokens, completion_tokens),
            latency_ms=latency_ms,
            attempts=1,
            finish_reason=state.finish_reason,
            raw_model=state.raw_model,
            first_token_ms=state.first_token_ms,
        )

    @staticmethod
    def _stream_event(
        spec: ModelSpec,
        route: _Route,
        state: _StreamState,
        data: str,
        start: float,
        on_delta: OnDelta | None,
    ) -> None:
        """Take one event's data into ``state``; hand its text (if any) to ``on_delta``."""
        try:
            piece = state.add(data, start)
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as err:
            raise ProviderError(
                f"model '{spec.name}' sent a stream event that is not a chat completion chunk",
                retryable=True,
                provider_status=200,
            ) from err
        if state.error is not None:
            detail = _error_detail(state.error, route.key)
            raise ProviderError(
                f"model '{spec.name}' reported an error in its stream{detail}",
                retryable=True,
                provider_status=200,
            )
        if piece and on_delta is not None:
            on_delta(piece)

    @staticmethod
    def _completion(spec: ModelSpec, route: _Route, raw: bytes, latency_ms: float) -> Completion:
        try:
            data = json.loads(raw)
            choice = data["choices"][0]
            text = choice["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as err:
            raise ProviderError(
                f"model '{spec.name}' sent a response that is not a chat completion",
                retryable=True,
                provider_status=200,
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
    def _timeout(spec: ModelSpec) -> ProviderTimeout:
        return ProviderTimeout(
            f"model '{spec.name}' did not answer within {spec.timeout_s:g} s", retryable=True
        )

    @staticmethod
    def _unreachable(spec: ModelSpec, route: _Route, err: aiohttp.ClientError) -> ProviderError:
        # str(err) of connection errors names host:port only, never headers.
        return ProviderError(
            f"cannot reach model '{spec.name}' at {route.base_url}: {type(err).__name__}",
            retryable=True,
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
