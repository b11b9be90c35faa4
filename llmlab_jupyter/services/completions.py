"""Single model calls from a notebook, recorded in the usage ledger and cached."""

from __future__ import annotations

from typing import Any

from ..exceptions import InvalidInput, LlmLabError
from .access import Caller
from .base import Service


def _messages(prompt: Any) -> list[dict[str, str]]:
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    if (
        isinstance(prompt, list)
        and all(
            isinstance(m, dict)
            and isinstance(m.get("role"), str)
            and isinstance(m.get("content"), str)
            for m in prompt
        )
        and prompt
    ):
        return [{"role": m["role"], "content": m["content"]} for m in prompt]
    raise InvalidInput(
        "prompt must be a string or a list of {role, content} messages", field="prompt"
    )


class CompletionService(Service):
    """``complete``: one call through the gateway, with cache and usage record."""

    def __init__(self, store: Any, config: Any, gateway: Any) -> None:
        super().__init__(store, config)
        self._gateway = gateway

    def complete(
        self,
        caller: Caller,
        project: str,
        prompt: Any,
        *,
        model: str,
        params: dict[str, Any] | None = None,
        use_cache: bool = True,
    ) -> dict[str, Any]:
        """Call ``model`` once; returns text, tokens, cost, latency, attempts and cache hit."""
        from ..gateway.base import ChatRequest
        from ..gateway.cache import DatabaseCache, cache_key, input_hash, key_prefix
        from ..prompts import check_model, check_params

        self.access.require(caller, project, "write")
        messages = _messages(prompt)
        checked_model = check_model(model)
        if checked_model is None:
            raise InvalidInput("model is required", field="model")
        params = check_params(params)
        gateway = self._gateway()
        spec = gateway.resolve(checked_model)
        cache = DatabaseCache(self.store) if use_cache else None
        key = cache_key(
            key_prefix(self.store.project_id(project), spec.provider, checked_model, params),
            input_hash(messages),
        )
        usage = {
            "experiment_id": None,
            "user_name": caller.user,
            "model": checked_model,
            "purpose": "completion",
        }
        hit = cache.get_many([key]).get(key) if cache else None
        if hit is not None:
            self.store.insert_usage(
                [
                    {
                        **usage,
                        "prompt_tokens": hit["prompt_tokens"],
                        "completion_tokens": hit["completion_tokens"],
                        "saved_usd": hit["cost_usd"],
                        "cache_hit": True,
                        "status": "ok",
                        "attempts": 0,
                    }
                ],
                project=project,
            )
            return {
                "text": hit["text"],
                "model": checked_model,
                "cache_hit": True,
                "prompt_tokens": hit["prompt_tokens"],
                "completion_tokens": hit["completion_tokens"],
                "cost_usd": 0.0,
                "saved_usd": hit["cost_usd"],
                "latency_ms": 0.0,
                "attempts": 0,
            }
        try:
            done = gateway.complete_sync(ChatRequest(checked_model, messages, params))
        except LlmLabError as err:
            self.store.insert_usage(
                [
                    {
                        **usage,
                        "status": "error",
                        "error_code": err.error_code,
                        "attempts": getattr(err, "attempts", None) or 1,
                    }
                ],
                project=project,
            )
            raise
        self.store.insert_usage(
            [
                {
                    **usage,
                    "prompt_tokens": done.prompt_tokens,
                    "completion_tokens": done.completion_tokens,
                    "cost_usd": done.cost_usd,
                    "latency_ms": done.latency_ms,
                    "status": "ok",
                    "attempts": done.attempts,
                }
            ],
            project=project,
        )
        if cache is not None:
            cache.put_many(
                [
                    {
                        "key": key,
                        "model": checked_model,
                        "text": done.text,
                        "prompt_tokens": done.prompt_tokens,
                        "completion_tokens": done.completion_tokens,
                        "cost_usd": done.cost_usd,
                        "finish_reason": done.finish_reason,
                    }
                ]
            )
        return {
            "text": done.text,
            "model": checked_model,
            "cache_hit": False,
            "prompt_tokens": done.prompt_tokens,
            "completion_tokens": done.completion_tokens,
            "cost_usd": done.cost_usd,
            "saved_usd": 0.0,
            "latency_ms": done.latency_ms,
            "attempts": done.attempts,
            "finish_reason": done.finish_reason,
        }
