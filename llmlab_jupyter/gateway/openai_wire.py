"""The OpenAI ``/chat/completions`` wire format, without I/O: requests, answers, HTTP errors.

Builds the request body and headers of one call, parses a (non-streamed) answer into a
:class:`~.base.Completion`, and maps an HTTP failure to our errors. The transport that
sends them is :mod:`.openai_http`; streamed answers are read by :mod:`.openai_stream`.
Error messages never include the key or the response body.
"""

from __future__ import annotations

import json
import os
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidInput, ProviderError, ProviderTimeout, RateLimited
from .base import ChatRequest, Completion, redact
from .pricing import price_for

if TYPE_CHECKING:
    from .config import ModelSpec

__all__ = [
    "Route",
    "build_payload",
    "error_detail",
    "http_error",
    "parse_completion",
    "parse_retry_after",
    "timeout_error",
]


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


def error_detail(body: bytes, secret: str | None) -> str:
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


class Route:
    """What is precomputed per model spec: URL, headers, price (the transport adds its timeout)."""

    __slots__ = ("base_url", "headers", "key", "price", "url", "wire_model")

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
        self.price = price_for(spec)


def build_payload(request: ChatRequest, route: Route, *, stream: bool) -> bytes:
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


def parse_completion(spec: ModelSpec, route: Route, raw: bytes, latency_ms: float) -> Completion:
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


def timeout_error(spec: ModelSpec) -> ProviderTimeout:
    return ProviderTimeout(
        f"model '{spec.name}' did not answer within {spec.timeout_s:g} s", retryable=True
    )


def http_error(
    spec: ModelSpec, route: Route, status: int, raw: bytes, retry_after_header: str | None
) -> ProviderError:
    detail = error_detail(raw, route.key)
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
