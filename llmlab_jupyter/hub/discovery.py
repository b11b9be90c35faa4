"""Finding the llmlab service from a per-user server, a kernel or a job.

In order: ``LLMLAB_SERVICE_URL`` when set; otherwise, inside a JupyterHub single-user
server or its kernels (``JUPYTERHUB_API_URL`` and ``JUPYTERHUB_API_TOKEN`` present), the
Hub's record of the service named ``LLMLAB_SERVICE_NAME`` (default ``llmlab``), whose
internal URL and prefix give the base under which ``llmlab/api/`` is served. Outside a Hub,
or on a Hub without the service, there is none: the embedded services are used.

Uses only the standard library: it runs in every kernel's ``Lab()``.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

from ..exceptions import ServiceUnavailable

SERVICE_URL_ENV = "LLMLAB_SERVICE_URL"
SERVICE_NAME_ENV = "LLMLAB_SERVICE_NAME"
DEFAULT_SERVICE_NAME = "llmlab"


@dataclass(frozen=True)
class ServiceLocation:
    """Where the service is, and the token this process calls it with (may be empty)."""

    url: str
    token: str
    source: str  # "env" | "hub"

    def __repr__(self) -> str:  # never show the token
        return f"ServiceLocation(url={self.url!r}, source={self.source!r})"


def service_token(env: Mapping[str, str]) -> str:
    """The token a process calls the service with: a job's own token, else its Hub token."""
    return env.get("LLMLAB_TOKEN") or env.get("JUPYTERHUB_API_TOKEN") or ""


def find_service(
    env: Mapping[str, str] | None = None, *, timeout: float = 5.0
) -> ServiceLocation | None:
    """The service this process should use, or ``None`` (no service: embedded mode).

    Raises :class:`ServiceUnavailable`, naming the Hub URL, when a Hub is present but
    cannot say whether the service exists.
    """
    env = os.environ if env is None else env
    explicit = env.get(SERVICE_URL_ENV, "").strip()
    if explicit:
        return ServiceLocation(_slash(explicit), service_token(env), "env")
    api, token = env.get("JUPYTERHUB_API_URL", ""), env.get("JUPYTERHUB_API_TOKEN", "")
    if not api or not token:
        return None
    if not api.startswith(("http://", "https://")):
        raise ServiceUnavailable(
            f"JUPYTERHUB_API_URL must be an http(s) URL; got {api!r}", field="JUPYTERHUB_API_URL"
        )
    name = env.get(SERVICE_NAME_ENV) or DEFAULT_SERVICE_NAME
    url = f"{api.rstrip('/')}/services/{name}"
    request = urllib.request.Request(  # noqa: S310 - an http(s) URL, checked above
        url, headers={"Authorization": f"token {token}", "Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310 - checked above
            model = json.loads(reply.read())
    except urllib.error.HTTPError as err:
        if err.code in (403, 404):  # no such service, or not one this user may use
            return None
        raise ServiceUnavailable(
            f"the JupyterHub API at {api} answered HTTP {err.code} when asked for the "
            f"{name!r} service",
            field=SERVICE_URL_ENV,
        ) from None
    except (OSError, ValueError) as err:
        reason = getattr(err, "reason", None) or type(err).__name__
        raise ServiceUnavailable(
            f"the JupyterHub API at {api} could not be reached to find the {name!r} "
            f"service ({reason})",
            field=SERVICE_URL_ENV,
        ) from None
    base = str(model.get("url") or "")
    if not base:  # a service without a URL serves no API
        return None
    prefix = str(model.get("prefix") or f"/services/{name}/")
    return ServiceLocation(_slash(base.rstrip("/") + "/" + prefix.lstrip("/")), token, "hub")


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
