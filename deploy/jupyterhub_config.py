# JupyterHub configuration for a team running llmlab (issue 12).
#
# ONE file for every deployment we ship: the tests on a real Hub (tests/hub/), the Compose
# stack and the hub image (`jupyterhub -f /srv/jupyterhub/jupyterhub_config.py`). Everything
# that differs between them comes from environment variables, listed here with defaults:
#
#   LLMLAB_HUB_SPAWNER        local (default) | docker       how user servers are started
#   LLMLAB_HUB_HOME           /home                          local: users' homes (<home>/<name>)
#   LLMLAB_SINGLEUSER_IMAGE   llmlab-jupyter-singleuser      docker: the user server image
#   LLMLAB_DOCKER_NETWORK     llmlab                         docker: network shared with the Hub
#   LLMLAB_SERVICE            managed (default) | external   who runs `llmlab serve`
#   LLMLAB_SERVICE_PORT       10101                          managed: the service's loopback port
#   LLMLAB_SERVICE_SECRETS    (empty)                        managed: extra variables passed to
#                                                            the service, e.g. OPENAI_API_KEY
#   LLMLAB_SERVICE_INTERNAL_URL  (required if external)      external: where the service listens
#   LLMLAB_SERVICE_API_TOKEN     (required if external)      external: its Hub API token
#   LLMLAB_HUB_DB_URL         sqlite:///jupyterhub.sqlite    the Hub's own database
#   LLMLAB_HUB_PASSWORD       (required, >= 8 chars)         shared password of regular users
#   LLMLAB_HUB_ADMIN_PASSWORD (empty: admins cannot log in)  shared password of admins (>= 32)
#   LLMLAB_HUB_USERS          (empty)                        allowed user names, comma-separated
#   LLMLAB_HUB_ADMINS         (empty)                        admin user names, comma-separated
#   LLMLAB_HUB_ADMIN_TOKEN    (empty)                        API token of an `llmlab-admin`
#                                                            service with the admin role, for
#                                                            provisioning scripts and tests
#   LLMLAB_HUB_IP             127.0.0.1 (docker: 0.0.0.0)    address of the public proxy
#   LLMLAB_HUB_PORT           8000                           public port (the proxy)
#   LLMLAB_HUB_API_PORT       8081                           the Hub's internal API port
#   LLMLAB_PROXY_API_PORT     8001                           the proxy's REST API port
#
# Secrets: the llmlab service alone holds the database URL, the S3 keys, the provider keys
# and the job-token key. The Hub passes them to the service (managed mode) and to nothing
# else; a user's server and kernels get their own Hub token and how to find the service,
# never a secret (a kernel can read everything its server holds).
# ruff: noqa: F821  (`c` and `get_config` are provided by JupyterHub when it loads this file)

import os
import shutil
import sys
from pathlib import Path

c = get_config()


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _names(name: str) -> set[str]:
    return {part.strip() for part in _env(name).split(",") if part.strip()}


SERVICE_NAME = "llmlab"

# -- network ---------------------------------------------------------------------------------
# The public proxy (configurable-http-proxy, `make hub-deps`) listens here; users, browsers
# and the Lab() SDK reach the Hub, every user server and the llmlab service through it.
_public_ip, _public_port = _env("LLMLAB_HUB_IP", "127.0.0.1"), _env("LLMLAB_HUB_PORT", "8000")
c.JupyterHub.bind_url = f"http://{_public_ip}:{_public_port}/"
# The Hub's own API (spawned servers and services call it here).
c.JupyterHub.hub_ip = _env("LLMLAB_HUB_INTERNAL_IP", "127.0.0.1")
c.JupyterHub.hub_port = int(_env("LLMLAB_HUB_API_PORT", "8081"))
# The proxy's REST API, used by the Hub to add and remove routes.
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{_env('LLMLAB_PROXY_API_PORT', '8001')}"
# Also stop the proxy when the Hub stops (the Hub starts it).
c.ConfigurableHTTPProxy.should_start = True
# The Hub's database (users, tokens, OAuth clients, shares): SQLite for one machine,
# PostgreSQL for a team (e.g. postgresql+psycopg://hub@db/jupyterhub).
c.JupyterHub.db_url = _env("LLMLAB_HUB_DB_URL", "sqlite:///jupyterhub.sqlite")
# The cookie secret and proxy token files live next to the Hub database by default; keep
# the Hub's working directory private.
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# -- who can log in --------------------------------------------------------------------------
# One shared password for regular users (JupyterHub's built-in shared-password authenticator;
# use your organisation's OAuthenticator instead for a real team). Only the listed users may
# log in; admins need LLMLAB_HUB_ADMIN_PASSWORD, which must differ and be >= 32 characters.
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = _env("LLMLAB_HUB_PASSWORD") or None
c.SharedPasswordAuthenticator.admin_password = _env("LLMLAB_HUB_ADMIN_PASSWORD") or None
c.Authenticator.allowed_users = _names("LLMLAB_HUB_USERS")
c.Authenticator.admin_users = _names("LLMLAB_HUB_ADMINS")

