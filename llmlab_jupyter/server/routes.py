"""The route table: the one list the server registers and the OpenAPI document describes.

Paths are OpenAPI templates under ``<base_url>llmlab/api``; each ``{param}`` becomes one
``([^/]+)`` group, in order, passed to the handler method. Experiments, feedback and usage
add their rows to :data:`API_ROUTES` (one handler module per resource).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .handlers import datasets, experiments, jobs, meta, projects, prompts
from .handlers.base import LlmLabHandler, NotFoundHandler

API_PREFIX = "/llmlab/api"
METRICS_PATH = "/llmlab/metrics"
_PARAM = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Route:
    """One API path and the handler serving it."""

    path: str
    handler: type[LlmLabHandler]
    pattern: str | None = None  # a tornado regex, when the default derivation does not fit

    @property
    def params(self) -> list[str]:
        return _PARAM.findall(self.path)

    def regex(self) -> str:
        """The tornado pattern relative to the API prefix."""
        if self.pattern:
            return self.pattern
        literals = _PARAM.split(self.path)[::2]  # split() keeps group names at odd indexes
        return "([^/]+)".join(re.escape(part) for part in literals)


_P = "/projects/{project}"
_PR = _P + "/prompts/{name}"
_DS = _P + "/datasets/{name}"
_EX = _P + "/experiments/{name}"

API_ROUTES: list[Route] = [
    Route("/openapi.json", meta.OpenAPIHandler),
    Route("/me", meta.MeHandler),
    # projects and memberships
    Route("/projects", projects.ProjectsHandler),
    Route(_P, projects.ProjectHandler),
    Route(_P + "/members", projects.MembersHandler),
    Route(_P + "/members/{user}", projects.MemberHandler),
    Route(_P + "/groups/{group}", projects.GroupMemberHandler),
    # prompts
    Route(_P + "/prompts", prompts.PromptsHandler),
    Route(_P + "/render-preview", prompts.RenderPreviewHandler),
    Route(_PR, prompts.PromptHandler),
    Route(_PR + "/versions", prompts.PromptVersionsHandler),
    Route(_PR + "/versions/{number}", prompts.PromptVersionHandler),
    Route(_PR + "/resolve", prompts.ResolveHandler),
    Route(_PR + "/diff", prompts.DiffHandler),
    Route(_PR + "/render", prompts.RenderHandler),
    # "history" first; its handler still serves PUT/DELETE of a label named "history"
    Route(
        _PR + "/labels/history",
        prompts.LabelHistoryHandler,
        pattern=r"/projects/([^/]+)/prompts/([^/]+)/labels/(history)",
    ),
    Route(_PR + "/labels/{label}", prompts.LabelHandler),
    # datasets
    Route(_P + "/datasets", datasets.DatasetsHandler),
    Route(_DS, datasets.DatasetHandler),
    Route(_DS + "/versions", datasets.DatasetVersionsHandler),
    Route(_DS + "/versions/{number}", datasets.DatasetVersionHandler),
    Route(_DS + "/versions/{number}/rows", datasets.DatasetRowsHandler),
    # batch jobs, schedules and alerts
    Route(_P + "/jobs", jobs.JobsHandler),
    Route(_P + "/jobs/{job_id}", jobs.JobHandler),
    Route(_P + "/jobs/{job_id}/cancel", jobs.JobCancelHandler),
    Route(_P + "/jobs/{job_id}/logs", jobs.JobLogsHandler),
    Route(_P + "/jobs/{job_id}/report", jobs.JobReportHandler),
    Route(_P + "/jobs/{job_id}/notebook", jobs.JobNotebookHandler),
    Route(_P + "/schedules", jobs.SchedulesHandler),
    Route(_P + "/schedules/{name}", jobs.ScheduleHandler),
    Route(_P + "/schedules/{name}/pause", jobs.SchedulePauseHandler),
    Route(_P + "/schedules/{name}/resume", jobs.ScheduleResumeHandler),
    Route(_P + "/alerts", jobs.AlertsHandler),
    # experiments, feedback and usage
    Route(_P + "/experiments", experiments.ExperimentsHandler),
    Route(_EX, experiments.ExperimentHandler),
    Route(_EX + "/start", experiments.ExperimentStartHandler),
    Route(_EX + "/cancel", experiments.ExperimentCancelHandler),
    Route(_EX + "/dry-run", experiments.ExperimentDryRunHandler),
    Route(_EX + "/results", experiments.ExperimentResultsHandler),
    Route(_EX + "/summary", experiments.ExperimentSummaryHandler),
    Route(_EX + "/compare", experiments.ExperimentCompareHandler),
    Route(_EX + "/feedback", experiments.FeedbackListHandler),
    Route(_EX + "/results/{variant}/{row}/feedback", experiments.FeedbackHandler),
    Route(_P + "/usage", experiments.UsageHandler),
    Route(_P + "/complete", experiments.CompleteHandler),
]


def tornado_handlers() -> list[tuple[str, type[LlmLabHandler], dict[str, str]]]:
    """``(pattern, handler, kwargs)`` for ``ExtensionApp.handlers``, base_url not included."""
    rules = [(API_PREFIX + r.regex(), r.handler, {"route": r.path}) for r in API_ROUTES]
    rules.append((METRICS_PATH, meta.MetricsHandler, {"route": METRICS_PATH}))
    rules.append((API_PREFIX + "(/.*)?", NotFoundHandler, {"route": "unknown"}))
    return rules
