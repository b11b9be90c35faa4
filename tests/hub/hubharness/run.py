"""What the Hub tests share (the session's :class:`HubRun`) and its fixed settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from llmlab_jupyter.testing.openai_server import OpenAITestServer

from .hub import Hub
from .postgres import PrivatePostgres
from .s3 import MotoS3

TOKEN_CACHE_S = 5  # how long the service trusts a checked Hub token (LLMLAB_TOKEN_CACHE_S)
PROVIDER_KEY_ENV = "TESTPROVIDER_API_KEY"
MODEL = "testprov/echo"  # the provider test server, through the service's models file


@dataclass
class HubRun:
    """Everything the Hub tests share."""

    hub: Hub
    pg: PrivatePostgres
    s3: MotoS3
    provider: OpenAITestServer
    canaries: dict[str, str]
    base: Path
    logs: Path
    tokens: dict[str, str]
    token_ids: dict[str, str]
