"""Alert webhooks: check the URL, resolve its host once, and POST to exactly that address.

Checking a host name and then letting an HTTP client resolve it again leaves a DNS-rebinding
window: the second answer can point at ``127.0.0.1`` or a cloud metadata address. Here the
name is resolved once (:func:`resolve_webhook`), every address of the answer is checked, and
the request connects to one of those checked addresses (:func:`post_webhook`). The ``Host``
header names the original host and, for ``https``, so do SNI and certificate verification.
Redirects are never followed: a 3xx answer is reported as a failure.

``resolver`` is the seam for tests: a function ``(host, port) -> [ip, ...]``.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..exceptions import InvalidInput

log = logging.getLogger(__name__)

#: ``(host, port) -> IP addresses`` (as strings) of ``host``.
Resolver = Callable[[str, int], Sequence[str]]
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of ``host`` from the operating system's resolver (``getaddrinfo``)."""
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class WebhookTarget:
    """A checked webhook URL and the addresses its host resolved to (the only ones used)."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[Address, ...]


def check_webhook_url(url: Any) -> tuple[str, str, int, str]:
    """``(scheme, host, port, path)`` of an http(s) URL without credentials; no DNS."""
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("webhook_url must be an http or https URL", field="webhook_url")
    if parts.username or parts.password:
        raise InvalidInput("webhook_url must not contain credentials", field="webhook_url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as err:
        raise InvalidInput("webhook_url has an invalid port", field="webhook_url") from err
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, path


def is_public(address: Address) -> bool:
    """Whether ``address`` is a global unicast address (not private, loopback, link-local —
    which covers the 169.254.169.254 metadata service — reserved or multicast)."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_global and not address.is_multicast


def resolve_webhook(
    url: Any, *, allow_private: bool, resolver: Resolver = system_resolver
) -> WebhookTarget:
    """Check ``url`` and resolve its host once; with ``allow_private`` off, every address
    must be public. Raises :class:`InvalidInput` (``field="webhook_url"``) otherwise."""
    scheme, host, port, path = check_webhook_url(url)
    try:
        answers = list(resolver(host, port))
    except (OSError, UnicodeError) as err:
        raise InvalidInput(f"webhook host {host!r} does not resolve", field="webhook_url") from err
    addresses: list[Address] = []
    for answer in answers:
        try:
            address = ipaddress.ip_address(str(answer).split("%")[0])
        except ValueError as err:
            raise InvalidInput(
                f"webhook host {host!r} resolved to {answer!r}, not an IP address",
                field="webhook_url",
            ) from err
        if not allow_private and not is_public(address):
            raise InvalidInput(
                f"webhook host {host!r} resolves to a non-public address ({address}); "
                "set webhook_allow_private to allow it",
                field="webhook_url",
            )
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise InvalidInput(f"webhook host {host!r} does not resolve", field="webhook_url")
    return WebhookTarget(str(url), scheme, host, port, path, tuple(addresses))


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to ``address`` that names ``host`` in Host, SNI and the
    certificate check; it never resolves ``host``."""

    def __init__(
        self,
        target: WebhookTarget,
        address: Address,
        *,
        timeout: float,
        context: ssl.SSLContext | None,
    ) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = address
        self.tls = target.scheme == "https"
        self.context = context or ssl.create_default_context()
        if self.tls:
            self.default_port = 443  # Host header: no ":443"

    def connect(self) -> None:
        sock = socket.create_connection((str(self.address), self.port), self.timeout)
        if self.tls:
            sock = self.context.wrap_socket(sock, server_hostname=self.host)
        self.sock = sock


def post_webhook(
    url: str,
    body: bytes,
    *,
    allow_private: bool,
    resolver: Resolver = system_resolver,
    timeout: float = 5.0,
    context: ssl.SSLContext | None = None,
) -> str:
    """POST ``body`` (JSON) to ``url`` through the addresses checked by :func:`resolve_webhook`;
    returns a short status (``sent: HTTP 204``, ``failed: …``, ``refused: …``), never raises for
    network errors. ``context``: TLS settings for https (default: the system's trust store)."""
    try:
        target = resolve_webhook(url, allow_private=allow_private, resolver=resolver)
    except InvalidInput as err:
        return f"refused: {err.message}"[:200]
    error: OSError | http.client.HTTPException | None = None
    for address in target.addresses:
        conn = _PinnedConnection(target, address, timeout=timeout, context=context)
        try:
            conn.request(
                "POST",
                target.path,
                body=body,
                headers={"Content-Type": "application/json", "User-Agent": "llmlab-jupyter"},
            )
            status = conn.getresponse().status
        except OSError as err:  # refused, unreachable, timeout, TLS: try the next address
            error = err
            continue
        except http.client.HTTPException as err:  # the server answered nonsense
            error = err
            break
        finally:
            conn.close()
        if 200 <= status < 300:
            return f"sent: HTTP {status}"
        return f"failed: HTTP {status}" + (
            " (redirect not followed)" if 300 <= status < 400 else ""
        )
    log.warning("alert webhook to %s failed: %s", target.host, error)
    return f"failed: {error}"[:200]
