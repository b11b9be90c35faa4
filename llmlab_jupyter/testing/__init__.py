"""Test helpers that ship with the package (usable by downstream projects' tests too).

:class:`~llmlab_jupyter.testing.openai_server.OpenAITestServer` is an
OpenAI-compatible HTTP server with latency, error injection and request accounting.
"""

from __future__ import annotations

from typing import Any

__all__ = ["OpenAITestServer"]


def __getattr__(name: str) -> Any:
    if name == "OpenAITestServer":
        from .openai_server import OpenAITestServer

        return OpenAITestServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
