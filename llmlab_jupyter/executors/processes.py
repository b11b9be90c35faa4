"""The processes of a job attempt: finding them by the job token, and tying them to their parent.

Every process of an attempt (runner and kernel) carries the job token in its environment, so a
worker can kill the whole tree even after a restart; children die with the worker that
started them (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import os
import signal

TOKEN_ENV = "LLMLAB_JOB_TOKEN"  # noqa: S105 - the name of a variable, not a secret


def kill_job_processes(token: str) -> int:
    """SIGKILL every process of this host whose environment carries the job ``token``."""
    import psutil

    killed = 0
    me = os.getpid()
    for proc in psutil.process_iter(["pid"]):
        if proc.pid == me:
            continue
        try:
            if proc.environ().get(TOKEN_ENV) == token:
                proc.kill()
                killed += 1
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return killed


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
