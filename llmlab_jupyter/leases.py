"""Leases held by experiment runners and job workers: who holds one, and whether it is gone."""

from __future__ import annotations

import os
import socket
import uuid


def new_lease_token() -> str:
    """``host:pid:random``: unique per holder, and tells whether its process still lives."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def holder_is_dead(token: str | None) -> bool:
    """Whether the holder named by ``token`` is gone: no holder, or a process of this host
    that no longer exists (or is a zombie). Holders on other hosts are judged by heartbeat."""
    if not token:
        return True
    host, _, rest = token.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    import psutil

    try:
        return psutil.Process(int(pid_text)).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
