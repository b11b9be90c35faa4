"""Deterministic ``fake/*`` models: offline, free, reproducible.

Models (the part after ``fake/``, options after ``?`` in query-string form):

* ``fake/echo``               — the last user message, unchanged;
* ``fake/upper``              — the last user message in upper case;
* ``fake/reverse``            — the words of the last user message in reverse order;
* ``fake/fixed?text=hello``   — always ``text``;
* ``fake/json``               — a JSON object ``{"answer": <last user message>, "messages": n,
  "model": ...}`` for testing JSON-parsing scorers.

Options, in the model name (``fake/echo?latency_ms=50&error_rate=0.2``) or in
``params`` (params win): ``latency_ms`` (sleep before answering), ``error_rate``
(fraction of attempts that fail), ``error_status`` (429, 500, 400 or ``timeout``;
default 500), ``retry_after`` (seconds, sent with 429), ``seed``. Whether an attempt
fails depends only on the seed, the model, the messages and the attempt number, so a
retried call can succeed and every run behaves the same.

Token counts are whitespace word counts; cost is zero unless the model's spec has
prices. ``max_tokens`` truncates the answer to that many words (``finish_reason``
``length``).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from ..exceptions import InvalidInput, ProviderError, ProviderTimeout, RateLimited
from .base import ChatRequest, Completion, Provider
from .pricing import price_for

if TYPE_CHECKING:
    from .config import ModelSpec

__all__ = ["FAKE_MODELS", "FakeProvider"]

FAKE_MODELS = ("echo", "upper", "reverse", "fixed", "json")
_OPTION_KEYS = ("latency_ms", "error_rate", "error_status", "retry_after", "seed", "text")


@functools.lru_cache(maxsize=1024)
def _parse_name(name: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    rest = name.split("/", 1)[1]
    kind, _, query = rest.partition("?")
    if kind not in FAKE_MODELS:
        raise InvalidInput(
            f"unknown fake model '{kind}' (known: {', '.join(FAKE_MODELS)})", field="model"
        )
    options = tuple(parse_qsl(query, keep_blank_values=True))
    for key, _ in options:
        if key not in _OPTION_KEYS:
            raise InvalidInput(f"unknown fake model option '{key}'", field="model")
    return kind, options


def _last_user(messages: list[dict[str, str]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return str(message.get("content") or "")
    return str(messages[-1].get("content") or "") if messages else ""


def _words(text: str) -> int:
    return len(text.split())


def _unit_hash(*parts: object) -> float:
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


class FakeProvider(Provider):
    """The deterministic fake models described in this module's docstring."""

    async def complete(self, request: ChatRequest, spec: ModelSpec, *, attempt: int) -> Completion:
        """Answer from the messages alone; sleep and fail as the options say."""
        kind, name_options = _parse_name(spec.name)
        opts: dict[str, Any] = dict(name_options)
        params = request.params
        for key in _OPTION_KEYS:
            if key in params:
                opts[key] = params[key]
        try:
            latency_ms = float(opts.get("latency_ms") or 0.0)
            error_rate = float(opts.get("error_rate") or 0.0)
        except (TypeError, ValueError) as err:
            raise InvalidInput("fake model options must be numbers", field="params") from err
        start = time.perf_counter()
        if latency_ms > 0:
            await asyncio.sleep(latency_ms / 1000.0)
        if error_rate > 0:
            draw = _unit_hash(opts.get("seed", 0), kind, request.messages, attempt)
            if draw < error_rate:
                raise self._error(spec, str(opts.get("error_status") or "500"), opts)
        text = self._answer(kind, request.messages, spec, opts)
        finish_reason = "stop"
        max_tokens = params.get("max_tokens")
        if isinstance(max_tokens, int) and max_tokens >= 0 and _words(text) > max_tokens:
            text = " ".join(text.split()[:max_tokens])
            finish_reason = "length"
        prompt_tokens = sum(_words(str(m.get("content") or "")) for m in request.messages)
        completion_tokens = _words(text)
        return Completion(
            text=text,
            model=spec.name,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=price_for(spec).cost(prompt_tokens, completion_tokens),
            latency_ms=(time.perf_counter() - start) * 1000.0,
            attempts=1,
            finish_reason=finish_reason,
            raw_model=f"fake/{kind}",
        )

    @staticmethod
    def _answer(
        kind: str, messages: list[dict[str, str]], spec: ModelSpec, opts: dict[str, Any]
    ) -> str:
        last = _last_user(messages)
        if kind == "echo":
            return last
        if kind == "upper":
            return last.upper()
        if kind == "reverse":
            return " ".join(reversed(last.split()))
        if kind == "fixed":
            return str(opts.get("text", ""))
        return json.dumps(
            {"answer": last, "messages": len(messages), "model": spec.name}, sort_keys=True
        )

    @staticmethod
    def _error(spec: ModelSpec, status: str, opts: dict[str, Any]) -> ProviderError:
        message = f"model '{spec.name}' failed (injected fake error {status})"
        if status == "429":
            retry_after = opts.get("retry_after")
            return RateLimited(
                message,
                retryable=True,
                retry_after=float(retry_after) if retry_after not in (None, "") else None,
                provider_status=429,
            )
        if status == "timeout":
            return ProviderTimeout(message, retryable=True)
        code = int(status) if status.isdigit() else 500
        return ProviderError(message, retryable=code >= 500, provider_status=code)
