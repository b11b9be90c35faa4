"""Helpers shared by the gateway tests (imported by name: tests/gateway is on sys.path)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from llmlab_jupyter.gateway import ChatRequest, Gateway, ModelRegistry

T = TypeVar("T")

KEY_A = "sk-test-AAAA1111alpha"
KEY_B = "sk-test-BBBB2222bravo"


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a fresh loop (the suite does not use pytest-asyncio)."""
    return asyncio.run(coro)


def chat(model: str, text: str, **params: Any) -> ChatRequest:
    """A one-message user request."""
    return ChatRequest(model, [{"role": "user", "content": text}], params)


def gateway_for(models: dict[str, dict[str, Any]], seed: int = 0, base: float = 0.01) -> Gateway:
    """A Gateway whose registry holds exactly ``models``, with short retry waits."""
    return Gateway(ModelRegistry(models), seed=seed, backoff_base_s=base)


async def complete_all(gw: Gateway, requests: list[ChatRequest]) -> list[Any]:
    """Complete every request concurrently; exceptions are returned, not raised."""
    try:
        return await asyncio.gather(*(gw.complete(r) for r in requests), return_exceptions=True)
    finally:
        await gw.aclose()
