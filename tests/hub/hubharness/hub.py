"""JupyterHub as a subprocess (``jupyterhub -f deploy/jupyterhub_config.py``) and a client
that keeps every response body the tests receive (the canary test searches them)."""

from __future__ import annotations

import json
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from .procs import Proc, free_port, wait_until

REPO = Path(__file__).resolve().parents[3]
CONFIG = REPO / "deploy" / "jupyterhub_config.py"
PROXY_BIN = REPO / "deploy" / "proxy" / "node_modules" / ".bin"
USERS = ("alice", "bob")


@dataclass
class Recorded:
    method: str
    url: str
    status: int
    body: str


@dataclass
class HubClient:
    """httpx against the Hub's public URL; ``token`` per call; every body is recorded."""

    url: str  # ends with "/"
    responses: list[Recorded] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.url, timeout=60, trust_env=False)

    def call(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if token:
            headers["Authorization"] = f"token {token}"
        reply = self.http.request(method, path.lstrip("/"), headers=headers, **kwargs)
        self.record(method, str(reply.url), reply.status_code, reply.text)
        return reply

    def record(self, method: str, url: str, status: int, body: str) -> None:
        self.responses.append(Recorded(method, url, status, body))

    def json(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        reply = self.call(method, path, token, **kwargs)
        if reply.status_code >= 400:
            raise AssertionError(f"{method} {path}: HTTP {reply.status_code} {reply.text[:500]}")
        return reply.json() if reply.content else None

    def close(self) -> None:
        self.http.close()


@dataclass
class Hub:
    """A running Hub: its URL, the admin API token, logs and the llmlab service's URL."""

    proc: Proc
    url: str
    admin_token: str
    password: str
    client: HubClient
    base: Path
    token_cache_s: int
    service_url: str = ""

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.client.json(method, f"hub/api/{path.lstrip('/')}", self.admin_token, **kwargs)

    def new_token(self, user: str, note: str = "hub tests") -> tuple[str, str]:
        """A fresh API token of ``user`` (same permissions as the user): (token, token id)."""
        reply = self.admin("POST", f"users/{user}/tokens", json={"note": note})
        return reply["token"], reply["id"]

    def revoke(self, user: str, token_id: str) -> None:
        reply = self.client.call(
            "DELETE", f"hub/api/users/{user}/tokens/{token_id}", self.admin_token
        )
        assert reply.status_code == 204, reply.text

    def spawn(self, user: str, timeout: float = 120) -> None:
        """Start ``user``'s server and wait until it answers through the proxy."""
        reply = self.client.call("POST", f"hub/api/users/{user}/server", self.admin_token)
        assert reply.status_code in (201, 202, 400), reply.text  # 400: already running

        def ready() -> bool:
            model = self.admin("GET", f"users/{user}")
            return bool((model.get("servers") or {}).get("", {}).get("ready"))

        wait_until(ready, timeout=timeout, what=f"{user}'s server", proc=self.proc, interval=0.5)

    def llmlab(self, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        """A call to the llmlab service's REST API through the proxy."""
        return self.client.call(method, f"services/llmlab/llmlab/api/{path}", token, **kwargs)


def hub_environment(base: Path, ports: dict[str, int], extra: dict[str, str]) -> dict[str, str]:
    """What the Hub's process gets: the Hub's own settings, plus the service's secrets."""
    venv_bin = Path(sys.executable).parent
    env = {
        "PATH": f"{PROXY_BIN}:{venv_bin}:/usr/local/bin:/usr/bin:/bin",
        "PYTHONPATH": str(REPO),  # this checkout's code in every process (the venv is main's)
        "HOME": str(base / "hub-home"),
        "LANG": "C.UTF-8",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "JUPYTER_CONFIG_DIR": str(base / "service-config"),
        "LLMLAB_HUB_SPAWNER": "local",
        "LLMLAB_HUB_HOME": str(base / "home"),
        "LLMLAB_HUB_DB_URL": f"sqlite:///{base / 'jupyterhub.sqlite'}",
        "LLMLAB_HUB_USERS": ",".join(USERS),
        "LLMLAB_HUB_PORT": str(ports["public"]),
        "LLMLAB_HUB_API_PORT": str(ports["hub"]),
        "LLMLAB_PROXY_API_PORT": str(ports["proxy_api"]),
        "LLMLAB_SERVICE": "managed",
        "LLMLAB_SERVICE_PORT": str(ports["service"]),
        **extra,
    }
    for folder in ("hub-home", "service-config", "home"):
        (base / folder).mkdir(parents=True, exist_ok=True)
    return env


def prepare_homes(base: Path) -> None:
    """Each user's ~/.jupyter as a new user's would be, minus JupyterLab's news toast."""
    for user in USERS:
        labconfig = base / "home" / user / ".jupyter" / "labconfig"
        labconfig.mkdir(parents=True, exist_ok=True)
        (labconfig / "page_config.json").write_text(
            json.dumps(
                {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
            )
        )


def start_hub(base: Path, logs: Path, secrets_env: dict[str, str], token_cache_s: int) -> Hub:
    """Start the Hub (which starts the proxy and the managed llmlab service) and wait."""
    ports = {name: free_port() for name in ("public", "hub", "proxy_api", "service")}
    admin_token = secrets.token_hex(24)
    password = "hub-pass-" + secrets.token_hex(6)
    extra = {
        **secrets_env,
        "LLMLAB_HUB_PASSWORD": password,
        "LLMLAB_HUB_ADMIN_TOKEN": admin_token,
        "LLMLAB_TOKEN_CACHE_S": str(token_cache_s),
    }
    env = hub_environment(base, ports, extra)
    prepare_homes(base)
    command = [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(CONFIG)]
    proc = Proc("jupyterhub", command, env=env, log=logs / "jupyterhub.log", cwd=base)
    url = f"http://127.0.0.1:{ports['public']}/"
    hub = Hub(proc, url, admin_token, password, HubClient(url), base, token_cache_s)
    started = time.monotonic()

    def answering() -> bool:
        # the Hub adds its own route only after its managed services answer
        reply = hub.client.http.get("hub/api/services/llmlab", headers=_auth(admin_token))
        return reply.status_code == 200 and bool(reply.json().get("url"))

    try:
        wait_until(answering, timeout=120, what="JupyterHub and the llmlab service", proc=proc)
    except BaseException:
        proc.stop()
        raise
    hub.service_url = f"{url}services/llmlab/"
    print(f"hub up in {time.monotonic() - started:.1f} s at {url}")
    return hub


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"token {token}"}
