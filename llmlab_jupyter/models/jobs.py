"""Records of batch jobs, schedules and alerts (plain data: they cross process boundaries)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from .records import Record

JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]
FINAL_STATES: tuple[str, ...] = ("succeeded", "failed", "cancelled")
#: The template name of the built-in job that only sleeps (tests, benchmarks, smoke checks).
BUILTIN_SLEEP = "builtin-sleep"


class Job(Record):
    """A papermill run of a template with parameters."""

    id: int
    project: str
    template: str
    parameters: dict[str, Any]
    state: JobState
    executor: str
    idempotency_key: str | None = None
    schedule: str | None = None
    scheduled_for: datetime | None = None
    attempts: int
    max_attempts: int
    timeout_s: float
    cancel_requested: bool = False
    lease_expires_at: datetime | None = None
    dispatched_at: datetime | None = Field(
        None,
        description="Celery executor: when the queued job was last handed to the broker "
        "(null: not sent yet, or taken back to be sent again).",
    )
    heartbeat_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str = ""
    result: dict[str, Any] | None = None
    artifacts: dict[str, str] = Field(
        default_factory=dict, description="Artifact keys: notebook, report, result."
    )
    created_at: datetime
    created_by: str

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES


class Claim(Record):
    """A job held by one worker under ``lease_token`` (what a worker needs to run it)."""

    job_id: int
    project: str
    owner: str
    template: str
    parameters: dict[str, Any]
    attempt: int
    timeout_s: float
    lease_token: str
    started_at: datetime
    stale_token: str | None = Field(
        default=None, description="Lease token of the previous attempt, if it was taken over."
    )


class JobLog(Record):
    attempt: int
    text: str
    created_at: datetime


class Schedule(Record):
    """A cron schedule of a template (``timezone`` is an IANA name)."""

    project: str
    name: str
    cron: str
    timezone: str
    template: str
    parameters: dict[str, Any]
    alert_rule: dict[str, Any] | None = None
    timeout_s: float
    paused: bool
    next_run_at: datetime
    last_run_at: datetime | None = None
    created_at: datetime
    created_by: str


class Alert(Record):
    """A regression raised by an alert rule."""

    id: int
    project: str
    schedule: str | None = None
    job_id: int
    metric: str
    value: float | None = None
    baseline: float | None = None
    message: str
    webhook_status: str = ""
    created_at: datetime
