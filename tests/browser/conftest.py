"""Browser tests: a real ``jupyter lab`` subprocess driven by Debian's Chromium.

The ``lab`` fixture starts JupyterLab once per session on a free port with a fresh SQLite
database (``LLMLAB_DATABASE_URL``), token authentication, ``--allow-root``, and a private
``JUPYTER_CONFIG_DIR`` that enables the server extension and disables the announcements
plugin (its news toast covers screenshots). The extension under test is the repository's
build (``llmlab_jupyter/labextension``), put first on ``JUPYTER_PATH``, so an older copy
installed in the environment cannot shadow it.

Chromium is ``/usr/bin/chromium`` (``apt-get install chromium``; never ``playwright
install``), or ``LLMLAB_CHROMIUM``. Without it, or without a built extension, the tests are
skipped with the reason, except under ``CI=true`` where that is a failure.

Screenshots go to ``tests/screenshots/*.tmp.png`` (ignored by git); with
``LLMLAB_UPDATE_SCREENSHOTS=1`` they replace the committed ones in ``docs/screenshots/``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from llmlab_jupyter.testing.browser import CHROMIUM, CHROMIUM_ARGS

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lab_page import LabPage

REPO = Path(__file__).resolve().parents[2]
BUILT_EXTENSION = REPO / "llmlab_jupyter" / "labextension"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
UPDATE_SCREENSHOTS = os.environ.get("LLMLAB_UPDATE_SCREENSHOTS", "") == "1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing browser prerequisite is a failure)")
    pytest.skip(reason)


# pytest-jupyter's autouse fixtures (when another conftest star-imports them) close the
# asyncio loop and clean up a ServerApp singleton around every test; Playwright's sync API
# owns its own loop, so here they are no-ops.
@pytest.fixture
def jp_asyncio_loop() -> Iterator[None]:
    yield None


@pytest.fixture
def jp_server_cleanup() -> Iterator[None]:
    yield None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        _missing(
            f"Chromium not found at {CHROMIUM}: `apt-get install -y chromium` "
            "(or set LLMLAB_CHROMIUM)"
        )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1400, "height": 900}}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LabServer:
    url: str  # ends with "/"
    token: str
    database_url: str
    data_dir: Path
    root_dir: Path
    log: Path

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """Call the REST API as the server's user (for setting up test data)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}llmlab/api/{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as reply:
            text = reply.read()
        return json.loads(text) if text else None


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    if not (BUILT_EXTENSION / "package.json").exists():
        _missing(
            "the JupyterLab extension is not built: `cd labextension && jlpm install && jlpm build`"
        )
    if not Path(CHROMIUM).exists():
        _missing(f"Chromium not found at {CHROMIUM}: `apt-get install -y chromium`")

    base = tmp_path_factory.mktemp("lab")
    config_dir = base / "config"
    (config_dir / "labconfig").mkdir(parents=True)
    (config_dir / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    (config_dir / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"llmlab_jupyter": True}}})
    )
    jupyter_path = base / "share"
    (jupyter_path / "labextensions").mkdir(parents=True)
    (jupyter_path / "labextensions" / "llmlab-jupyter").symlink_to(BUILT_EXTENSION)
    data_dir = base / "llmlab-data"
    data_dir.mkdir()
    root_dir = base / "notebooks"
    root_dir.mkdir()
    database_url = f"sqlite:///{base / 'llmlab.db'}"
    token = "llmlab-browser-test-token"
    port = _free_port()
    log = base / "jupyter.log"

    env = {
        **os.environ,
        "LLMLAB_DATABASE_URL": database_url,
        "LLMLAB_DATA_DIR": str(data_dir),
        "JUPYTER_CONFIG_DIR": str(config_dir),
        "JUPYTER_PATH": str(jupyter_path),
        "JUPYTER_DATA_DIR": str(base / "jupyter-data"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "IPYTHONDIR": str(base / "ipython"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    env.pop("LLMLAB_PROJECT", None)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_ready(url, token, process, log)
        yield LabServer(url, token, database_url, data_dir, root_dir, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_ready(url: str, token: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    probe = urllib.request.Request(
        f"{url}llmlab/api/projects", headers={"Authorization": f"token {token}"}
    )
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(probe, timeout=5) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"jupyter lab did not answer within 90 s:\n{log.read_text()[-5000:]}")


@pytest.fixture
def lab_page(lab: LabServer, page: Any) -> LabPage:
    """A JupyterLab page, loaded and ready, with the LLM Lab sidebar open."""
    helper = LabPage(page, lab.url, lab.token, screenshot_dir=_screenshot_dir())
    helper.open()
    return helper


def _screenshot_dir() -> tuple[Path, str]:
    if UPDATE_SCREENSHOTS:
        return REPO / "docs" / "screenshots", ".png"
    return REPO / "tests" / "screenshots", ".tmp.png"


@pytest.fixture(scope="session", autouse=True)
def _tidy_screenshot_dir() -> Iterator[None]:
    directory, _ = _screenshot_dir()
    directory.mkdir(parents=True, exist_ok=True)
    yield
    if not UPDATE_SCREENSHOTS and not any(directory.iterdir()):
        shutil.rmtree(directory, ignore_errors=True)
