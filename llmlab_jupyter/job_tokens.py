"""Short-lived tokens that let one batch job act as its owner on the llmlab service.

In a team deployment a job's notebook holds no database URL and no key: it reaches the
service over HTTP with a token minted by the worker when it claims the job. The token names
the owner, the job and the attempt, expires with the attempt's time limit and is signed
(HMAC-SHA256) with the ``LLMLAB_TOKEN_SECRET`` the service and its workers share. The
service accepts it only while that attempt is the job's current, running one, so the token
is revoked the moment the job ends, is cancelled or is taken over by another attempt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass

from .exceptions import InvalidInput

#: every job token starts with this, so the service tells it from a JupyterHub token
PREFIX = "llmlab-job."
SECRET_ENV = "LLMLAB_TOKEN_SECRET"  # noqa: S105 - the variable's name
_MIN_SECRET = 32


@dataclass(frozen=True)
class JobToken:
    """What a valid job token says."""

    user: str
    job_id: int
    attempt: int
    expires_at: float


def secret_from_env(*, create: bool = False) -> bytes:
    """The signing secret from ``LLMLAB_TOKEN_SECRET``.

    ``create=True`` (a service whose workers are its own subprocesses) makes a random one
    for this process and its children when none is set; otherwise a missing or short secret
    is an error naming the variable (never its value).
    """
    value = os.environ.get(SECRET_ENV, "")
    if not value and create:
        value = os.environ[SECRET_ENV] = secrets.token_urlsafe(48)
    if len(value) < _MIN_SECRET:
        raise InvalidInput(
            f"{SECRET_ENV} must be set to a random string of at least {_MIN_SECRET} "
            "characters (the llmlab service and its workers share it to sign job tokens)",
            field=SECRET_ENV,
        )
    return value.encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())


def mint(secret: bytes, *, user: str, job_id: int, attempt: int, ttl_s: float) -> str:
    """A token for ``user`` valid for ``ttl_s`` seconds while attempt ``attempt`` runs."""
    body = {"u": user, "j": job_id, "a": attempt, "e": round(time.time() + ttl_s, 3)}
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{PREFIX}{payload}.{_sign(secret, payload)}"


def verify(secret: bytes, token: str, *, now: float | None = None) -> JobToken | None:
    """The claims of a well-signed, unexpired token; ``None`` for anything else."""
    if not token.startswith(PREFIX):
        return None
    payload, _, signature = token[len(PREFIX) :].partition(".")
    if not payload or not hmac.compare_digest(signature, _sign(secret, payload)):
        return None
    try:
        body = json.loads(_unb64(payload))
        claims = JobToken(str(body["u"]), int(body["j"]), int(body["a"]), float(body["e"]))
    except (ValueError, KeyError, TypeError):
        return None
    if claims.expires_at <= (time.time() if now is None else now):
        return None
    return claims
