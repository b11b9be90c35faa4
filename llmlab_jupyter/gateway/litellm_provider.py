"""Any provider litellm knows (Anthropic, Cohere, Bedrock, ...): the only module importing litellm.

litellm is imported on first use (it takes seconds and ~200 MB), after setting
``LITELLM_LOCAL_MODEL_COST_MAP=True`` so that it never fetches its price map from the
internet. Calls pass ``num_retries=0`` and ``max_retries=0``: the gateway owns
retries, so one :meth:`LiteLLMProvider.complete` sends exactly one request. litellm's
exceptions are translated into ours by HTTP status; the key is scrubbed from every
message. Cost is computed by :mod:`llmlab_jupyter.gateway.pricing` from the usage, the
same way as on the fast path.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidInput, ProviderError, ProviderTimeout, RateLimited
from .base import ChatRequest, Completion, Provider, redact
from .openai_http import parse_retry_after
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
        """One ``litellm.acompletion`` call; errors translated by :func:`translate_error`."""
        litellm = import_litellm()
        key: str | None = None
        kwargs: dict[str, Any] = dict(request.params)
        if kwargs.get("stream"):
            raise InvalidInput("streaming is not supported by Gateway.complete", field="stream")
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
