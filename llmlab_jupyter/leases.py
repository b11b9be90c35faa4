"""Leases held by runners and workers: who holds one, and whether that holder is gone."""

from __future__ import annotations

import os
import socket
import uuid


def runner_identity() -> str:
    """``host:pid:random``: unique per runner, and tells whether its process still lives."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_dead(runner_id: str | None) -> bool:
    """True when the runner id names a process on this host that no longer exists."""
    if not runner_id:
        return True
    host, _, rest = runner_id.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