# -- roles and scopes ------------------------------------------------------------------------
# Every user: their own things ("self"), the llmlab service (call it and find its URL), and
# sharing their own servers with other users (POST /hub/api/shares/<user>/ {"user": "bob"};
# sharing in JupyterHub >= 5 is granted by the `shares` scope, there is no other switch;
# sharing with a user by name also needs `read:users:name`, i.e. seeing other users' names).
_roles = [
    {
        "name": "user",
        "description": "Every user: self, the llmlab service, sharing own servers",
        "scopes": [
            "self",
            f"access:services!service={SERVICE_NAME}",
            f"read:services!service={SERVICE_NAME}",
            "shares!user",
            "read:users:name",
        ],
    },
    {
        # The service turns a Hub token into a user name and groups (its project roles are
        # its own); it reads nothing else of the Hub.
        "name": "llmlab-service",
        "description": "The llmlab service: read user and group names",
        "scopes": ["read:users:name", "read:users:groups", "read:groups:name"],
        "services": [SERVICE_NAME],
    },
]

# The token each user server (and every kernel in it, as JUPYTERHUB_API_TOKEN) holds: report
# activity, its own server, and the llmlab service. Lab() in a kernel uses it to reach the
# service as that user; it cannot act on other users' servers or on the Hub's users.
c.Spawner.server_token_scopes = [
    "users:activity!user",
    "access:servers!server",
    f"access:services!service={SERVICE_NAME}",
    f"read:services!service={SERVICE_NAME}",
]
# The OAuth tokens a user server receives when someone logs in to it in a browser (its owner,
# or a user it is shared with) may also call the llmlab service: the server's remote mode
# forwards the sidebar's REST calls there with the caller's own token.
c.Spawner.oauth_client_allowed_scopes = [f"access:services!service={SERVICE_NAME}"]
# What user servers inherit from the Hub's environment: the minimum to find Python and the
# locale. Nothing of the service's environment (no LLMLAB_*, AWS_* or provider keys).
c.Spawner.env_keep = ["PATH", "PYTHONPATH", "VIRTUAL_ENV", "LANG", "LC_ALL"]
# Extra variables for user servers: none. The server and Lab() find the service by asking
# the Hub (GET $JUPYTERHUB_API_URL/services/llmlab); do not put secrets here.
c.Spawner.environment = {}
# Open JupyterLab.
c.Spawner.default_url = "/lab"
# Spawning and first start of a server can be slow on a busy machine.
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 90

# -- how user servers are started ------------------------------------------------------------
SPAWNER = _env("LLMLAB_HUB_SPAWNER", "local")
if SPAWNER == "local":
    # Every user server is a local process of the Hub's OS user, with its own home directory
    # (<LLMLAB_HUB_HOME>/<name>, created on first start). For one trusted machine and the
    # tests; users who must not read each other's processes need the docker spawner.
    c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
    _home = Path(_env("LLMLAB_HUB_HOME", "/home"))
    c.SimpleLocalProcessSpawner.home_dir_template = str(_home / "{username}")
    if os.geteuid() == 0:
        # jupyter-server refuses to run as root without it (containers often run as root)
        c.Spawner.args = ["--allow-root"]
elif SPAWNER == "docker":
    # Every user server is a container of LLMLAB_SINGLEUSER_IMAGE on LLMLAB_DOCKER_NETWORK
    # (the Hub's network), removed when it stops; the user's files live in a named volume.
    import dockerspawner  # only needed (and installed) for this branch

    c.JupyterHub.spawner_class = dockerspawner.DockerSpawner
    c.DockerSpawner.image = _env("LLMLAB_SINGLEUSER_IMAGE", "llmlab-jupyter-singleuser")
    c.DockerSpawner.network_name = _env("LLMLAB_DOCKER_NETWORK", "llmlab")
    c.DockerSpawner.use_internal_ip = True
    c.DockerSpawner.remove = True
    c.DockerSpawner.notebook_dir = "/home/jovyan/work"
    c.DockerSpawner.volumes = {"llmlab-user-{username}": "/home/jovyan/work"}
    # Containers reach the Hub by its container name, not loopback; in a container the proxy
    # listens on every interface of the container (publish only its port).
    c.JupyterHub.hub_ip = "0.0.0.0"  # noqa: S104 (inside the Compose network only)
    _public_ip = _env("LLMLAB_HUB_IP", "0.0.0.0")  # noqa: S104
    c.JupyterHub.bind_url = f"http://{_public_ip}:{_public_port}/"
    c.JupyterHub.hub_connect_ip = _env("LLMLAB_HUB_CONNECT_IP", "hub")
