"""The Celery executor: jobs as Celery tasks on a Redis (or RabbitMQ) broker. The only
Celery importer.

The database stays the source of truth; a task only carries the job id. Settings:
``acks_late`` + ``reject_on_worker_lost`` (a task whose worker process dies is delivered
again), prefetch 1, prefork pool, and a broker visibility timeout above the longest job.
Delivery is at-least-once, so the task is safe to run twice: it runs the job only if it
can claim it (queued, or held by a lease that expired or whose process is dead on this host);
a duplicate delivery of a job another live worker holds does nothing.

The broker may be down when a job is submitted, or lose a message: a successful send sets
the job's ``dispatched_at``; a failed one is logged and leaves it NULL (the job is safely
queued in the database). The server's maintenance (:meth:`CeleryExecutor.redispatch`)
sends again queued jobs never dispatched and those dispatched more than
``job_redispatch_after_s`` ago. Pool processes die with the worker's main process
(``PR_SET_PDEATHSIG``: Celery 5.3+ sets it too; ours also covers older versions and a main
process that died before it was set), their job runners and kernels with them; the jobs'
leases then name dead processes and the reaper queues them again.

Workers: ``llmlab worker --celery`` (or ``celery -A llmlab_jupyter.executors.celery_app
worker --pool prefork``) with the same ``LLMLAB_*`` environment as the server.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..leases import holder_is_dead, new_lease_token
from .base import Executor
from .host import JobHost
from .processes import die_with_parent

if TYPE_CHECKING:
    from ..config import LlmLabConfig
    from ..models import Job
    from ..services import Services

log = logging.getLogger(__name__)
TASK_NAME = "llmlab.run_job"
_SERVICES: Services | None = None
#: Publishing to a broker that is down gives up after this (the job stays queued and the
#: maintenance sends it later), so a submit does not hang on an outage.
PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.25,
    "interval_max": 0.5,
}
_MAIN_PID = os.getpid()  # the worker's main process (set again at worker start)


def _on_worker_init(**_: Any) -> None:
    """In the worker's main process: remember it, so pool children can check their parent."""
    global _MAIN_PID
    _MAIN_PID = os.getpid()


def _on_worker_process_init(**_: Any) -> None:
    """In each prefork pool process: die with the main process (SIGKILLed mains leave no
    pool children, hence no job runners or kernels, behind)."""
    if not sys.platform.startswith("linux"):  # pragma: no cover
        return
    die_with_parent()
    if os.getppid() != _MAIN_PID:  # the main process died before the signal was armed
        os._exit(1)


def _connect_worker_signals() -> None:
    from celery import signals

    signals.worker_init.connect(_on_worker_init, weak=False, dispatch_uid="llmlab-worker-init")
    signals.worker_process_init.connect(
        _on_worker_process_init, weak=False, dispatch_uid="llmlab-worker-process-init"
    )


def safe_broker_url(url: str) -> str:
    """``url`` with its password masked, fit for a log line."""
    try:
        parts = urlsplit(url)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
            return parts._replace(netloc=netloc).geturl()
    except ValueError:
        return "<unparsable broker URL>"
    return url


def _redact(text: str, url: str) -> str:
    """``text`` with the password of ``url`` (if any) masked."""
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password:
        text = text.replace(password, "***")
    return text


def make_app(config: LlmLabConfig) -> Any:
    """A Celery app for ``config`` (broker, reliability settings, the task)."""
    try:
        from celery import Celery
    except ImportError as err:  # pragma: no cover - optional extra
        from ..exceptions import MissingDependency

        raise MissingDependency(
            "the Celery executor needs celery: pip install 'llmlab-jupyter[celery]'"
        ) from err
    app = Celery("llmlab", broker=config.broker_url, set_as_current=False)
    longest = config.job_timeout_s * config.job_max_attempts + 2 * config.job_lease_s + 600
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_pool="prefork",
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": max(3600.0, longest)},
        worker_hijack_root_logger=False,
    )
    app.task(name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True)(_run_job)
    _connect_worker_signals()
    return app


