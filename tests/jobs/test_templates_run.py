"""The shipped templates execute with real papermill kernels (each run in CI): parameters
cell, injected-parameters cell kept, result JSON returned to the job, report with provenance."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmlab_jupyter.leases import new_lease_token
from llmlab_jupyter.services import Caller

ALICE = Caller("alice")
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _run_inline(svc: Any, template: str, params: dict[str, Any]) -> Any:
    job = svc.jobs.submit(ALICE, "default", template, params)
    claim = svc.store.claim_job(new_lease_token(), lease_s=30, job_id=job.id)
    svc.executor.run_claim(claim)
    return svc.jobs.get(ALICE, "default", job.id)


def _cells(notebook: bytes) -> list[dict[str, Any]]:
    return json.loads(notebook)["cells"]


def test_experiment_template_returns_results_and_provenance(seeded: Any, job_services: Any):
    svc = job_services
    job = _run_inline(
        svc,
        "experiment",
        {
            "dataset": "golden",
            "prompts": ["greet@production", "greet@staging"],
            "thresholds": {"exact_match": 0.9},
            "hide_code": True,
        },
    )
    assert job.state == "succeeded", job.error
    assert job.result["passed"] is True
    assert job.result["metrics"]["exact_match"] == 1.0
    assert job.result["metrics"]["greet@2 · fake/echo:exact_match"] == 0.0
    prov = job.result["provenance"]
    assert prov["dataset"] == "golden" and prov["dataset_hash"].startswith("sha256:")
    assert [p["version"] for p in prov["prompts"]] == [1, 2]

    cells = _cells(svc.jobs.artifact(ALICE, "default", job.id, "notebook"))
    tags = [c["metadata"].get("tags", []) for c in cells]
    assert ["parameters"] in tags and ["injected-parameters"] in tags
    injected = "".join(cells[tags.index(["injected-parameters"])]["source"])
    assert f"job_id = {job.id}" in injected and 'user = "alice"' in injected
    assert "DATABASE_URL" not in injected and "postgres" not in injected  # no secrets

    report = svc.jobs.artifact(ALICE, "default", job.id, "report").decode()
    assert 'id="llmlab-provenance"' in report
    assert prov["prompts"][0]["hash"] in report and prov["dataset_hash"] in report
    assert "package_version" in report
    assert "Bokeh" in report  # charts inlined (BokehJS embedded, works offline)
    assert "def run_experiment" not in report  # code cells hidden on request
    stored = json.loads(svc.jobs.artifact(ALICE, "default", job.id, "result"))
    assert stored == job.result
    logs = "".join(chunk.text for chunk in svc.jobs.logs(ALICE, "default", job.id))
    assert "attempt 1 started" in logs and "ended: succeeded" in logs


def test_regression_template_fails_beyond_threshold_and_keeps_its_result(
    seeded: Any, job_services: Any
):
    job = _run_inline(
        job_services,
        "regression",
        {
            "baseline_prompt": "greet@production",
            "candidate_prompt": "greet@staging",
            "max_drop": 0.1,
            "show_charts": False,
        },
    )
    assert job.state == "failed" and "regression beyond 0.1" in job.error
    assert job.result["regressions"] == {"exact_match": {"baseline": 1.0, "candidate": 0.0}}
    assert set(job.artifacts) == {"notebook", "report", "result"}
    # run the same job's notebook again (at-least-once delivery): the experiment is reused
    report = job_services.jobs.artifact(ALICE, "default", job.id, "report").decode()
    assert "AssertionError" in report
