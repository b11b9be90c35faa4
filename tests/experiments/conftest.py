"""Fixtures for experiment tests: a project with a prompt and a dataset, test servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from llmlab_jupyter.testing.openai_server import OpenAITestServer

ROWS = 40


@pytest.fixture
def make_server() -> Iterator[Callable[..., OpenAITestServer]]:
    servers: list[OpenAITestServer] = []

    def start(**options: Any) -> OpenAITestServer:
        server = OpenAITestServer(**options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def use_models(services, monkeypatch):
    """Replace the services' gateway with one that knows the given model entries."""
    from llmlab_jupyter.gateway.config import ModelRegistry
    from llmlab_jupyter.gateway.gateway import Gateway

    def configure(models: dict[str, dict[str, Any]], **gateway_options: Any) -> Gateway:
        gateway = Gateway(
            ModelRegistry(models),
            seed=1,
            backoff_base_s=0.01,
            backoff_max_s=0.05,
            **gateway_options,
        )
        services.__dict__["gateway"] = gateway
        return gateway

    return configure


@pytest.fixture
def news(lab):
    """Prompt ``summarize`` (v1, v2) and dataset ``news`` with ROWS rows."""
    lab.prompts.save(
        "summarize", [{"role": "user", "content": "Summarize: {{ article }}"}], model="fake/echo"
    )
    lab.prompts.save(
        "summarize", [{"role": "user", "content": "Short: {{ article }}"}], model="fake/echo"
    )
    rows = [
        {"article": f"story number {i}", "expected": f"Short: story number {i}"}
        for i in range(ROWS)
    ]
    return lab.datasets.import_("news", rows)