def _worker_services() -> Services:
    """The services of this worker process (built once from the environment)."""
    global _SERVICES
    if _SERVICES is None:
        from ..services import Services
        from .local import config_from_env

        _SERVICES = Services.from_config(config_from_env())
    return _SERVICES


def _run_job(task: Any, job_id: int) -> str:
    """The task body: claim job ``job_id`` and run it through the common lifecycle."""
    services = _worker_services()
    executor = CeleryExecutor(services)
    claim = services.store.claim_job(
        new_lease_token(),
        lease_s=services.config.job_lease_s,
        job_id=int(job_id),
        steal_if=holder_is_dead,
    )
    if claim is None:  # finished, cancelled, or held by a live worker: nothing to do
        return "skipped"
    return executor.run_claim(claim).state


class CeleryExecutor(Executor):
    """Jobs dispatched as Celery tasks; run by ``llmlab worker --celery`` processes."""

    kind = "celery"

    def __init__(self, services: JobHost) -> None:
        super().__init__(services)
        self._app: Any = None

    @property
    def app(self) -> Any:
        if self._app is None:
            self._app = make_app(self.config)
        return self._app

    def dispatch(self, job: Job) -> None:
        """Send the task and record ``dispatched_at``; if the broker is down, log it and
        leave the job queued with ``dispatched_at`` NULL (:meth:`redispatch` sends it)."""
        if not self._send(job.id):
            return
        try:
            self.services.store.mark_job_dispatched(job.id)
        except Exception as err:  # sent anyway; at worst it is sent again later (harmless)
            log.warning("llmlab: job %s sent, but not marked dispatched: %s", job.id, err)

    def redispatch(self) -> int:
        """Send again the queued Celery jobs never dispatched (broker down at submit, or the
        submitter died before sending) and those dispatched more than
        ``job_redispatch_after_s`` ago (the broker lost the message). Stops at the first
        failed send: the broker is down, the rest waits for the next tick."""
        store = self.services.store
        taken = store.take_jobs_to_dispatch(
            executor=self.kind, stale_after_s=self.config.job_redispatch_after_s
        )
        sent = 0
        for i, (job_id, marker) in enumerate(taken):
            if self._send(job_id):
                sent += 1
                continue
            store.clear_job_dispatch([later_id for later_id, _ in taken[i:]], marker)
            break
        if sent:
            log.info("llmlab: %d queued job(s) sent to the broker again", sent)
        return sent

    def _send(self, job_id: int) -> bool:
        """Publish the task of ``job_id``; ``False`` (logged, without secrets) if it failed."""
        try:
            self.app.send_task(
                TASK_NAME, args=[job_id], retry=True, retry_policy=PUBLISH_RETRY_POLICY
            )
        except Exception as err:  # the job is queued in the database: nothing is lost
            url = self.config.broker_url
            log.warning(
                "llmlab: job %s not sent to the broker %s (it stays queued; sent again "
                "when the broker is back): %s: %s",
                job_id,
                safe_broker_url(url),
                type(err).__name__,
                _redact(str(err), url),
            )
            return False
        return True

    @staticmethod
    def worker_argv(concurrency: int, *, loglevel: str = "INFO") -> list[str]:
        """``python -m celery`` arguments of a worker for these jobs (``llmlab worker --celery``):
        prefork pool, one message prefetched per process."""
        return [
            "-A",
            "llmlab_jupyter.executors.celery_app",
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "--prefetch-multiplier=1",
            "--without-gossip",
            "--without-mingle",
            f"--loglevel={loglevel}",
        ]


def _default_app() -> Any:
    from .local import config_from_env

    return make_app(config_from_env())


def __getattr__(name: str) -> Any:
    """``celery -A llmlab_jupyter.executors.celery_app`` finds ``app`` (built on first use)."""
    if name in ("app", "celery"):
        value = _default_app()
        globals()["app"] = globals()["celery"] = value
        return value
    raise AttributeError(name)
