"""``/projects/{project}/experiments``: plan, start in the background, progress, results.

Starting an experiment returns at once; the run continues in a thread of the server with
its progress in the database, so a browser reload loses nothing. After a server restart a
run that was in flight shows as ``interrupted`` and ``/start`` resumes it.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from ...exceptions import InvalidInput
from ...models import Experiment
from ...services.experiments.summaries import FINAL_STATUSES
from ...store.catalog.generations import generations_now
from ..schemas import common as s
from ..schemas import experiments as x
from .base import LlmLabHandler, operation, to_int


def _clean(value: Any) -> Any:
    """JSON has no NaN: missing statistics become ``null``."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


class ExperimentBase(LlmLabHandler):
    """Shared steps of the experiment handlers (not a route)."""

    def _start(self, project: str, name: str, budget: float | None) -> None:
        from ...experiments.planning import RunOptions

        svc = self.services.experiments
        exp = svc.get(self.caller, project, name)
        options = RunOptions(
            concurrency=int(exp.settings.get("concurrency", 16)),
            use_cache=bool(exp.settings.get("use_cache", True)),
            budget_usd=budget if budget is not None else exp.budget_usd,
            progress=False,
        )
        runner = svc.runner(self.caller, project, name, options=options)
        self.llmlab.background.start(runner)

    def _state(self, project: str, name: str) -> x.ExperimentState:
        exp: Experiment = self.services.experiments.get(self.caller, project, name)
        return x.ExperimentState(
            experiment=exp, active=self.llmlab.background.is_running(project, name)
        )


class ExperimentsHandler(ExperimentBase):
    @operation(
        "read",
        "List experiments, newest first",
        response=x.ListExperimentsResponse,
        query=x.ListExperimentsQuery,
    )
    def get(self, project: str, *, query: Any) -> x.ListExperimentsResponse:
        items = self.services.experiments.list(
            self.caller, project, status=query.status, limit=query.limit, offset=query.offset
        )
        return x.ListExperimentsResponse(
            items=items, next_offset=s.next_offset(query.offset, query.limit, len(items))
        )

    @operation(
        "write",
        "Plan an experiment and (by default) start it in the background",
        response=x.ExperimentState,
        status=201,
        body=x.CreateExperiment,
        errors=(400, 403, 404, 409),
    )
    def post(self, project: str, *, body: Any) -> x.ExperimentState:
        variants = [
            v if isinstance(v, str) else v.model_dump(exclude_none=True) for v in body.variants
        ]
        exp = self.services.experiments.create(
            self.caller,
            project,
            dataset=body.dataset,
            variants=variants,
            models=body.models,
            scorers=body.scorers,
            name=body.name,
            description=body.description,
            budget_usd=body.budget_usd,
            concurrency=body.concurrency,
            use_cache=body.use_cache,
            feedback_labels=body.feedback_labels,
        )
        if body.start:
            self._start(project, exp.name, None)
        return self._state(project, exp.name)


class ExperimentHandler(ExperimentBase):
    @operation("read", "An experiment: status, progress, provenance", response=x.ExperimentState)
    def get(self, project: str, name: str) -> x.ExperimentState:
        return self._state(project, name)


class ExperimentStartHandler(ExperimentBase):
    @operation(
        "write",
        "Start or resume an experiment in the background (returns at once)",
        response=x.ExperimentState,
        status=202,
        body=x.StartExperiment,
        errors=(400, 403, 404, 409),
    )
    def post(self, project: str, name: str, *, body: Any) -> x.ExperimentState:
        self._start(project, name, body.budget_usd)
        return self._state(project, name)


class ExperimentCancelHandler(ExperimentBase):
    @operation(
        "write",
        "Cancel an experiment (a running one stops after the calls in flight)",
        response=x.ExperimentState,
        errors=(400, 403, 404, 409),
    )
    def post(self, project: str, name: str) -> x.ExperimentState:
        self.services.experiments.cancel(self.caller, project, name)
        self.llmlab.background.stop(project, name, "cancelled")
        return self._state(project, name)


class ExperimentDryRunHandler(LlmLabHandler):
    @operation(
        "read",
        "Calls still to make, cached answers and the estimated cost",
        response=x.DryRunResponse,
        errors=(400, 403, 404, 409),
    )
    def get(self, project: str, name: str) -> x.DryRunResponse:
        self.services.experiments.get(self.caller, project, name)
        # a dry run plans like a run, which needs write access to the experiment
        return x.DryRunResponse(**self.services.experiments.dry_run(self.caller, project, name))


