"""The Executor contract and the one lifecycle every job attempt goes through.

Dispatch differs per executor (local workers poll the database; Celery gets a task), but a
claimed job always runs through :meth:`Executor.run_claim`, a fixed template method::

    before_start -> execute -> on_complete | on_failure -> after_finish

``execute`` starts the runner process (:mod:`.papermill_run`) in its own session, renews
the lease by heartbeat (a thread renews it in the phases before and after, which can be slow:
report rendering, uploads), ships the log to the database, and kills the whole process tree
(runner and kernel, found by the job token in their environment) on timeout, cancel, lost
lease or worker shutdown. The runner dies with its worker (``PR_SET_PDEATHSIG`` plus a
parent watch) and the kernel with the runner (ipykernel's parent poller), so a SIGKILLed
worker leaves no orphans. Only the holder of the current lease records a result.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..exceptions import LlmLabError
from ..leases import holder_is_dead
from ..models import BUILTIN_SLEEP, Claim, Job
from .host import JobHost
from .job_env import job_env
from .processes import die_with_parent, kill_job_processes

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """How an attempt ended, as seen by the worker."""

    state: str  # succeeded | failed | cancelled | lost | released
    error: str = ""
    result: dict[str, Any] | None = None
    artifacts: dict[str, str] = field(default_factory=dict)


class Executor(ABC):
    """Runs queued jobs; one instance per process, bound to the services.

    Subclasses say how a queued job reaches a worker (:meth:`dispatch`) and how workers are
    started (:meth:`start`/:meth:`stop`); they do not change :meth:`run_claim`.
    """

    kind: ClassVar[str] = "abstract"
    poll_s: ClassVar[float] = 0.2
    maintenance_s: ClassVar[float] = 0.5

    def __init__(self, services: JobHost) -> None:
        self.services = services
        self.config = services.config
        self.stopping = threading.Event()

    # -- dispatch side ---------------------------------------------------------------------
    @abstractmethod
    def dispatch(self, job: Job) -> None:
        """Make sure a worker will pick up the queued ``job`` (called after submit/requeue)."""

    def start(self) -> None:
        """Start the maintenance thread: every ``maintenance_s`` it calls :meth:`supervise`,
        fires due schedules (if ``scheduler_enabled``) and reaps jobs of vanished workers."""
        self.stopping.clear()
        self._maintainer = threading.Thread(
            target=self._maintain, name="llmlab-maintenance", daemon=True
        )
        self._maintainer.start()

    def stop(self) -> None:
        """Stop the thread (and the workers a subclass manages; their jobs are released)."""
        self.stopping.set()
        thread = getattr(self, "_maintainer", None)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def supervise(self) -> None:  # noqa: B027 - optional hook
        """Called by the maintenance thread (the local executor restarts dead workers)."""

    def redispatch(self) -> int:
        """Send again the queued jobs a worker may never hear about; returns how many were
        sent. Nothing to do for executors whose workers poll the database (local)."""
        return 0

    def maintenance(self, *, schedules: bool) -> None:
        """Fire due schedules (if asked) and reap lost jobs; dispatch what they queued; then
        :meth:`redispatch` jobs whose dispatch failed or got lost."""
        try:
            if schedules:
                self.services.schedules.tick(self)
            else:
                for job in self.services.store.reap_jobs(steal_if=holder_is_dead):
                    self.dispatch(job)
        except Exception as err:  # a database hiccup must not kill the loop
            log.warning("llmlab: maintenance failed: %s", err)
        try:
            self.redispatch()
        except Exception as err:
            log.warning("llmlab: re-dispatch failed: %s", err)

    def _maintain(self) -> None:
        while not self.stopping.wait(self.maintenance_s):
            self.supervise()
            self.maintenance(schedules=self.config.scheduler_enabled)

    # -- the lifecycle (template method: do not override) ----------------------------------
    def run_claim(self, claim: Claim) -> Outcome:
        """Run one claimed attempt to its end and record the outcome."""
        workdir = Path(tempfile.mkdtemp(prefix=f"llmlab-job-{claim.job_id}-"))
        outcome = Outcome("failed", "not started")
        try:
            with self._lease_kept(claim):
                self.before_start(claim, workdir)
            try:
                outcome = self.execute(claim, workdir)
            except Exception as err:  # the lifecycle must always end the job
                log.exception("job %s: executor error", claim.job_id)
                outcome = Outcome("failed", f"executor error: {err}")
            with self._lease_kept(claim):  # rendering and uploading may outlast a lease
                if outcome.state == "succeeded":
                    outcome = self.on_complete(claim, workdir, outcome)
                else:
                    outcome = self.on_failure(claim, workdir, outcome)
            return outcome
        finally:
            self.after_finish(claim, workdir, outcome)

    def before_start(self, claim: Claim, workdir: Path) -> None:
        """Kill leftovers of a taken-over attempt; log the start."""
        if claim.stale_token:
            kill_job_processes(claim.stale_token)
        self._log(claim, f"attempt {claim.attempt} started on {claim.lease_token}")

    def execute(self, claim: Claim, workdir: Path) -> Outcome:
        """Run the runner process under supervision (lease, timeout, cancel, log)."""
        spec = self._spec(claim, workdir)
        (workdir / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
        env = self.runner_env(claim)
        log_path = workdir / "run.log"
        with log_path.open("wb") as logf:
            proc = subprocess.Popen(
                [sys.executable, "-m", "llmlab_jupyter.executors.papermill_run", "spec.json"],
                cwd=workdir,
                env=env,
                stdout=logf,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=die_with_parent if sys.platform.startswith("linux") else None,
            )
        try:
            return self._supervise(claim, proc, workdir, log_path)
        finally:
            if proc.poll() is None:
                self._kill(claim, proc)
            self._ship_log(claim, log_path)

    def on_complete(self, claim: Claim, workdir: Path, outcome: Outcome) -> Outcome:
        """Store the artifacts and the result; then the follow-ups (alerts)."""
        outcome.artifacts = self._store_artifacts(claim, workdir)
        result_path = workdir / "result.json"
        try:
            outcome.result = json.loads(result_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            outcome.result = None
        if not isinstance(outcome.result, dict):
            outcome = Outcome(
                "failed", "the notebook wrote no result JSON", None, outcome.artifacts
            )
        return self._record(claim, outcome)

    def on_failure(self, claim: Claim, workdir: Path, outcome: Outcome) -> Outcome:
        """Keep what the failed attempt produced (notebook, report) and record the failure."""
        if outcome.state in ("lost", "released"):
            return outcome
        try:
            outcome.artifacts = self._store_artifacts(claim, workdir)
            outcome.result = json.loads((workdir / "result.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            outcome.result = None  # no (readable) result: the notebook failed before writing it
        except Exception as err:  # an artifact problem must not hide the failure
            log.warning("job %s: artifacts of the failed attempt not stored: %s", claim.job_id, err)
        return self._record(claim, outcome)

    def after_finish(self, claim: Claim, workdir: Path, outcome: Outcome) -> None:
        """Remove the working folder; no process of the attempt survives it."""
        kill_job_processes(claim.lease_token)
        shutil.rmtree(workdir, ignore_errors=True)
        self._log(claim, f"attempt {claim.attempt} ended: {outcome.state} {outcome.error}".strip())

    # -- helpers ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _lease_kept(self, claim: Claim) -> Iterator[None]:
        """Renew the lease from a thread while the body runs (the phases outside
        :meth:`execute`, whose supervision loop renews it itself)."""
        done = threading.Event()
        lease_s = self.config.job_lease_s
        store = self.services.store

        def beat() -> None:
            while not done.wait(lease_s / 3):
                try:
                    if store.heartbeat_job(claim.job_id, claim.lease_token, lease_s=lease_s) == (
                        "lost"
                    ):
                        return
                except Exception as err:  # database hiccup: try again until the lease expires
                    log.warning("job %s: heartbeat failed: %s", claim.job_id, err)

        thread = threading.Thread(target=beat, name=f"llmlab-lease-{claim.job_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join(timeout=lease_s)

    def _spec(self, claim: Claim, workdir: Path) -> dict[str, Any]:
        params = dict(claim.parameters)
        params.update(
            project=claim.project,
            user=claim.owner,
            job_id=claim.job_id,
            result_path=str(workdir / "result.json"),
        )
        spec: dict[str, Any] = {
            "kind": "notebook",
            "parameters": params,
            "cwd": str(workdir),
            "output_path": str(workdir / "output.ipynb"),
            "result_path": str(workdir / "result.json"),
            "error_path": str(workdir / "error.json"),
        }
        if claim.template == BUILTIN_SLEEP:
            spec["kind"] = "sleep"
        else:
            spec["input_path"] = str(self.services.jobs.template_path(claim.template))
        return spec

    def runner_env(self, claim: Claim) -> dict[str, str]:
        """The environment of the job's runner and kernel (see :func:`.job_env.job_env`)."""
        return job_env(self.config, claim)

    def _supervise(
        self, claim: Claim, proc: subprocess.Popen[bytes], workdir: Path, log_path: Path
    ) -> Outcome:
        store = self.services.store
        lease_s = self.config.job_lease_s
        deadline = time.monotonic() + claim.timeout_s
        next_beat = time.monotonic()  # renew at once: starting the runner took some of it
        while True:
            try:
                code = proc.wait(timeout=self.poll_s)
            except subprocess.TimeoutExpired:
                code = None
            if code is not None:
                return self._exit_outcome(code, workdir)
            now = time.monotonic()
            if self.stopping.is_set():
                self._kill(claim, proc)
                store.release_job(claim.job_id, claim.lease_token, "worker shut down")
                return Outcome("released", "worker shut down")
            if now >= deadline:
                self._kill(claim, proc)
                return Outcome("failed", f"timed out after {claim.timeout_s:g} s")
            if now >= next_beat:
                next_beat = now + lease_s / 3
                self._ship_log(claim, log_path)
                try:
                    status = store.heartbeat_job(claim.job_id, claim.lease_token, lease_s=lease_s)
                except Exception as err:  # database hiccup: keep going until the lease expires
                    log.warning("job %s: heartbeat failed: %s", claim.job_id, err)
                    continue
                if status == "cancel":
                    self._kill(claim, proc)
                    return Outcome("cancelled", "cancelled while running")
                if status == "lost":
                    self._kill(claim, proc)
                    return Outcome("lost", "lease lost")

    @staticmethod
    def _exit_outcome(code: int, workdir: Path) -> Outcome:
        if code == 0:
            return Outcome("succeeded")
        try:
            info = json.loads((workdir / "error.json").read_text(encoding="utf-8"))
            message = f"{info.get('type')}: {info.get('message')}"
        except (OSError, ValueError):
            message = f"the runner exited with code {code}"
        return Outcome("failed", message)

    def _kill(self, claim: Claim, proc: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        kill_job_processes(claim.lease_token)
        proc.wait()

    def _ship_log(self, claim: Claim, log_path: Path) -> None:
        offset = getattr(self, "_log_offsets", {}).get(str(log_path), 0)
        try:
            with log_path.open("rb") as f:
                f.seek(offset)
                chunk = f.read(1_000_000)
        except OSError:
            return
        if chunk:
            self.__dict__.setdefault("_log_offsets", {})[str(log_path)] = offset + len(chunk)
            self.services.store.append_job_log(
                claim.job_id, claim.attempt, chunk.decode("utf-8", "replace")
            )

    def _log(self, claim: Claim, line: str) -> None:
        try:
            self.services.store.append_job_log(claim.job_id, claim.attempt, f"[llmlab] {line}\n")
        except Exception as err:  # logging must never break the lifecycle
            log.warning("job %s: log not written: %s", claim.job_id, err)

    def _store_artifacts(self, claim: Claim, workdir: Path) -> dict[str, str]:
        return self.services.jobs.store_attempt_artifacts(claim, workdir)

    def _record(self, claim: Claim, outcome: Outcome) -> Outcome:
        state = outcome.state if outcome.state in ("succeeded", "failed", "cancelled") else "failed"
        won = self.services.store.finish_job(
            claim.job_id,
            claim.lease_token,
            state,
            error=outcome.error,
            result=outcome.result,
            artifacts=outcome.artifacts,
        )
        if not won:
            return Outcome("lost", "lease lost before the result was recorded")
        if state == "succeeded":
            try:
                self.services.schedules.after_job(claim.job_id)
            except LlmLabError as err:
                log.warning("job %s: alert rule not evaluated: %s", claim.job_id, err)
        return outcome
