"""Child processes of the harness: free ports, process groups, waiting, clean teardown.

Every process runs in its own session (process group) with its output in a log file. The
Hub starts the proxy, the llmlab service and user servers in sessions of their own, so
:meth:`Proc.stop` first records every descendant, then stops the group and, after a grace
period, kills whatever descendant is left: nothing outlives the test session.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psutil


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Proc:
    """A child process in its own session, with stdout+stderr in ``log``."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: dict[str, str],
        log: Path,
        cwd: Path | None = None,
    ) -> None:
        self.name, self.log = name, log
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            self.popen = subprocess.Popen(
                list(command),
                env=env,
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM the group (the Hub then stops its children), then kill any survivor."""
        try:
            family = psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            family = []
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)
        _, left = psutil.wait_procs(family, timeout=grace)
        for child in left:
            with contextlib.suppress(psutil.Error, ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGKILL)
            with contextlib.suppress(psutil.Error):
                child.kill()
        psutil.wait_procs(left, timeout=5)


def wait_until(
    check: Callable[[], Any],
    *,
    timeout: float,
    what: str,
    proc: Proc | None = None,
    interval: float = 0.2,
) -> Any:
    """Call ``check`` until it returns a truthy value (exceptions count as not yet)."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{proc.name} exited ({proc.popen.returncode}):\n{proc.tail()}")
        try:
            value = check()
        except Exception as err:
            last = err
        else:
            if value:
                return value
        time.sleep(interval)
    log = f"\n{proc.name} log:\n{proc.tail()}" if proc is not None else ""
    raise RuntimeError(f"{what} not ready within {timeout:.0f} s (last error: {last!r}){log}")


def wait_for(check: Callable[[], Any], what: str, timeout: float = 180) -> Any:
    """:func:`wait_until` for a test's own conditions (polled every 0.3 s)."""
    return wait_until(check, timeout=timeout, what=what, interval=0.3)


def run(command: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a short command to completion; raise with its output when it fails."""
    done = subprocess.run(list(command), capture_output=True, text=True, timeout=120, **kwargs)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done
