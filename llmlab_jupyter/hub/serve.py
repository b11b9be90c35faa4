"""``llmlab serve``: the llmlab services as one JupyterHub service for a whole team.

The one process of a team deployment that holds the secrets (database URL, S3 credentials,
provider keys). It is a jupyter-server hosting only the llmlab server extension in service
mode: the same handlers, OpenAPI document and ``/llmlab/metrics`` as a single-user server,
under the service's Hub prefix (``/services/llmlab/``). Callers are identified by their Hub
token (:mod:`.identity`); nothing else jupyter-server can serve (kernels, files, terminals)
is reachable. It runs experiments in the background, the scheduler and the job executor;
jobs reach it back over HTTP with job tokens.

Where it listens comes from the variables the Hub sets for a managed service
(``JUPYTERHUB_SERVICE_URL``, ``JUPYTERHUB_SERVICE_PREFIX``, ``JUPYTERHUB_API_TOKEN``, ...);
an externally run service sets the same. Settings: ``llmlab_serve_config.py`` in a Jupyter
config directory (``c.LlmLabConfig.*``), the ``LLMLAB_*`` variables, or ``--Class.trait=``
arguments.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

from jupyter_server.serverapp import ServerApp

from .. import job_tokens
from ..exceptions import InvalidInput

EXTENSION = "llmlab_jupyter"
TOKEN_CACHE_ENV = "LLMLAB_TOKEN_CACHE_S"  # noqa: S105 - the variable's name


class LlmLabServiceApp(ServerApp):
    """A jupyter-server that serves the llmlab API and nothing else."""

    name = "llmlab-serve"
    description = "The llmlab services as a JupyterHub service (the only holder of secrets)."
    # the REST status/spec routes only: no kernels, contents, files, sessions, shutdown
    default_services = ("api", "auth", "security")  # type: ignore[assignment]

    def find_server_extensions(self) -> None:
        """Load llmlab alone, whatever other extensions the config directories enable."""
        self.jpserver_extensions = {EXTENSION: True}


def _address(
    env: dict[str, str] | os._Environ[str], ip: str | None, port: int | None
) -> tuple[str, int, str]:
    """Where the service binds and its base URL: the options, else the Hub's variables."""
    bind = urlsplit(env.get("JUPYTERHUB_SERVICE_URL") or "http://127.0.0.1:10101")
    prefix = env.get("JUPYTERHUB_SERVICE_PREFIX") or "/services/llmlab/"
    host = ip if ip is not None else bind.hostname or "127.0.0.1"
    return host, port if port is not None else bind.port or 10101, prefix


def service_arguments(
    env: dict[str, str] | os._Environ[str],
    *,
    ip: str | None = None,
    port: int | None = None,
    token_cache_s: int | None = None,
) -> list[str]:
    """The command-line settings that make a server the llmlab service (they take
    precedence over config files, so no file can turn the Hub identities off)."""
    if not env.get("JUPYTERHUB_API_TOKEN") or not env.get("JUPYTERHUB_API_URL"):
        raise InvalidInput(
            "llmlab serve runs as a JupyterHub service: JUPYTERHUB_API_URL and "
            "JUPYTERHUB_API_TOKEN must be set (the Hub sets them for a managed service)",
            field="JUPYTERHUB_API_TOKEN",
        )
    host, bound, prefix = _address(env, ip, port)
    cache = token_cache_s if token_cache_s is not None else env.get(TOKEN_CACHE_ENV, "60")
    here = "llmlab_jupyter.hub.identity"
    return [
        f"--ServerApp.ip={host}",
        f"--ServerApp.port={bound}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.base_url={prefix}",
        "--ServerApp.default_url=/llmlab/api/openapi.json",
        f"--ServerApp.identity_provider_class={here}.HubServiceIdentityProvider",
        f"--ServerApp.authorizer_class={here}.ServiceAuthorizer",
        f"--HubServiceIdentityProvider.token_cache_s={int(cache)}",
        "--ServerApp.open_browser=False",
        "--ServerApp.allow_remote_access=True",  # behind the Hub's proxy, Host varies
        "--ServerApp.trust_xheaders=True",
        "--LlmLabApp.mode=service",
    ]


def own_url(env: dict[str, str] | os._Environ[str], ip: str | None, port: int | None) -> str:
    """The loopback URL of this service (where its own jobs reach it)."""
    host, bound, prefix = _address(env, ip, port)
    if host in ("", "0.0.0.0", "::", "*"):  # noqa: S104 - reading, not binding
        host = "127.0.0.1"
    return f"http://{host}:{bound}{prefix}"


def serve(
    *,
    ip: str | None = None,
    port: int | None = None,
    token_cache_s: int | None = None,
    extra: list[str] | None = None,
) -> None:
    """Run the service until it is stopped (SIGTERM/SIGINT: background runs are
    interrupted and resume at the next start; running jobs go back to the queue)."""
    env = os.environ
    args = service_arguments(env, ip=ip, port=port, token_cache_s=token_cache_s)
    job_tokens.secret_from_env(create=True)  # shared with workers started from here
    if not env.get("LLMLAB_SERVICE_URL"):  # where this service's own jobs reach it
        env["LLMLAB_SERVICE_URL"] = own_url(env, ip, port)
    root = Path(env.get("LLMLAB_SERVE_ROOT") or Path.home() / ".llmlab-serve-root")
    root.mkdir(parents=True, exist_ok=True)  # an empty folder: the service serves no files
    args.append(f"--ServerApp.root_dir={root}")
    if os.geteuid() == 0:
        args.append("--ServerApp.allow_root=True")
    LlmLabServiceApp.launch_instance(argv=args + list(extra or []))


if __name__ == "__main__":  # pragma: no cover - `llmlab serve` is the entry point
    serve(extra=sys.argv[1:])
