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

This module is the transport (pooled sessions, the POST, reading the answer) and the only
one that imports aiohttp's client; the request and answer format is :mod:`.openai_wire`,
reading a stream of events is :mod:`.openai_stream`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING

import aiohttp

from ..exceptions import ProviderError
from .base import ChatRequest, Completion, OnDelta, Provider
from .openai_stream import SSEParser, StreamState, finish_stream, take_stream_event
from .openai_wire import (
    Route,
    build_payload,
    http_error,
    parse_completion,
    timeout_error,
)

if TYPE_CHECKING:
    from .config import ModelSpec

__all__ = ["OpenAIHTTPProvider"]

log = logging.getLogger(__name__)


class _Route(Route):
    """A :class:`~.openai_wire.Route` plus its precomputed aiohttp timeout."""

    __slots__ = ("timeout",)

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__(spec)
        self.timeout = aiohttp.ClientTimeout(total=spec.timeout_s)


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
        """POST one chat completion; map HTTP failures to our errors (see module docstring).

        ``stream``/``stream_options`` in the params are dropped: use :meth:`stream`.
        """
        route = self._route(spec)
        payload = build_payload(request, route, stream=False)
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
            raise timeout_error(spec) from err
        except aiohttp.ClientError as err:
            raise self._unreachable(spec, route, err) from err
        latency_ms = (time.perf_counter() - start) * 1000.0
        if status != 200:
            raise http_error(spec, route, status, raw, retry_after_header)
        return parse_completion(spec, route, raw, latency_ms)

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
        payload = build_payload(request, route, stream=True)
        session = self._session(route.base_url)
        state = StreamState()
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
                    raise http_error(spec, route, status, raw, retry_after_header)
                if resp.content_type == "application/json":
                    raw = await resp.read()
                    done = parse_completion(spec, route, raw, (time.perf_counter() - start) * 1e3)
                    if done.text:
                        done.first_token_ms = done.latency_ms
                        if on_delta is not None:
                            on_delta(done.text)
                    return done
                started = True
                parser = SSEParser()
                async for block in resp.content.iter_any():
                    for data in parser.feed(block):
                        take_stream_event(spec, route, state, data, start, on_delta)
                    if state.done:
                        break
                else:
                    for data in parser.close():
                        take_stream_event(spec, route, state, data, start, on_delta)
        except asyncio.TimeoutError as err:
            raise timeout_error(spec) from err
        except aiohttp.ClientError as err:
            if started:
                raise ProviderError(
                    f"the stream from model '{spec.name}' broke: {type(err).__name__}",
                    retryable=True,
                    provider_status=200,
                ) from err
            raise self._unreachable(spec, route, err) from err
        latency_ms = (time.perf_counter() - start) * 1000.0
        return finish_stream(spec, route, state, latency_ms)

    @staticmethod
    def _unreachable(spec: ModelSpec, route: _Route, err: aiohttp.ClientError) -> ProviderError:
        # str(err) of connection errors names host:port only, never headers.
        return ProviderError(
            f"cannot reach model '{spec.name}' at {route.base_url}: {type(err).__name__}",
            retryable=True,
        )

    async def aclose(self) -> None:
        """Close every pooled session."""
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            if not session.closed:
                await session.close()
