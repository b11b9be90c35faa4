"""Batch jobs: submit a template with parameters, watch it, read its logs and artifacts.

A job runs a notebook template from ``templates_dir`` (``<name>.ipynb``) with papermill; the
executor adds four parameters itself: ``project``, ``user`` (the job's owner), ``job_id`` and
``result_path`` (where the notebook writes its small result JSON). How to reach the
database travels in the job's environment, never in its parameters.
"""

from __future__ import annotations

import builtins
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..exceptions import InvalidInput, NotFound
from ..models import BUILTIN_SLEEP, Claim, Job, JobLog
from .access import Caller
from .base import Service

if TYPE_CHECKING:
    from ..artifacts import ArtifactStore
    from ..config import LlmLabConfig
    from ..executors.base import Executor
    from ..store.sql_store import SQLStore

RESERVED_PARAMETERS = frozenset({"project", "user", "job_id", "result_path"})
ARTIFACT_NAMES = {"notebook": "output.ipynb", "report": "report.html", "result": "result.json"}
MAX_PARAMETERS_BYTES = 64 * 1024
MAX_TIMEOUT_S = 7 * 24 * 3600.0
_TEMPLATE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")


def validate_parameters(parameters: Any) -> dict[str, Any]:
    """Plain JSON data keyed by Python identifiers, none of them reserved, at most 64 KiB."""
    if parameters is None:
        return {}
    if not isinstance(parameters, dict):
        raise InvalidInput("parameters must be an object", field="parameters")
    for key in parameters:
        if not isinstance(key, str) or not _IDENT.match(key):
            raise InvalidInput(f"parameter name {key!r} is not an identifier", field="parameters")
        if key in RESERVED_PARAMETERS:
            raise InvalidInput(f"parameter {key!r} is set by the executor", field="parameters")
    try:
        text = json.dumps(parameters, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as err:
        raise InvalidInput(
            f"parameters must be plain JSON data ({err})", field="parameters"
        ) from err
    if len(text) > MAX_PARAMETERS_BYTES:
        raise InvalidInput("parameters are larger than 64 KiB", field="parameters")
    return dict(json.loads(text))


def validate_timeout(timeout_s: Any, default: float) -> float:
    if timeout_s is None:
        return float(default)
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int | float):
        raise InvalidInput("timeout_s must be a number of seconds", field="timeout_s")
    if not math.isfinite(timeout_s) or not 1 <= timeout_s <= MAX_TIMEOUT_S:
        raise InvalidInput(
            f"timeout_s must be between 1 and {MAX_TIMEOUT_S:g} seconds", field="timeout_s"
        )
    return float(timeout_s)


