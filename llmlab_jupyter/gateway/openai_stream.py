"""Reading a streamed OpenAI chat completion: server-sent events into one :class:`Completion`.

The events are ``data: {...}`` chunks ending in ``data: [DONE]``; the request asks for
the usage in the last chunk (``stream_options.include_usage``). No I/O here: the
transport in :mod:`.openai_http` feeds the bytes it reads.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from ..exceptions import ProviderError
from .base import Completion, OnDelta
from .openai_wire import Route, error_detail

if TYPE_CHECKING:
    from .config import ModelSpec

__all__ = ["SSEParser", "StreamState", "finish_stream", "take_stream_event"]


class SSEParser:
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


class StreamState:
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


def take_stream_event(
    spec: ModelSpec,
    route: Route,
    state: StreamState,
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
        detail = error_detail(state.error, route.key)
        raise ProviderError(
            f"model '{spec.name}' reported an error in its stream{detail}",
            retryable=True,
            provider_status=200,
        )
    if piece and on_delta is not None:
        on_delta(piece)


def finish_stream(
    spec: ModelSpec, route: Route, state: StreamState, latency_ms: float
) -> Completion:
    """The :class:`Completion` of a stream that has ended (an error if it ended too early)."""
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
