"""The :class:`Gateway`: one door to every model, with limits, retries and timeouts.

``Gateway.complete(ChatRequest)`` resolves the model name to a
:class:`~llmlab_jupyter.gateway.config.ModelSpec`, picks the provider for its kind,
and sends attempts until one succeeds or the spec's retry budget is spent:

* at most ``spec.max_retries + 1`` requests per call; only errors marked
  ``retryable`` (429, 5xx, timeouts, connection failures) are retried;
* the wait between attempts is exponential with jitter and never shorter than the
  server's ``Retry-After``;
* every attempt waits for the model's request/token rate budgets and one of its
  ``max_concurrency`` slots, and is cut off after ``spec.timeout_s`` seconds;
* the result records ``attempts``; the final error carries ``.attempts`` too.

Streaming (``params["stream"] = True`` in :meth:`Gateway.complete`, or
:meth:`Gateway.stream` with an ``on_delta`` callback) returns the same
:class:`Completion` (full text, usage, cost, attempts) plus ``first_token_ms``. A
failure before the first piece of text reached ``on_delta`` is retried like any
other; a failure after it is not (the caller has already seen part of an answer), and
is raised as a non-retryable :class:`ProviderError`.

The gateway keeps no cache and no usage ledger: it returns :class:`Completion`
objects and callers (the cache, the usage ledger, the experiment runner) build on
them. Connection pools and limiters are kept per event loop, so one Gateway can be
used from a notebook's loop and from :meth:`Gateway.complete_sync` alike.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sys
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, TypeVar

from ..exceptions import LlmLabError, ProviderError, ProviderTimeout
from .base import ChatRequest, Completion, OnDelta, Provider
from .config import ModelRegistry, ModelSpec
from .fake_provider import FakeProvider
from .limits import BASE_DELAY_S, MAX_DELAY_S, ModelLimiter, backoff_delay, estimate_tokens
from .litellm_provider import LiteLLMProvider
from .local_provider import LocalProvider
from .openai_http import OpenAIHTTPProvider
from .pricing import cost_usd

__all__ = ["Gateway"]

log = logging.getLogger(__name__)

T = TypeVar("T")
ProviderFactory = Callable[[], Provider]

DEFAULT_PROVIDERS: dict[str, ProviderFactory] = {
    "openai": OpenAIHTTPProvider,
    "litellm": LiteLLMProvider,
    "fake": FakeProvider,
    "local": LocalProvider,
}

if sys.version_info >= (3, 11):

    async def _with_timeout(aw: Awaitable[T], seconds: float) -> T:
        async with asyncio.timeout(seconds):
            return await aw

else:  # pragma: no cover - Python 3.10

    async def _with_timeout(aw: Awaitable[T], seconds: float) -> T:
        return await asyncio.wait_for(aw, seconds)


class _LoopState:
    """Providers (connection pools) and limiters that belong to one event loop."""

    __slots__ = ("factories", "limiters", "providers")

    def __init__(self, factories: Mapping[str, ProviderFactory]) -> None:
        self.factories = factories
        self.providers: dict[str, Provider] = {}
        self.limiters: dict[str, ModelLimiter] = {}

    def provider(self, kind: str) -> Provider:
        provider = self.providers.get(kind)
        if provider is None:
            provider = self.providers[kind] = self.factories[kind]()
        return provider

    def limiter(self, spec: ModelSpec) -> ModelLimiter:
        limiter = self.limiters.get(spec.name)
        if limiter is None:
            limiter = self.limiters[spec.name] = ModelLimiter(spec)
        return limiter

    async def aclose(self) -> None:
        providers, self.providers = list(self.providers.values()), {}
        for provider in providers:
            await provider.aclose()


class Gateway:
    """Calls models by name with per-model limits, retries and timeouts.

    ``registry`` resolves names (default: :class:`ModelRegistry` defaults only).
    ``providers`` replaces the provider class for a kind (``"openai"``, ``"litellm"``,
    ``"fake"``, ``"local"``), e.g. to plug in a test double. ``seed`` makes the retry
    jitter reproducible; ``backoff_base_s`` and ``backoff_max_s`` shape the waits between
    attempts (the first wait is 0.5-1 x base, doubling up to the max; ``Retry-After`` wins
    when longer).
    """

    def __init__(
        self,
        registry: ModelRegistry | None = None,
        *,
        providers: Mapping[str, ProviderFactory] | None = None,
        seed: int | None = None,
        backoff_base_s: float = BASE_DELAY_S,
        backoff_max_s: float = MAX_DELAY_S,
    ) -> None:
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.registry = registry if registry is not None else ModelRegistry()
        self._factories: dict[str, ProviderFactory] = {**DEFAULT_PROVIDERS, **(providers or {})}
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = (
            weakref.WeakKeyDictionary()
        )
        self._last_loop: asyncio.AbstractEventLoop | None = None
        self._last_state: _LoopState | None = None
        self._rng = random.Random(seed)  # noqa: S311 - retry jitter, not security
        self._sync_loop: asyncio.AbstractEventLoop | None = None
        self._sync_thread: threading.Thread | None = None
        self._sync_lock = threading.Lock()

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        if loop is self._last_loop and self._last_state is not None:
            return self._last_state
        state = self._states.get(loop)
        if state is None:
            state = self._states[loop] = _LoopState(self._factories)
        self._last_loop, self._last_state = loop, state
        return state

    def resolve(self, model: str) -> ModelSpec:
        """The :class:`ModelSpec` used for ``model``."""
        return self.registry.resolve(model)

    async def complete(self, request: ChatRequest) -> Completion:
        """Answer ``request``, retrying transient failures (see the module docstring).

        With ``params["stream"] = True`` the answer is streamed (as :meth:`stream`
        without a callback) and ``first_token_ms`` is set.

        Raises :class:`~llmlab_jupyter.exceptions.InvalidInput` for a bad model name or
        setting (no request sent), and the last :class:`ProviderError` once retries are
        spent, with ``.attempts`` set to the number of requests sent.
        """
        streaming = bool(request.params.get("stream"))
        return await self._call(request, streaming=streaming, on_delta=None)

    async def stream(self, request: ChatRequest, on_delta: OnDelta | None = None) -> Completion:
        """Answer ``request`` streamed, calling ``on_delta(piece)`` for each piece of text.

        The pieces join to the returned :class:`Completion`'s ``text``; usage, cost and
        ``attempts`` are as for :meth:`complete`, and ``first_token_ms`` is set. Failures
        before the first piece are retried as in :meth:`complete`; a failure after
        pieces were delivered raises a :class:`ProviderError` with ``retryable=False``
        at once. ``on_delta`` runs on the event loop: keep it quick; an exception it
        raises ends the call unchanged.
        """
        return await self._call(request, streaming=True, on_delta=on_delta)

    async def _call(
        self, request: ChatRequest, *, streaming: bool, on_delta: OnDelta | None
    ) -> Completion:
        spec = self.registry.resolve(request.model)
        state = self._state()
        provider = state.provider(spec.provider)
        limiter = state.limiter(spec)
        tokens = estimate_tokens(request.messages, request.params.get("max_tokens"))
        tokens = tokens if limiter.tpm is not None else 0
        timeout = None if provider.handles_timeout else spec.timeout_s
        delivered = False
        sink: OnDelta | None = None
        if on_delta is not None:
            user_sink = on_delta

            def sink(piece: str) -> None:
                nonlocal delivered
                delivered = True
                user_sink(piece)

        attempt = 0
        while True:
            attempt += 1
            await limiter.enter(tokens)
            try:
                if streaming:
                    call = provider.stream(request, spec, attempt=attempt, on_delta=sink)
                else:
                    call = provider.complete(request, spec, attempt=attempt)
                result = await (call if timeout is None else _with_timeout(call, timeout))
            except (ProviderError, asyncio.TimeoutError) as exc:
                err = self._as_provider_error(exc, spec)
                if delivered and err.retryable:
                    err = ProviderError(
                        f"the stream from model '{spec.name}' broke after part of the answer "
                        f"was delivered, so it is not retried: {err.message}",
                        retryable=False,
                        provider_status=err.provider_status,
                    )
                if not err.retryable or attempt > spec.max_retries:
                    err.attempts = attempt  # type: ignore[attr-defined]
                    if err is not exc:
                        raise err from exc
                    raise
                delay = backoff_delay(
                    attempt,
                    err.retry_after,
                    base=self.backoff_base_s,
                    cap=self.backoff_max_s,
                    rng=self._rng,
                )
                log.debug(
                    "model %s attempt %d failed (%s); retrying in %.2f s",
                    spec.name,
                    attempt,
                    err.error_code,
                    delay,
                )
            except LlmLabError as exc:
                exc.attempts = attempt  # type: ignore[attr-defined]
                raise
            else:
                if tokens:
                    limiter.settle_tokens(tokens, result.total_tokens)
                result.attempts = attempt
                return result
            finally:
                limiter.exit()
            await asyncio.sleep(delay)

    @staticmethod
    def _as_provider_error(exc: BaseException, spec: ModelSpec) -> ProviderError:
        if isinstance(exc, ProviderError):
            return exc
        return ProviderTimeout(
            f"model '{spec.name}' did not answer within {spec.timeout_s:g} s", retryable=True
        )

    def estimate_cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        """USD that a call to ``model`` using these token counts would cost."""
        return cost_usd(self.registry.resolve(model), prompt_tokens, completion_tokens)

    # -- synchronous use -------------------------------------------------------------

    def _run_sync(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        with self._sync_lock:
            if self._sync_loop is None or self._sync_loop.is_closed():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="llmlab-gateway", daemon=True
                )
                thread.start()
                self._sync_loop, self._sync_thread = loop, thread
            loop = self._sync_loop
        if threading.current_thread() is self._sync_thread:
            coro.close()
            raise RuntimeError("complete_sync cannot be called from the gateway's own loop")
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    def complete_sync(self, request: ChatRequest) -> Completion:
        """Blocking :meth:`complete`; works inside Jupyter (runs on a private loop thread)."""
        return self._run_sync(self.complete(request))

    async def aclose(self) -> None:
        """Close connection pools of the current loop and of the private sync loop."""
        loop = asyncio.get_running_loop()
        state = self._states.pop(loop, None)
        self._last_loop, self._last_state = None, None
        if state is not None:
            await state.aclose()
        if self._sync_loop is not None and loop is not self._sync_loop:
            await asyncio.to_thread(self.close)

    def close(self) -> None:
        """Stop the private loop of :meth:`complete_sync`, closing its pools (idempotent)."""
        with self._sync_lock:
            loop, thread = self._sync_loop, self._sync_thread
            self._sync_loop = self._sync_thread = None
        if loop is None or loop.is_closed():
            return
        state = self._states.pop(loop, None)
        if state is not None:
            asyncio.run_coroutine_threadsafe(state.aclose(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(10)
        loop.close()