class JobService(Service):
    """Submit, list, inspect and cancel jobs of a project (writers submit and cancel)."""

    def __init__(
        self,
        store: SQLStore,
        config: LlmLabConfig,
        executor: Callable[[], Executor],
        artifacts: Callable[[], ArtifactStore],
    ) -> None:
        super().__init__(store, config)
        self._executor = executor
        self._artifacts = artifacts

    # -- templates -------------------------------------------------------------------------
    def template_path(self, name: str) -> Path:
        """The notebook of template ``name``; ``NotFound`` if there is none."""
        if not isinstance(name, str) or not _TEMPLATE.match(name):
            raise InvalidInput(f"template name {name!r} is not valid", field="template")
        if name == BUILTIN_SLEEP:
            return Path(BUILTIN_SLEEP)
        path = Path(self.config.templates_dir) / f"{name}.ipynb"
        if not path.is_file():
            raise NotFound(f"template {name!r} not found", field="template")
        return path

    def templates(self) -> builtins.list[str]:
        folder = Path(self.config.templates_dir)
        return sorted(p.stem for p in folder.glob("*.ipynb") if _TEMPLATE.match(p.stem))

    # -- jobs ------------------------------------------------------------------------------
    def submit(
        self,
        caller: Caller,
        project: str,
        template: str,
        parameters: dict[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        timeout_s: float | None = None,
        max_attempts: int | None = None,
    ) -> Job:
        """Queue a run of ``template``; the same ``idempotency_key`` returns the same job."""
        self.access.require(caller, project, "write")
        self.template_path(template)
        params = validate_parameters(parameters)
        timeout = validate_timeout(timeout_s, self.config.job_timeout_s)
        if idempotency_key is not None and (
            not isinstance(idempotency_key, str) or not 1 <= len(idempotency_key) <= 200
        ):
            raise InvalidInput("idempotency_key must be 1-200 characters", field="idempotency_key")
        attempts = self.config.job_max_attempts if max_attempts is None else max_attempts
        if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= 10:
            raise InvalidInput("max_attempts must be between 1 and 10", field="max_attempts")
        executor = self._executor()
        job, created = self.store.submit_job(
            project,
            template,
            params,
            user=caller.user,
            timeout_s=timeout,
            max_attempts=attempts,
            executor=executor.kind,
            idempotency_key=idempotency_key,
        )
        if created:
            executor.dispatch(job)
        return job

    def get(self, caller: Caller, project: str, job_id: int) -> Job:
        self.access.require(caller, project, "read")
        return self.store.get_job(project, _job_id(job_id))

    def list(
        self,
        caller: Caller,
        project: str,
        *,
        state: str | None = None,
        schedule: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[Job]:
        self.access.require(caller, project, "read")
        self.page(limit, offset)
        if state is not None and state not in (
            "queued",
            "running",
            "succeeded",
            "failed",
            "cancelled",
        ):
            raise InvalidInput(f"unknown job state {state!r}", field="state")
        return self.store.list_jobs(
            project, state=state, schedule=schedule, limit=limit, offset=offset
        )

    def cancel(self, caller: Caller, project: str, job_id: int) -> Job:
        """Cancel a queued job at once; a running one stops within a heartbeat."""
        self.access.require(caller, project, "write")
        return self.store.cancel_job(project, _job_id(job_id))

    def logs(
        self, caller: Caller, project: str, job_id: int, *, after: int = 0
    ) -> builtins.list[JobLog]:
        """Log chunks in order; pass ``after=len(previous chunks)`` to follow."""
        self.get(caller, project, job_id)
        return self.store.job_logs(_job_id(job_id), after=max(0, int(after)))

    def artifact(self, caller: Caller, project: str, job_id: int, name: str) -> bytes:
        """``notebook``, ``report`` or ``result`` of the recorded attempt."""
        job = self.get(caller, project, job_id)
        if name not in ARTIFACT_NAMES:
            raise InvalidInput(
                f"artifact must be one of {', '.join(ARTIFACT_NAMES)}", field="artifact"
            )
        key = job.artifacts.get(name)
        if not key:
            raise NotFound(f"job {job_id} has no {name}", field="artifact")
        return self._artifacts().get_bytes(key)

    # -- worker side -----------------------------------------------------------------------
    def store_attempt_artifacts(self, claim: Claim, workdir: Path) -> dict[str, str]:
        """Upload the executed notebook, its HTML report and the result of one attempt."""
        from ..artifacts import join_key

        store = self._artifacts()
        prefix = join_key(
            "projects", claim.project, "jobs", str(claim.job_id), f"attempt-{claim.attempt}"
        )
        keys: dict[str, str] = {}
        result_file = workdir / "result.json"
        result: dict[str, Any] = {}
        if result_file.is_file():
            keys["result"] = store.put_file(
                f"{prefix}/result.json", result_file, content_type="application/json"
            )
            try:
                result = json.loads(result_file.read_text(encoding="utf-8"))
            except ValueError:
                result = {}
        notebook = workdir / "output.ipynb"
        if notebook.is_file():
            keys["notebook"] = store.put_file(
                f"{prefix}/output.ipynb", notebook, content_type="application/x-ipynb+json"
            )
            from ..reports import render_report

            html = render_report(
                notebook,
                provenance=self.provenance(claim, result),
                hide_code=bool(claim.parameters.get("hide_code", False)),
            )
            keys["report"] = store.put_bytes(
                f"{prefix}/report.html", html.encode("utf-8"), content_type="text/html"
            )
        return keys

    @staticmethod
    def provenance(claim: Claim, result: dict[str, Any]) -> dict[str, Any]:
        """What made the numbers: job, template, parameters, package, and what the notebook
        reported (prompt versions and hashes, dataset hash, models)."""
        reported = result.get("provenance") if isinstance(result, dict) else None
        return {
            "job": claim.job_id,
            "attempt": claim.attempt,
            "project": claim.project,
            "owner": claim.owner,
            "template": claim.template,
            "parameters": claim.parameters,
            "package_version": __version__,
            "started_at": claim.started_at.isoformat(),
            **(reported if isinstance(reported, dict) else {}),
        }


def _job_id(job_id: Any) -> int:
    if isinstance(job_id, bool):
        raise InvalidInput("job id must be an integer", field="job")
    try:
        value = int(job_id)
    except (TypeError, ValueError) as err:
        raise InvalidInput("job id must be an integer", field="job") from err
    if value < 1:
        raise InvalidInput("job id must be positive", field="job")
    return value