else:
    raise ValueError(f"LLMLAB_HUB_SPAWNER must be 'local' or 'docker', not {SPAWNER!r}")

# -- the llmlab service ----------------------------------------------------------------------
# Served under /services/llmlab/ through the proxy; callers authenticate with their own Hub
# token (`Authorization: token ...`), which must carry access:services!service=llmlab.
_PASSED_TO_SERVICE = ("PATH", "LITELLM_LOCAL_MODEL_COST_MAP", "JUPYTER_CONFIG_DIR", "HOME")
# The Hub's own settings (its passwords, the admin token) are not the service's business.
_NOT_PASSED = ("LLMLAB_HUB_", "LLMLAB_SERVICE_API_TOKEN")


def _service_environment() -> dict[str, str]:
    """The service's environment: LLMLAB_* and AWS_* variables, LLMLAB_SERVICE_SECRETS, PATH, ...

    Everything else of the Hub's environment stays out (JupyterHub adds the service's own
    JUPYTERHUB_* variables and its env_keep list: PATH, PYTHONPATH, VIRTUAL_ENV, LANG, ...).
    """
    wanted = set(_PASSED_TO_SERVICE) | _names("LLMLAB_SERVICE_SECRETS")
    env = {}
    for name, value in os.environ.items():
        prefixed = name.startswith(("LLMLAB_", "AWS_")) and not name.startswith(_NOT_PASSED)
        if prefixed or name in wanted:
            env[name] = value
    return env


def _service_command() -> list[str]:
    """`llmlab serve` of this Python (the console script next to it, else `python -m`)."""
    script = Path(sys.executable).parent / "llmlab"
    if script.exists():
        return [str(script), "serve"]
    found = shutil.which("llmlab")
    if found:
        return [found, "serve"]
    return [sys.executable, "-m", "llmlab_jupyter.cli", "serve"]


MODE = _env("LLMLAB_SERVICE", "managed")
if MODE == "managed":
    # The Hub starts `llmlab serve` itself, restarts it if it dies, and gives it its API
    # token and JUPYTERHUB_SERVICE_URL (where to listen: loopback only).
    _service = {
        "name": SERVICE_NAME,
        "url": f"http://127.0.0.1:{_env('LLMLAB_SERVICE_PORT', '10101')}",
        "command": _service_command(),
        "environment": _service_environment(),
        # users reach it with their tokens; it needs no OAuth login page of its own
        "oauth_no_confirm": True,
        "display": False,
    }
elif MODE == "external":
    # The service runs elsewhere (its own container with the secrets); the Hub only proxies
    # to it and knows its API token (`openssl rand -hex 32`, given to both sides).
    _url, _token = _env("LLMLAB_SERVICE_INTERNAL_URL"), _env("LLMLAB_SERVICE_API_TOKEN")
    if not _url or not _token:
        raise ValueError(
            "LLMLAB_SERVICE=external needs LLMLAB_SERVICE_INTERNAL_URL and LLMLAB_SERVICE_API_TOKEN"
        )
    _service = {
        "name": SERVICE_NAME,
        "url": _url,
        "api_token": _token,
        "oauth_no_confirm": True,
        "display": False,
    }
else:
    raise ValueError(f"LLMLAB_SERVICE must be 'managed' or 'external', not {MODE!r}")

_services = [_service]

# An optional API token with the admin role, for provisioning scripts (create users and
# tokens, start servers) and for the tests; leave LLMLAB_HUB_ADMIN_TOKEN unset otherwise.
_admin_token = _env("LLMLAB_HUB_ADMIN_TOKEN")
if _admin_token:
    _services.append({"name": "llmlab-admin", "api_token": _admin_token})
    _roles.append({"name": "admin", "services": ["llmlab-admin"]})

c.JupyterHub.services = _services
c.JupyterHub.load_roles = _roles
