"""Fixtures for the gateway tests: OpenAI-compatible test servers and API keys."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
# Make gateway_helpers importable by the test modules whatever pytest's import mode.
sys.path.insert(0, str(Path(__file__).parent))

from gateway_helpers import KEY_A, KEY_B

from llmlab_jupyter.testing.openai_server import OpenAITestServer


@pytest.fixture
def make_server() -> Iterator[Callable[..., OpenAITestServer]]:
    """Start test servers with the given options; all are stopped after the test."""
    servers: list[OpenAITestServer] = []

    def start(**options: Any) -> OpenAITestServer:
        server = OpenAITestServer(**options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(make_server: Callable[..., OpenAITestServer]) -> OpenAITestServer:
    """One test server with no latency and no injected errors."""
    return make_server()


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Two API keys in the environment, as ``KEY_A`` and ``KEY_B``."""
    monkeypatch.setenv("LLMLAB_TEST_KEY_A", KEY_A)
    monkeypatch.setenv("LLMLAB_TEST_KEY_B", KEY_B)
    return {"LLMLAB_TEST_KEY_A": KEY_A, "LLMLAB_TEST_KEY_B": KEY_B}
