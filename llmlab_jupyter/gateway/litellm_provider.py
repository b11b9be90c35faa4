"""Any provider litellm knows (Anthropic, Cohere, Bedrock, ...): the only module importing litellm.

litellm is imported on first use (it takes seconds and ~200 MB), after setting
``LITELLM_LOCAL_MODEL_COST_MAP=True`` so that it never fetches its price map from the
internet. Calls pass ``num_retries=0`` and ``max_retries=0``: the gateway owns
retries, so one :meth:`LiteLLMProvider.complete` sends exactly one request. litellm's
exceptions are translated into ours by HTTP status; the key is scrubbed from every
message. Cost is computed by :mod:`llmlab_jupyter.gateway.pricing` from the usage, the
same way as on the fast path. Streamed calls pass ``stream=True`` and
``stream_options={"include_usage": True}`` and read the usage from the last chunk.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..exceptions import ProviderError, ProviderTimeout, RateLimited
from .base import ChatRequest, Completion, OnDelta, Provider, redact
from .openai_wire import parse_retry_after
from .pricing import price_for

if TYPE_CHECKING:
    from .config import ModelSpec

__all__ = ["LiteLLMProvider", "import_litellm", "translate_error"]

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def import_litellm() -> ModuleType:
    """Import litellm once, offline, quietly."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    litellm.drop_params = False
    return litellm


def _headers_of(err: BaseException) -> Any:
    headers = getattr(err, "litellm_response_headers", None)
    if headers is None:
        response = getattr(err, "response", None)
        headers = getattr(response, "headers", None)
    return headers


def translate_error(err: BaseException, spec: ModelSpec, key: str | None) -> ProviderError:
    """Our error for a litellm/openai exception ``err`` (never containing ``key``)."""
    status = getattr(err, "status_code", None)
    status = status if isinstance(status, int) else None
    name = type(err).__name__
    text = redact(str(getattr(err, "message", "") or err)[:400], key)
    message = f"model '{spec.name}' failed ({name}): {text}"
    if name in ("Timeout", "APITimeoutError") or isinstance(err, TimeoutError):
        return ProviderTimeout(
            f"model '{spec.name}' did not answer within {spec.timeout_s:g} s",
            retryable=True,
            provider_status=status,
        )
    if status == 429 or name == "RateLimitError":
        retry_after = None
        headers = _headers_of(err)
        if headers is not None:
            try:
                retry_after = parse_retry_after(headers.get("retry-after"))
            except AttributeError:
                retry_after = None
        return RateLimited(message, retryable=True, retry_after=retry_after, provider_status=429)
    if name == "APIConnectionError" or status is None or status >= 500:
        return ProviderError(message, retryable=True, provider_status=status)
    return ProviderError(message, retryable=False, provider_status=status)


