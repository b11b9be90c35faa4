"""The model gateway: one way to call every model, with limits, retries and cost.

Quick use::

    from llmlab_jupyter.gateway import ChatRequest, Gateway

    gw = Gateway()
    done = gw.complete_sync(ChatRequest("fake/echo", [{"role": "user", "content": "hi"}]))
    done.text, done.cost_usd, done.attempts

Importing this package is cheap: :class:`Gateway`, :class:`ModelSpec` and
:class:`ModelRegistry` (which pull in aiohttp and pydantic) load on first access,
and litellm only when a litellm-backed model is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import ChatRequest, Completion, Provider

if TYPE_CHECKING:
    from .config import ModelRegistry, ModelSpec
    from .gateway import Gateway

__all__ = ["ChatRequest", "Completion", "Gateway", "ModelRegistry", "ModelSpec", "Provider"]

_LAZY = {"Gateway": ".gateway", "ModelRegistry": ".config", "ModelSpec": ".config"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
