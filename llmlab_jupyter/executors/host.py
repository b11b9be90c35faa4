"""What an executor needs of the service layer, as protocols.

Executors sit below the services: the services build and call them, and they are written
against :class:`JobHost` (which ``Services`` satisfies) so that they never import the
services. Only the worker processes' entry points build a ``Services`` of their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from ..config import LlmLabConfig
    from ..models import Alert, Claim, Job
    from ..store.sql_store import SQLStore


class Dispatcher(Protocol):
    """An executor as the scheduler sees it: its kind, and how a queued job reaches it."""

    @property
    def kind(self) -> str: ...

    def dispatch(self, job: Job) -> None: ...


class JobFiles(Protocol):
    """The job service's part in a run: where a template is, where an attempt's files go."""

    def template_path(self, name: str) -> Path: ...

    def store_attempt_artifacts(self, claim: Claim, workdir: Path) -> dict[str, str]: ...


class ScheduleHooks(Protocol):
    """The schedule service's part in maintenance: fire due schedules, alert after a job."""

    def tick(self, executor: Dispatcher, now: datetime | None = None) -> list[Job]: ...

    def after_job(self, job_id: int) -> Alert | None: ...


class JobHost(Protocol):
    """What an executor needs of the service layer (``Services`` is one): executors sit
    below the services, so they are written against this and never import them."""

    store: SQLStore
    config: LlmLabConfig

    @property
    def jobs(self) -> JobFiles: ...

    @property
    def schedules(self) -> ScheduleHooks: ...

    def close(self) -> None: ...
