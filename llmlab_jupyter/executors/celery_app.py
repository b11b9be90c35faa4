"""The Celery executor: jobs as Celery tasks on a Redis (or RabbitMQ) broker. The only
Celery importer.

The database stays the source of truth; a task only carries the job id. Settings:
``acks_late`` + ``reject_on_worker_lost`` (a task whose worker process dies is delivered
again), prefetch 1, prefork pool, and a broker visibility timeout above the longest job.
Delivery is at-least-once, so the task is safe to run twice: it runs the job only if it
can claim it (queued, or held by a lease that expired or whose process is dead on this host);
a duplicate delivery of a job another live worker holds does nothing.

Workers: ``llmlab worker --celery`` (or ``celery -A llmlab_jupyter.executors.celery_app
worker --pool prefork``) with the same ``LLMLAB_*`` environment as the server.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..leases import holder_is_dead, new_lease_token
from .base import Executor

if TYPE_CHECKING:
    from ..config import LlmLabConfig
    from ..models_jobs import Job
    from ..services import Services

log = logging.getLogger(__name__)
TASK_NAME = "llmlab.run_job"
_SERVICES: Services | None = None


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

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self._app: Any = None

    @property
    def app(self) -> Any:
        if self._app is None:
            self._app = make_app(self.config)
        return self._app

    def dispatch(self, job: Job) -> None:
        """Send the task; the job stays queued in the database if the broker is down."""
        try:
            self.app.send_task(TASK_NAME, args=[job.id])
        except Exception as err:  # the scheduler's next tick will not lose it: it is queued
            log.warning("llmlab: job %s not sent to the broker: %s", job.id, err)

    def worker_argv(self, concurrency: int) -> list[str]:
        """``celery worker`` arguments for ``llmlab worker --celery``."""
        return [
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "--prefetch-multiplier=1",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
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