class ExperimentResultsHandler(LlmLabHandler):
    @operation(
        "read",
        "Results with inputs, outputs, scores, feedback and provenance (paged)",
        response=x.ResultsResponse,
        query=x.ResultsQuery,
    )
    def get(self, project: str, name: str, *, query: Any) -> x.ResultsResponse:
        svc = self.services.experiments
        filters = {
            "variant": query.variant,
            "errors_only": query.errors_only,
            "search": query.search,
        }
        items = svc.results(
            self.caller, project, name, offset=query.offset, limit=query.limit, **filters
        )
        total = svc.count_results(self.caller, project, name, **filters)
        return x.ResultsResponse(
            items=_clean(items),
            next_offset=s.next_offset(query.offset, query.limit, len(items), total),
            total=total,
        )


class ExperimentSummaryHandler(LlmLabHandler):
    """A finished experiment's summary is answered from memory while a one-row check shows
    nothing it depends on changed (``server/summary_cache.py``); otherwise the service
    computes it (from its stored statistics) in the request pool."""

    @operation(
        "read",
        "Per variant: score means with CIs, win/loss/tie vs the baseline, cost",
        response=x.RowsResponse,
        query=x.SummaryQuery,
    )
    async def get(self, project: str, name: str, *, query: Any) -> bytes:
        key = ("summary", name, query.baseline, query.confidence)
        cache, known = self.llmlab.summaries, self.llmlab.known_caller(self.current_user)
        if cache is not None and known is not None:
            body = await cache.get(project, key, known)
            if body is not None:
                return body
        return await self.llmlab.run_blocking(
            functools.partial(self._summary, project, name, query, key)
        )

    def _summary(self, project: str, name: str, query: Any, key: tuple[Any, ...]) -> bytes:
        cache, caller, svc = self.llmlab.summaries, self.caller, self.services.experiments
        # read before anything the summary is computed from: the body is at least this new
        generations = generations_now(self.services.store.tx, project) if cache else None
        rows, status = svc.summary_and_status(
            caller, project, name, baseline=query.baseline, confidence=query.confidence
        )
        body = x.RowsResponse(items=_clean(rows)).model_dump_json().encode()
        if cache is not None and generations is not None and status in FINAL_STATUSES:
            cache.put(project, key, generations, caller, body)
        return body


class ExperimentCompareHandler(LlmLabHandler):
    @operation(
        "read",
        "Paired comparison of two variants on one scorer",
        response=x.CompareResponse,
        query=x.CompareQuery,
    )
    def get(self, project: str, name: str, *, query: Any) -> x.CompareResponse:
        result = self.services.experiments.compare(
            self.caller,
            project,
            name,
            a=query.a,
            b=query.b,
            scorer=query.scorer,
            confidence=query.confidence,
            tie_tolerance=query.tie_tolerance,
        )
        return x.CompareResponse(**_clean(result))


class FeedbackListHandler(LlmLabHandler):
    @operation("read", "Feedback given on an experiment's results", response=x.RowsResponse)
    def get(self, project: str, name: str) -> x.RowsResponse:
        items = self.services.feedback.list(self.caller, project, name)
        return x.RowsResponse(items=[_record(i) for i in items])


class FeedbackHandler(LlmLabHandler):
    @operation(
        "write",
        "Give (or change) the caller's feedback on one result",
        response=x.RowsResponse,
        body=x.GiveFeedback,
    )
    def put(self, project: str, name: str, variant: str, row: str, *, body: Any) -> x.RowsResponse:
        given = body.model_dump(exclude_unset=True)
        record = self.services.feedback.give(
            self.caller,
            project,
            name,
            to_int(variant, "variant", minimum=0),
            to_int(row, "row", minimum=0),
            **given,
        )
        return x.RowsResponse(items=[_record(record)])


class CompleteHandler(LlmLabHandler):
    @operation(
        "write",
        "Call a model once (cached, recorded in the usage ledger)",
        response=x.CompletionResponse,
        body=x.Complete,
        errors=(400, 403, 404, 429, 502, 504),
    )
    async def post(self, project: str, *, body: Any) -> x.CompletionResponse:
        import asyncio

        result = await asyncio.to_thread(
            self.services.completions.complete,
            self.caller,
            project,
            body.prompt,
            model=body.model,
            params=body.params,
            use_cache=body.use_cache,
        )
        return x.CompletionResponse(**result)


class UsageHandler(LlmLabHandler):
    @operation(
        "read",
        "The usage ledger totalled by model, user, experiment, …",
        response=x.RowsResponse,
        query=x.UsageQuery,
    )
    def get(self, project: str, *, query: Any) -> x.RowsResponse:
        by = [g.strip() for g in query.by.split(",") if g.strip()]
        if not by:
            raise InvalidInput("by must name at least one column", field="by")
        rows = self.services.experiments.usage(
            self.caller,
            project,
            by=by,
            experiment=query.experiment,
            since=query.since,
            until=query.until,
        )
        return x.RowsResponse(items=_clean(rows))


def _record(item: Any) -> dict[str, Any]:
    if hasattr(item, "model_dump"):
        return dict(item.model_dump(mode="json"))
    return dict(item)
