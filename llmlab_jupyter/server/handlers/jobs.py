"""``/projects/{project}/jobs``, ``/schedules`` and ``/alerts``: batch jobs over REST.

Reports are served as ``text/html`` under :data:`~llmlab_jupyter.reports.REPORT_CSP`, a
sandbox without ``allow-same-origin``: their scripts (bokeh charts) run in an opaque origin and
cannot call this server with the reader's credentials.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ...models import Alert, Job, JobLog, Schedule
from ...reports import REPORT_CSP
from ..schemas import common as s
from .base import LlmLabHandler, Reply, operation, to_int

JobStateName = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SubmitJob(_Body):
    template: str = Field(max_length=100, description="Template name (``<name>.ipynb``).")
    parameters: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = Field(None, min_length=1, max_length=200)
    timeout_s: float | None = Field(None, gt=0)


class JobsQuery(s.PageQuery):
    state: JobStateName | None = None
    schedule: str | None = Field(None, max_length=100)


class LogsQuery(s.Query):
    after: int = Field(0, ge=0, le=s.MAX_INT, description="Chunks already read.")


class ListJobsResponse(BaseModel):
    items: list[Job]
    next_offset: int | None = None


class JobLogsResponse(BaseModel):
    items: list[JobLog]
    next_after: int


class CreateSchedule(_Body):
    name: str = Field(max_length=100)
    cron: str = Field(max_length=200, description="Five cron fields, e.g. ``0 6 * * 1-5``.")
    timezone: str = Field("UTC", max_length=64)
    template: str = Field(max_length=100)
    parameters: dict[str, Any] = Field(default_factory=dict)
    alert_rule: dict[str, Any] | None = None
    timeout_s: float | None = Field(None, gt=0)


class ListSchedulesResponse(BaseModel):
    items: list[Schedule]


class ListAlertsResponse(BaseModel):
    items: list[Alert]


class JobsHandler(LlmLabHandler):
    @operation("read", "List jobs, newest first", response=ListJobsResponse, query=JobsQuery)
    def get(self, project: str, *, query: Any) -> ListJobsResponse:
        items = self.services.jobs.list(
            self.caller,
            project,
            state=query.state,
            schedule=query.schedule,
            limit=query.limit,
            offset=query.offset,
        )
        return ListJobsResponse(
            items=items, next_offset=s.next_offset(query.offset, query.limit, len(items))
        )

    @operation(
        "write",
        "Submit a job (the same idempotency_key returns the same job)",
        response=Job,
        status=201,
        body=SubmitJob,
        errors=(400, 403, 404, 409),
    )
    def post(self, project: str, *, body: Any) -> Job:
        return self.services.jobs.submit(
            self.caller,
            project,
            body.template,
            body.parameters,
            idempotency_key=body.idempotency_key,
            timeout_s=body.timeout_s,
        )


class JobHandler(LlmLabHandler):
    @operation("read", "A job: state, attempts, result and artifacts", response=Job)
    def get(self, project: str, job_id: str) -> Job:
        return self.services.jobs.get(self.caller, project, to_int(job_id, "job_id"))


class JobCancelHandler(LlmLabHandler):
    @operation(
        "write",
        "Cancel a queued job, or stop a running one",
        response=Job,
        errors=(400, 403, 404, 409),
    )
    def post(self, project: str, job_id: str) -> Job:
        return self.services.jobs.cancel(self.caller, project, to_int(job_id, "job_id"))


class JobLogsHandler(LlmLabHandler):
    @operation("read", "Log chunks of a job, in order", response=JobLogsResponse, query=LogsQuery)
    def get(self, project: str, job_id: str, *, query: Any) -> JobLogsResponse:
        items = self.services.jobs.logs(
            self.caller, project, to_int(job_id, "job_id"), after=query.after
        )
        return JobLogsResponse(items=items, next_after=query.after + len(items))


class JobReportHandler(LlmLabHandler):
    @operation(
        "read",
        "The HTML report of a job (sandboxed by Content-Security-Policy)",
        content_type="text/html; charset=utf-8",
    )
    def get(self, project: str, job_id: str) -> bytes:
        data = self.services.jobs.artifact(self.caller, project, to_int(job_id, "job_id"), "report")
        self.set_header("Content-Security-Policy", REPORT_CSP)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")
        return data


class JobNotebookHandler(LlmLabHandler):
    @operation(
        "read",
        "The executed notebook of a job (a download)",
        content_type="application/x-ipynb+json",
    )
    def get(self, project: str, job_id: str) -> bytes:
        number = to_int(job_id, "job_id")
        data = self.services.jobs.artifact(self.caller, project, number, "notebook")
        self.set_header("Content-Disposition", f'attachment; filename="job-{number}.ipynb"')
        self.set_header("X-Content-Type-Options", "nosniff")
        return data


class SchedulesHandler(LlmLabHandler):
    @operation("read", "List schedules", response=ListSchedulesResponse)
    def get(self, project: str) -> ListSchedulesResponse:
        return ListSchedulesResponse(items=self.services.schedules.list(self.caller, project))

    @operation(
        "write",
        "Create a cron schedule of a template, with an optional alert rule",
        response=Schedule,
        status=201,
        body=CreateSchedule,
        errors=(400, 403, 404, 409),
    )
    def post(self, project: str, *, body: Any) -> Schedule:
        return self.services.schedules.add(
            self.caller,
            project,
            body.name,
            cron=body.cron,
            template=body.template,
            parameters=body.parameters,
            timezone=body.timezone,
            alert_rule=body.alert_rule,
            timeout_s=body.timeout_s,
        )


class ScheduleHandler(LlmLabHandler):
    @operation("read", "A schedule", response=Schedule)
    def get(self, project: str, name: str) -> Schedule:
        return self.services.schedules.get(self.caller, project, name)

    @operation("write", "Delete a schedule (its jobs stay)", status=204)
    def delete(self, project: str, name: str) -> Reply:
        self.services.schedules.remove(self.caller, project, name)
        return Reply(None, 204)


class SchedulePauseHandler(LlmLabHandler):
    @operation("write", "Pause a schedule", response=Schedule)
    def post(self, project: str, name: str) -> Schedule:
        return self.services.schedules.pause(self.caller, project, name)


class ScheduleResumeHandler(LlmLabHandler):
    @operation("write", "Resume a schedule (missed ticks are not run)", response=Schedule)
    def post(self, project: str, name: str) -> Schedule:
        return self.services.schedules.resume(self.caller, project, name)


class AlertsHandler(LlmLabHandler):
    @operation("read", "Alerts raised by schedules, newest first", response=ListAlertsResponse)
    def get(self, project: str) -> ListAlertsResponse:
        return ListAlertsResponse(items=self.services.schedules.alerts(self.caller, project))
