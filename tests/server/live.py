"""Start a real ``jupyter server`` with the extension in a subprocess (for the SDK over HTTP,
schemathesis and the benchmark)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OTHER_EXTENSIONS = ("jupyterlab", "notebook_shim", "jupyter_lsp", "jupyter_server_terminals")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(
    workdir: Path,
    database_url: str,
    *,
    token: str = "secret-token",
    base_url: str = "/",
    config: dict[str, Any] | None = None,
    timeout: float = 60.0,
) -> Iterator[str]:
    """Yield the server URL (with base_url, ending in ``/``) until the block ends."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf: dict[str, Any] = {
        "ServerApp": {
            "jpserver_extensions": {
                "llmlab_jupyter": True,
                **dict.fromkeys(OTHER_EXTENSIONS, False),
            },
            "allow_unauthenticated_access": False,
            "open_browser": False,
            "ip": "127.0.0.1",
            "port": port,
            "port_retries": 0,
            "base_url": base_url,
            "root_dir": str(workdir),
            "allow_root": True,
        },
        "IdentityProvider": {"token": token},
        "LlmLabConfig": {"database_url": database_url, "data_dir": str(workdir / "data")},
    }
    for section, values in (config or {}).items():
        conf.setdefault(section, {}).update(values)
    config_dir = workdir / "config"
    config_dir.mkdir(exist_ok=True)
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(conf))
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(config_dir),
        "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"),
        "JUPYTER_DATA_DIR": str(workdir / "jupyter-data"),
        "LLMLAB_DATA_DIR": str(workdir / "data"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    env.pop("LLMLAB_DATABASE_URL", None)
    log = (workdir / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            f"--config={config_dir / 'jupyter_server_config.json'}",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=str(workdir),
    )
    url = f"http://127.0.0.1:{port}{base_url}"
    try:
        _wait_ready(url, token, proc, workdir / "server.log", timeout)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _wait_ready(url: str, token: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    probe = urllib.request.Request(
        url + "llmlab/api/openapi.json", headers={"Authorization": f"token {token}"}
    )
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()[-3000:]}")
        if "llmlab_jupyter | extension failed loading" in log.read_text(errors="replace"):
            raise RuntimeError(f"the extension failed to load: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(probe, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not start in {timeout}s: {log.read_text()[-3000:]}")
