"""Experiments running in the background of a long-lived process (the server extension).

Each run gets its own thread and event loop; progress lives in the database, so a
browser reload loses nothing. On start-up, runs left ``running`` by a process of this
host that no longer exists are marked ``interrupted`` (and can be resumed); a sweeper
does the same for runs elsewhere whose heartbeat went stale.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .runner import STALE_AFTER_S

if TYPE_CHECKING:
    from ..store.sql_store import SQLStore
    from .runner import ExperimentRunner

log = logging.getLogger(__name__)


@dataclass
class _Run:
    runner: ExperimentRunner
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    done: threading.Event


class BackgroundRuns:
    """Starts, tracks and stops experiment runs off the request path."""

    def __init__(self, store: SQLStore, *, stale_after_s: float = STALE_AFTER_S) -> None:
        self.store = store
        self.stale_after_s = stale_after_s
        self._runs: dict[tuple[str, str], _Run] = {}
        self._lock = threading.Lock()

    def recover(self) -> int:
        """Mark runs whose runner is gone as ``interrupted``; returns how many."""
        return self.store.mark_orphans_interrupted(self.stale_after_s, dead_local=True)

    def is_running(self, project: str, name: str) -> bool:
        with self._lock:
            run = self._runs.get((project, name))
            return run is not None and not run.done.is_set() and not run.runner.ended

    def start(self, runner: ExperimentRunner) -> None:
        """Claim the experiment now (so conflicts are reported to the caller) and run it."""
        key = (runner.experiment.project, runner.experiment.name)
        runner.claim()
        loop = asyncio.new_event_loop()
        done = threading.Event()

        def target() -> None:
            asyncio.set_event_loop(loop)
            try:
                status = loop.run_until_complete(runner.run(claimed=True))
                log.info("experiment %s/%s ended: %s", key[0], key[1], status)
            except Exception:
                log.exception("experiment %s/%s failed", key[0], key[1])
            finally:
                with contextlib.suppress(Exception):
                    loop.run_until_complete(runner.gateway.aclose())
                loop.close()
                done.set()

        thread = threading.Thread(target=target, name=f"llmlab-exp-{key[1]}", daemon=True)
        with self._lock:
            self._runs[key] = _Run(runner, loop, thread, done)
        thread.start()

    def stop(self, project: str, name: str, reason: str = "cancelled") -> bool:
        """Ask a run of this process to stop after the calls in flight."""
        with self._lock:
            run = self._runs.get((project, name))
        if run is None or run.done.is_set():
            return False
        with contextlib.suppress(RuntimeError):
            run.loop.call_soon_threadsafe(run.runner.stop, reason)
        return True

    def wait(self, project: str, name: str, timeout: float | None = None) -> bool:
        with self._lock:
            run = self._runs.get((project, name))
        return True if run is None else run.done.wait(timeout)

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop every run (they end ``interrupted`` and can be resumed later)."""
        with self._lock:
            runs = list(self._runs.items())
        for (project, name), run in runs:
            if not run.done.is_set():
                self.stop(project, name, "interrupted")
        for _, run in runs:
            run.done.wait(timeout)
