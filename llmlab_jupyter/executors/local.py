"""The local executor: worker processes that claim jobs from the database queue.

The server (or ``llmlab worker``) starts ``worker_count`` processes running
``python -m llmlab_jupyter.executors.local``; a supervisor thread restarts any that die and,
when ``scheduler_enabled``, fires due schedules and reaps jobs whose worker vanished. Workers
die with the process that started them (``PR_SET_PDEATHSIG``); on SIGTERM a worker kills its
running job and gives it back to the queue.

This module is imported when the configuration is built: keep its imports light.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

from ..leases import new_lease_token
from .base import Executor
from .processes import die_with_parent

if TYPE_CHECKING:
    from ..config import LlmLabConfig
    from ..models import Job

log = logging.getLogger(__name__)
CONFIG_ENV = "LLMLAB_WORKER_CONFIG"
MAINTENANCE_EVERY_S = 1.0  # reaping by workers (schedules: the maintenance thread)


def config_to_env(config: LlmLabConfig) -> str:
    """The settings a worker process needs, as JSON (plain values; no secrets are traits)."""
    values: dict[str, Any] = {}
    for name in config.trait_names(config=True):
        value = getattr(config, name)
        if isinstance(value, type):
            value = f"{value.__module__}.{value.__qualname__}"
        values[name] = value
    return json.dumps(values)


def config_from_env() -> LlmLabConfig:
    from ..config import LlmLabConfig

    raw = os.environ.get(CONFIG_ENV)
    return LlmLabConfig(**json.loads(raw)) if raw else LlmLabConfig()


def work_loop(executor: Executor, *, max_jobs: int | None = None) -> int:
    """Claim and run local jobs until ``executor.stopping`` is set; returns jobs run."""
    store = executor.services.store
    lease_s = executor.config.job_lease_s
    done, last_maintenance = 0, 0.0
    while not executor.stopping.is_set():
        if time.monotonic() - last_maintenance >= MAINTENANCE_EVERY_S:
            executor.maintenance(schedules=False)
            last_maintenance = time.monotonic()
        try:
            claim = store.claim_job(new_lease_token(), lease_s=lease_s, executor="local")
        except Exception as err:
            log.warning("llmlab: claim failed: %s", err)
            claim = None
        if claim is None:
            executor.stopping.wait(executor.poll_s)
            continue
        executor.run_claim(claim)
        done += 1
        if max_jobs is not None and done >= max_jobs:
            break
    return done


class LocalExecutor(Executor):
    """Jobs run by local worker processes polling the database queue."""

    kind = "local"

    def __init__(self, services: Any) -> None:
        super().__init__(services)
        self.workers: list[subprocess.Popen[bytes]] = []

    def dispatch(self, job: Job) -> None:
        """Nothing to do: a worker polling the queue claims it (within ``poll_s``)."""

    def spawn_worker(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env[CONFIG_ENV] = config_to_env(self.config)
        return subprocess.Popen(
            [sys.executable, "-m", "llmlab_jupyter.executors.local"],
            env=env,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent if sys.platform.startswith("linux") else None,
        )

    def start(self) -> None:
        """Start ``worker_count`` workers, then the maintenance thread (restarts, schedules)."""
        self.stopping.clear()
        self.workers = [self.spawn_worker() for _ in range(self.config.worker_count)]
        super().start()
        log.info("llmlab: %d local job workers started", len(self.workers))

    def supervise(self) -> None:
        """Restart workers that died (a SIGKILLed worker's job is reaped and runs again)."""
        for i, proc in enumerate(self.workers):
            if proc.poll() is not None and not self.stopping.is_set():
                log.warning("llmlab: worker %s exited (%s); restarting", proc.pid, proc.returncode)
                self.workers[i] = self.spawn_worker()

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the workers (they release their jobs), then SIGKILL stragglers."""
        super().stop()
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        end = time.monotonic() + timeout
        for proc in self.workers:
            try:
                proc.wait(timeout=max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.workers = []


def main() -> int:
    """Entry point of one worker process."""
    from ..services import Services

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s llmlab-worker %(message)s")
    logging.getLogger("llmlab_jupyter").setLevel(logging.INFO)
    services = Services.from_config(config_from_env())
    executor = LocalExecutor(services)
    signal.signal(signal.SIGTERM, lambda *_: executor.stopping.set())
    signal.signal(signal.SIGINT, lambda *_: executor.stopping.set())
    try:
        work_loop(executor)
    finally:
        services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
