"""Plain data that crosses the gateway, and the :class:`Provider` contract.

A :class:`ChatRequest` goes in, a :class:`Completion` comes out. Both are plain
dataclasses (no validation per call) so that thousands of calls per second stay cheap.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import ModelSpec

__all__ = ["STREAM_PARAMS", "ChatRequest", "Completion", "OnDelta", "Provider", "redact"]

#: Receives each piece of the answer's text as it arrives while streaming.
OnDelta = Callable[[str], None]

#: Request parameters that only choose streaming; providers that stream by other means
#: (or not at all) drop them.
STREAM_PARAMS = ("stream", "stream_options")

_KEY_PATTERN = re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_\-*]{6,}|\bBearer\s+\S+")


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with the given secrets and anything shaped like an API key masked."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _KEY_PATTERN.sub("***", text)


@dataclass(slots=True)
class ChatRequest:
    """One chat call.

    ``model`` is a model name in ``provider/model`` form (resolved by the
    :class:`~llmlab_jupyter.gateway.config.ModelRegistry`), ``messages`` are
    OpenAI-style ``{"role": ..., "content": ...}`` dicts and ``params`` are the
    generation parameters passed through to the provider (``temperature``,
    ``max_tokens``, ``seed`` ...).
    """

    model: str
    messages: list[dict[str, str]]
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Completion:
    """The answer to one :class:`ChatRequest`.

    ``model`` is the name that was asked for; ``raw_model`` is what the provider
    says actually answered (it may name a snapshot such as ``gpt-4o-mini-2024-07-18``).
    ``latency_ms`` covers the successful attempt only; ``attempts`` counts every
    request sent for this call, the successful one included. ``first_token_ms`` is set
    for streamed calls only: the time from sending the successful attempt to receiving
    the first piece of text (``None`` when the answer had no text).
    """

    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_ms: float
    attempts: int = 1
    finish_reason: str | None = None
    raw_model: str | None = None
    first_token_ms: float | None = None

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


class Provider(ABC):
    """One way of reaching models (an HTTP API, litellm, an in-process model, a fake).

    The contract every implementation keeps:

    * :meth:`complete` sends **exactly one** request to the model: it never
      retries on its own (the :class:`~llmlab_jupyter.gateway.gateway.Gateway`
      owns retries, limits and the overall timeout, and counts attempts).
    * Failures are raised as :class:`~llmlab_jupyter.exceptions.ProviderError`
      (or its subclasses :class:`~llmlab_jupyter.exceptions.RateLimited` with
      ``retry_after`` when the provider sent one, and
      :class:`~llmlab_jupyter.exceptions.ProviderTimeout`), with ``retryable``
      set: ``True`` for 429, 5xx, timeouts and connection failures; ``False``
      for other 4xx answers, which would fail again identically.
      A missing optional package raises
      :class:`~llmlab_jupyter.exceptions.MissingDependency`.
    * Error messages and log lines never contain an API key, and never the prompt
      or the output text above DEBUG level.
    * An API key is sent only to the base URL it was configured for; redirects are
      not followed.
    * The returned :class:`Completion` has ``attempts=1``, the provider's token
      counts (or an estimate when the provider gives none) and ``cost_usd``
      computed by :mod:`llmlab_jupyter.gateway.pricing` from those counts.
    * :meth:`stream` keeps the same rules, sends ``on_delta`` every non-empty piece
      of text as it arrives and returns the same :class:`Completion` as
      :meth:`complete` would (full text, usage, cost) plus ``first_token_ms``.
      Providers without real streaming inherit a :meth:`stream` that answers with
      :meth:`complete` and delivers the whole text as one piece.
    * A provider instance is used from one event loop; :meth:`aclose` releases
      its connections and may be called more than once.
    """

    #: ``True`` when :meth:`complete` enforces ``spec.timeout_s`` itself.
    handles_timeout: bool = False

    @abstractmethod
    async def complete(self, request: ChatRequest, spec: ModelSpec, *, attempt: int) -> Completion:
        """Send one request for ``request`` to the model described by ``spec``.

        ``attempt`` is the 1-based number of this try within one gateway call;
        providers may ignore it (the fake provider uses it to make injected
        failures deterministic yet recoverable).
        """

    async def stream(
        self,
        request: ChatRequest,
        spec: ModelSpec,
        *,
        attempt: int,
        on_delta: OnDelta | None = None,
    ) -> Completion:
        """Like :meth:`complete`, delivering the text to ``on_delta`` as it arrives.

        This default sends one non-streamed request and delivers its whole text as a
        single piece, so ``first_token_ms`` equals ``latency_ms``.
        """
        if any(key in request.params for key in STREAM_PARAMS):
            params = {k: v for k, v in request.params.items() if k not in STREAM_PARAMS}
            request = replace(request, params=params)
        result = await self.complete(request, spec, attempt=attempt)
        if result.text:
            result.first_token_ms = result.latency_ms
            if on_delta is not None:
                on_delta(result.text)
        return result

    async def aclose(self) -> None:  # noqa: B027 - optional hook with a default
        """Release connections and other resources (idempotent)."""
