"""Experiments, feedback and usage over HTTP, for ``Lab(url=..., token=...)``.

Same method signatures as :class:`~llmlab_jupyter.services.experiments.ExperimentService`
and :class:`~llmlab_jupyter.services.feedback.FeedbackService`. A run started over HTTP runs
in the server; :meth:`HttpExperiments.run` starts it and follows its progress until it ends.
Python-function scorers cannot travel to a server: use named or spec scorers there.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from ...exceptions import Conflict, InvalidInput
from ...models import Experiment
from ...services.access import Caller
from ...services.feedback import Feedback
from .transport import HttpClient, segment

FINAL = ("completed", "failed", "cancelled", "budget_exceeded", "interrupted")
POLL_S = 0.25


def _seg(value: Any) -> str:
    return segment(value, "name")


def _scorer_specs(scorers: Sequence[Any] | None) -> builtins.list[Any]:
    specs = []
    for s in scorers or []:
        if isinstance(s, (str, dict)):
            specs.append(s)
        elif hasattr(s, "describe") and s.describe().get("type") != "callable":
            specs.append(s.describe())
        else:
            raise InvalidInput(
                "Python-function scorers cannot run on a server: use a named scorer or a spec",
                field="scorers",
            )
    return specs


class HttpExperiments:
    """``ExperimentService`` over HTTP."""

    def __init__(self, client: HttpClient) -> None:
        self.http = client

    def _path(self, project: str, name: str | None = None, tail: str = "") -> str:
        base = f"projects/{_seg(project)}/experiments"
        return base + (f"/{_seg(name)}" if name is not None else "") + tail

    def create(
        self,
        caller: Caller,
        project: str,
        *,
        dataset: str,
        variants: Any,
        models: Sequence[str] | str | None = None,
        scorers: Sequence[Any] | None = None,
        name: str | None = None,
        description: str = "",
        budget_usd: float | None = None,
        concurrency: int = 16,
        use_cache: bool = True,
        feedback_labels: Sequence[str] | None = None,
    ) -> Experiment:
        items = variants if isinstance(variants, list) else [variants]
        body = {
            "dataset": dataset,
            "variants": [{"prompt": v[0], **v[1]} if isinstance(v, tuple) else v for v in items],
            "models": [models] if isinstance(models, str) else models,
            "scorers": _scorer_specs(scorers),
            "name": name,
            "description": description,
            "budget_usd": budget_usd,
            "concurrency": concurrency,
            "use_cache": use_cache,
            "feedback_labels": list(feedback_labels) if feedback_labels is not None else None,
            "start": False,
        }
        return Experiment(**self.http.call("POST", self._path(project), body=body)["experiment"])

    def get(self, caller: Caller, project: str, name: str) -> Experiment:
        return Experiment(**self.http.call("GET", self._path(project, name))["experiment"])

    def list(
        self,
        caller: Caller,
        project: str,
        *,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[Experiment]:
        data = self.http.call(
            "GET", self._path(project), params={"status": status, "limit": limit, "offset": offset}
        )
        return [Experiment(**e) for e in data["items"]]

    def run(
        self,
        caller: Caller,
        project: str,
        name: str,
        *,
        scorers: Sequence[Any] | None = None,
        options: Any = None,
        on_progress: Callable[[Experiment], None] | None = None,
    ) -> Experiment:
        """Start (or resume) the run on the server and wait for it to end, showing progress."""
        if scorers:
            _scorer_specs(scorers)  # refuses functions with a clear error
        budget = getattr(options, "budget_usd", None)
        try:
            self.http.call("POST", self._path(project, name, "/start"), body={"budget_usd": budget})
        except Conflict:
            exp = self.get(caller, project, name)
            if exp.status != "running":
                raise
        from tqdm.auto import tqdm

        exp = self.get(caller, project, name)
        show = getattr(options, "progress", True)
        with tqdm(
            total=exp.total_items,
            initial=exp.completed_items,
            disable=not show,
            desc=name,
            unit="call",
        ) as bar:
            try:
                while exp.status not in FINAL:
                    time.sleep(POLL_S)
                    exp = self.get(caller, project, name)
                    bar.update(exp.completed_items - bar.n)
                    if on_progress is not None:
                        on_progress(exp)
            except KeyboardInterrupt:
                self.cancel(caller, project, name)
                raise
        return exp

    def cancel(self, caller: Caller, project: str, name: str) -> Experiment:
        data = self.http.call("POST", self._path(project, name, "/cancel"))
        return Experiment(**data["experiment"])

    def dry_run(self, caller: Caller, project: str, name: str) -> dict[str, Any]:
        return dict(self.http.call("GET", self._path(project, name, "/dry-run")))

    def results(
        self,
        caller: Caller,
        project: str,
        name: str,
        *,
        variant: int | None = None,
        offset: int = 0,
        limit: int | None = None,
        errors_only: bool = False,
        search: str | None = None,
    ) -> builtins.list[dict[str, Any]]:
        out: builtins.list[dict[str, Any]] = []
        page = limit or 500
        next_offset: int | None = offset
        while next_offset is not None:
            data = self.http.call(
                "GET",
                self._path(project, name, "/results"),
                params={
                    "variant": variant,
                    "offset": next_offset,
                    "limit": page,
                    "errors_only": errors_only,
                    "search": search,
                },
            )
            out.extend(data["items"])
            next_offset = None if limit is not None else data["next_offset"]
            if not data["items"]:
                break
        return out

    def count_results(
        self,
        caller: Caller,
        project: str,
        name: str,
        *,
        variant: int | None = None,
        errors_only: bool = False,
        search: str | None = None,
    ) -> int:
        data = self.http.call(
            "GET",
            self._path(project, name, "/results"),
            params={"variant": variant, "limit": 1, "errors_only": errors_only, "search": search},
        )
        return int(data["total"])

    def summary(
        self,
        caller: Caller,
        project: str,
        name: str,
        *,
        baseline: int = 0,
        confidence: float = 0.95,
        tie_tolerance: float = 0.0,
    ) -> builtins.list[dict[str, Any]]:
        data = self.http.call(
            "GET",
            self._path(project, name, "/summary"),
            params={"baseline": baseline, "confidence": confidence},
        )
        return [
            {k: (float("nan") if v is None and "." in k else v) for k, v in row.items()}
            for row in data["items"]
        ]

    def compare(
        self,
        caller: Caller,
        project: str,
        name: str,
        *,
        a: int,
        b: int,
        scorer: str,
        confidence: float = 0.95,
        tie_tolerance: float = 0.0,
    ) -> dict[str, Any]:
        return dict(
            self.http.call(
                "GET",
                self._path(project, name, "/compare"),
                params={
                    "a": a,
                    "b": b,
                    "scorer": scorer,
                    "confidence": confidence,
                    "tie_tolerance": tie_tolerance,
                },
            )
        )

    def usage(
        self,
        caller: Caller,
        project: str,
        *,
        by: Sequence[str] = ("model",),
        experiment: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> builtins.list[dict[str, Any]]:
        data = self.http.call(
            "GET",
            f"projects/{_seg(project)}/usage",
            params={
                "by": ",".join(by),
                "experiment": experiment,
                "since": since.isoformat() if since else None,
                "until": until.isoformat() if until else None,
            },
        )
        return list(data["items"])


class HttpFeedback:
    """``FeedbackService`` over HTTP."""

    def __init__(self, client: HttpClient) -> None:
        self.http = client

    def give(
        self,
        caller: Caller,
        project: str,
        experiment: str,
        variant_idx: int,
        row_idx: int,
        **fields: Any,
    ) -> Feedback:
        path = (
            f"projects/{_seg(project)}/experiments/{_seg(experiment)}/results/"
            f"{int(variant_idx)}/{int(row_idx)}/feedback"
        )
        return Feedback(**self.http.call("PUT", path, body=fields)["items"][0])

    def list(
        self,
        caller: Caller,
        project: str,
        experiment: str,
        *,
        variant_idx: int | None = None,
        user: str | None = None,
    ) -> builtins.list[Feedback]:
        path = f"projects/{_seg(project)}/experiments/{_seg(experiment)}/feedback"
        items = [Feedback(**i) for i in self.http.call("GET", path)["items"]]
        return [
            i
            for i in items
            if (variant_idx is None or i.variant_idx == variant_idx)
            and (user is None or i.user == user)
        ]


class HttpCompletions:
    """``CompletionService`` over HTTP: the call is made (and paid for) by the server."""

    def __init__(self, client: HttpClient) -> None:
        self.http = client

    def complete(
        self,
        caller: Caller,
        project: str,
        prompt: Any,
        *,
        model: str,
        params: dict[str, Any] | None = None,
        use_cache: bool = True,
    ) -> dict[str, Any]:
        if not isinstance(prompt, (str, list)):
            raise InvalidInput(
                "prompt must be a string or a list of {role, content} messages", field="prompt"
            )
        body = {"prompt": prompt, "model": model, "params": params or {}, "use_cache": use_cache}
        return dict(self.http.call("POST", f"projects/{_seg(project)}/complete", body=body))
