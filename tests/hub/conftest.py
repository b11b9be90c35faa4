"""Tests on a REAL JupyterHub: the Hub, its proxy, the managed ``llmlab serve`` service,
user servers in remote mode, a private PostgreSQL with a password, moto S3 with IAM auth
and the OpenAI-compatible test server with an API key — all on loopback, on free ports,
under one temporary directory, started once per session and torn down at its end.

Three CANARIES are the secrets only the service may hold: the PostgreSQL password, the S3
secret access key and the provider key. ``test_isolation`` proves a user's kernel cannot
use them, ``test_canary`` (run last) that they appear in no log, row, object or response.

Prerequisites (``make hub-deps`` and the ``hub``/``dev`` extras): jupyterhub,
configurable-http-proxy in ``deploy/proxy``, PostgreSQL's ``initdb``, moto. A missing one
skips these tests locally and fails them under ``CI=true``. Select them with ``-m hub``.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hubharness.hub import PROXY_BIN, REPO, USERS, Hub, start_hub
from hubharness.kernel import Kernel
from hubharness.postgres import PrivatePostgres, find_bin
from hubharness.procs import run
from hubharness.run import MODEL, PROVIDER_KEY_ENV, TOKEN_CACHE_S, HubRun
from hubharness.s3 import BUCKET, REGION, MotoS3
from hubharness.seed import Seeded, seed_alice

from llmlab_jupyter.testing.openai_server import OpenAITestServer
from llmlab_jupyter.testing.services import require_service

HERE = Path(__file__).resolve().parent

# the order the Hub tests run in: the browser after the others (Playwright's sync API
# breaks asyncio suites that follow it), the canary sweep last of all
_LAST = ("test_browser_on_hub.py", "test_canary.py")


def pytest_itemcollected(item: pytest.Item) -> None:
    path = Path(str(item.fspath)).resolve()
    if HERE in path.parents:
        item.add_marker(pytest.mark.hub)
        if path.name == "test_browser_on_hub.py":
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = Path(str(item.fspath)).resolve()
        if HERE not in path.parents:
            return 2 if "tests/browser/" in item.nodeid else 0
        return 3 + _LAST.index(path.name) if path.name in _LAST else 1

    items.sort(key=rank)


def _check_prerequisites() -> None:
    if importlib.util.find_spec("jupyterhub") is None:
        require_service("jupyterhub", "pip install 'llmlab-jupyter[hub]'")
    if not (PROXY_BIN / "configurable-http-proxy").exists():
        require_service("configurable-http-proxy", "run `make hub-deps` (npm ci in deploy/proxy)")
    if find_bin("initdb") is None or find_bin("pg_ctl") is None:
        require_service("PostgreSQL's initdb", "apt-get install postgresql")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        require_service("runuser", "needed to run initdb as the postgres user when root")
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("boto3") is None:
        require_service("moto", "pip install 'moto[server]' boto3 (the dev extra)")


def _models_file(base: Path, provider: OpenAITestServer) -> Path:
    path = base / "service-config" / "models.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "models:\n"
        f"  {MODEL}:\n"
        "    provider: openai\n"
        f"    base_url: {provider.url}\n"
        f"    api_key_env: {PROVIDER_KEY_ENV}\n"
        "    input_cost_per_million: 0.5\n"
        "    output_cost_per_million: 1.5\n"
    )
    return path


@pytest.fixture(scope="session")
def hub_run() -> Iterator[HubRun]:
    _check_prerequisites()
    base = Path(tempfile.mkdtemp(prefix="llmlab-hub-"))
    logs = base / "logs"
    logs.mkdir()
    started: list[object] = []
    pg = PrivatePostgres()
    s3 = MotoS3(logs / "moto.log")
    provider_key = "sk-provider-canary-" + secrets.token_hex(12)
    provider = OpenAITestServer(api_key=provider_key)
    hub: Hub | None = None
    try:
        pg.start()
        started.append(pg)
        venv_bin = Path(sys.executable).parent
        upgrade_env = {
            "PATH": f"{venv_bin}:/usr/bin:/bin",
            "PYTHONPATH": str(REPO),
            "HOME": str(base),
            "LLMLAB_DATABASE_URL": pg.url,
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
        done = run([str(venv_bin / "llmlab"), "db", "upgrade"], env=upgrade_env)
        (logs / "db-upgrade.log").write_text(done.stdout + done.stderr)
        s3.start()
        started.append(s3)
        provider.start()
        started.append(provider)
        secrets_env = {
            "LLMLAB_DATABASE_URL": pg.url,
            "LLMLAB_ARTIFACTS_URL": f"s3://{BUCKET}/llmlab",
            "LLMLAB_S3_ENDPOINT_URL": s3.url,
            "AWS_ACCESS_KEY_ID": s3.access_key_id,
            "AWS_SECRET_ACCESS_KEY": s3.secret_access_key,
            "AWS_DEFAULT_REGION": REGION,
            "LLMLAB_MODELS_FILE": str(_models_file(base, provider)),
            "LLMLAB_SERVICE_SECRETS": PROVIDER_KEY_ENV,
            PROVIDER_KEY_ENV: provider_key,
            "LLMLAB_TOKEN_SECRET": secrets.token_hex(32),
            "LLMLAB_DATA_DIR": str(base / "service-data"),
        }
        hub = start_hub(base, logs, secrets_env, TOKEN_CACHE_S)
        tokens: dict[str, str] = {}
        token_ids: dict[str, str] = {}
        for user in USERS:
            tokens[user], token_ids[user] = hub.new_token(user)
        canaries = {
            "postgres password": pg.password,
            "S3 secret key": s3.secret_access_key,
            "provider key": provider_key,
        }
        yield HubRun(hub, pg, s3, provider, canaries, base, logs, tokens, token_ids)
    finally:
        if hub is not None:
            hub.proc.stop()
            hub.client.close()
        if provider in started:
            provider.stop()
        s3.stop()
        if pg.log.exists():
            shutil.copy(pg.log, logs / "postgres.log")
        pg.stop()
        if os.environ.get("LLMLAB_KEEP_HUB_RUN"):
            print(f"hub run kept in {base}")  # logs of every process, for debugging
        else:
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def user_servers(hub_run: HubRun) -> HubRun:
    """alice's and bob's servers, started (once) and answering."""
    for user in USERS:
        hub_run.hub.spawn(user)
    return hub_run


@pytest.fixture
def bob_kernel(user_servers: HubRun) -> Iterator[Kernel]:
    kernel = Kernel(user_servers.hub, "bob", user_servers.tokens["bob"])
    yield kernel
    kernel.close()


@pytest.fixture(scope="session")
def alice_work(hub_run: HubRun) -> Seeded:
    """alice's prompt, dataset, experiment, job and schedule in her project (made once)."""
    return seed_alice(hub_run.hub, hub_run.tokens["alice"], MODEL)
