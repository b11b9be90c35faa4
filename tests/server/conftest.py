"""Fixtures for the REST API: a Jupyter server (pytest-jupyter) with the extension enabled.

The server refuses unauthenticated access, runs under the percent-encoded base URL
``/a%40b/`` (pytest-jupyter's default) and identifies users by token
(``<name>-token`` -> ``<name>``), so roles can be tested. ``alice`` owns the default project.
Async tests run on pytest-jupyter's loop (never ``asyncio_mode=auto``: it breaks ``jp_fetch``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from jupyter_server.utils import url_path_join
from pytest_jupyter.jupyter_server import *  # noqa: F403  (fixtures and the async test runner)
from tornado.httpclient import HTTPResponse
from traitlets.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from llmlab_test_identity import UsersByToken


@pytest.fixture
def llmlab_workers() -> int:
    """Job worker processes the test server starts (the jobs tests override this)."""
    return 0


@pytest.fixture
def jp_server_config(database_url, tmp_path, llmlab_workers):
    return Config(
        {
            "ServerApp": {
                "jpserver_extensions": {"llmlab_jupyter": True, "jupyter_server_terminals": False},
                "allow_unauthenticated_access": False,
                "identity_provider_class": UsersByToken,
            },
            "LlmLabConfig": {
                "database_url": database_url,
                "data_dir": str(tmp_path / "data"),
                "worker_count": llmlab_workers,
            },
            "LlmLabApp": {"default_project_owner": "alice", "max_upload_bytes": 200_000},
        }
    )


@dataclass
class Reply:
    status: int
    body: Any
    response: HTTPResponse

    @property
    def json(self) -> Any:
        return self.body


Api = Callable[..., Awaitable[Reply]]


@pytest.fixture
def api(jp_serverapp, http_server_client, jp_base_url) -> Api:
    """``await api(method, "projects/default", user="alice", json=..., params=...)``.

    Paths are relative to ``<base_url>llmlab/api/``; ``user=None`` sends no credentials;
    ``raw=`` sends bytes. Never raises on error statuses.
    """

    async def call(
        method: str,
        path: str,
        *,
        user: str | None = "alice",
        json_body: Any = None,
        raw: bytes | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        prefix: str = "llmlab/api",
    ) -> Reply:
        url = url_path_join(jp_base_url, prefix, path)
        if params:
            url += "?" + urlencode(params)
        hdrs = dict(headers or {})
        if user is not None:
            hdrs.setdefault("Authorization", f"token {user}-token")
        body: bytes | None = raw
        if json_body is not None:
            body = json.dumps(json_body).encode()
        if body is None and method in ("POST", "PUT", "PATCH"):
            body = b""
        response = await http_server_client.fetch(
            url,
            method=method,
            body=body,
            headers=hdrs,
            raise_error=False,
            follow_redirects=False,
            allow_nonstandard_methods=True,
        )
        text = response.body.decode() if response.body else ""
        ctype = response.headers.get("Content-Type", "")
        parsed: Any = json.loads(text) if text and "json" in ctype else text
        return Reply(response.code, parsed, response)

    return call


def assert_error(reply: Reply, status: int, code: str | None = None) -> None:
    """``reply`` is a JSON error ``{"message", "error_code"}`` with ``status``."""
    assert reply.status == status, (reply.status, reply.body)
    assert isinstance(reply.body, dict), reply.body
    assert set(reply.body) <= {"message", "error_code", "field"}, reply.body
    assert isinstance(reply.body["message"], str) and reply.body["error_code"]
    assert "Traceback" not in reply.body["message"]
    if code is not None:
        assert reply.body["error_code"] == code, reply.body


def lose_probe_connections(probe: Any) -> None:
    """Close the generations probe's connections under it (the database went away)."""
    for conn in (probe._conn, getattr(probe._batched, "_conn", None)):
        if conn is not None:
            conn.close()