class LiteLLMProvider(Provider):
    """Calls ``litellm.acompletion`` with hidden retries disabled."""

    handles_timeout = False

    async def complete(self, request: ChatRequest, spec: ModelSpec, *, attempt: int) -> Completion:
        """One ``litellm.acompletion`` call; errors translated by :func:`translate_error`.

        ``stream``/``stream_options`` in the params are dropped: use :meth:`stream`.
        """
        litellm = import_litellm()
        kwargs, key = self._kwargs(request, spec, stream=False)
        start = time.perf_counter()
        try:
            response = await litellm.acompletion(**kwargs)
        except Exception as err:
            # "from None": litellm messages may echo request details; ours are scrubbed.
            raise translate_error(err, spec, key) from None
        latency_ms = (time.perf_counter() - start) * 1000.0
        try:
            choice = response.choices[0]
            text = choice.message.content or ""
            usage = getattr(response, "usage", None)
            prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
            completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        except (AttributeError, IndexError, TypeError, ValueError) as err:
            raise ProviderError(
                f"model '{spec.name}' sent a response that is not a chat completion",
                retryable=True,
            ) from err
        return Completion(
            text=text,
            model=spec.name,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=price_for(spec).cost(prompt_tokens, completion_tokens),
            latency_ms=latency_ms,
            attempts=1,
            finish_reason=getattr(choice, "finish_reason", None),
            raw_model=getattr(response, "model", None),
        )

    async def stream(
        self,
        request: ChatRequest,
        spec: ModelSpec,
        *,
        attempt: int,
        on_delta: OnDelta | None = None,
    ) -> Completion:
        """One streamed ``litellm.acompletion`` call (usage asked for in the last chunk)."""
        litellm = import_litellm()
        kwargs, key = self._kwargs(request, spec, stream=True)
        pieces: list[str] = []
        first_token_ms: float | None = None
        finish_reason: str | None = None
        raw_model: str | None = None
        usage: Any = None
        start = time.perf_counter()
        try:
            response = await litellm.acompletion(**kwargs)
            chunks = aiter(response)
        except Exception as err:
            raise translate_error(err, spec, key) from None
        finished = False
        try:
            while True:
                try:
                    chunk = await anext(chunks)
                except StopAsyncIteration:
                    break
                except Exception as err:
                    raise translate_error(err, spec, key) from None
                try:
                    piece, finish, model, chunk_usage = _read_chunk(chunk)
                except (AttributeError, IndexError, TypeError, ValueError) as err:
                    raise ProviderError(
                        f"model '{spec.name}' sent a stream chunk that is not a chat "
                        "completion chunk",
                        retryable=True,
                    ) from err
                finish_reason = finish or finish_reason
                raw_model = model or raw_model
                usage = chunk_usage or usage
                if piece:
                    if first_token_ms is None:
                        first_token_ms = (time.perf_counter() - start) * 1000.0
                    pieces.append(piece)
                    if on_delta is not None:
                        on_delta(piece)
            finished = True
        finally:
            if not finished:
                await _close_quietly(response)
        latency_ms = (time.perf_counter() - start) * 1000.0
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        return Completion(
            text="".join(pieces),
            model=spec.name,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=price_for(spec).cost(prompt_tokens, completion_tokens),
            latency_ms=latency_ms,
            attempts=1,
            finish_reason=finish_reason,
            raw_model=raw_model,
            first_token_ms=first_token_ms,
        )

    @staticmethod
    def _kwargs(
        request: ChatRequest, spec: ModelSpec, *, stream: bool
    ) -> tuple[dict[str, Any], str | None]:
        """``litellm.acompletion`` keyword arguments for ``request``, and the API key used."""
        key: str | None = None
        kwargs: dict[str, Any] = {
            k: v for k, v in request.params.items() if k not in ("stream", "stream_options")
        }
        if spec.api_key_env:
            key = os.environ.get(spec.api_key_env)
            if not key:
                raise ProviderError(
                    f"model '{spec.name}' needs an API key: set the environment variable "
                    f"{spec.api_key_env}",
                    retryable=False,
                    field="api_key_env",
                )
            kwargs["api_key"] = key
        if spec.base_url:
            kwargs["api_base"] = spec.base_url
        kwargs.update(
            model=spec.litellm_model or spec.name,
            messages=request.messages,
            num_retries=0,
            max_retries=0,
            timeout=spec.timeout_s,
        )
        if stream:
            options = request.params.get("stream_options")
            options = dict(options) if isinstance(options, dict) else {}
            options["include_usage"] = True
            kwargs.update(stream=True, stream_options=options)
        return kwargs, key


async def _close_quietly(response: Any) -> None:
    """Release the connection of an abandoned litellm stream (best effort)."""
    closer = getattr(response, "aclose", None)
    if closer is None:
        return
    try:
        await closer()
    except Exception:  # cleanup must not hide the error being raised
        log.debug("closing an abandoned litellm stream failed", exc_info=True)


def _read_chunk(chunk: Any) -> tuple[str, str | None, str | None, Any]:
    """(text, finish_reason, model, usage) of one litellm stream chunk."""
    piece = ""
    finish: str | None = None
    choices = getattr(chunk, "choices", None) or ()
    if choices:
        choice = choices[0]
        delta = getattr(choice, "delta", None)
        piece = str(getattr(delta, "content", None) or "")
        finish = getattr(choice, "finish_reason", None) or None
    return piece, finish, getattr(chunk, "model", None) or None, getattr(chunk, "usage", None)
