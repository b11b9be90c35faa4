"""deploy/healthcheck.py, the images' health check, against a real HTTP server."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .conftest import DEPLOY

SCRIPT = DEPLOY / "healthcheck.py"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = int(self.path.strip("/") or "200")
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def check(*args: str) -> int:
    return subprocess.run([sys.executable, str(SCRIPT), *args], timeout=30).returncode


@pytest.mark.parametrize(
    ("status", "strict_rc", "any_status_rc"),
    [(200, 0, 0), (403, 1, 0), (401, 1, 0), (500, 1, 1), (503, 1, 1)],
)
def test_status_decides_health(server_url: str, status: int, strict_rc: int, any_status_rc: int):
    assert check(f"{server_url}/{status}") == strict_rc
    assert check("--any-status", f"{server_url}/{status}") == any_status_rc


def test_no_answer_is_unhealthy() -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert check("--any-status", f"http://127.0.0.1:{port}/") == 1


def test_bad_usage_is_reported() -> None:
    assert check() == 2
    assert check("file:///etc/passwd") == 2
