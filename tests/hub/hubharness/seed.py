"""alice's work on the service, created over REST with her own Hub token: a prompt with a
label, a dataset, an experiment run on the provider test server, a job and a schedule."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from .hub import Hub

PROMPT_TEXT = "Answer briefly: {{ question }}"
CSV = b"question,answer\nWhat is two plus two,4\nCapital of France,Paris\n"


@dataclass
class Seeded:
    project: str
    prompt: str
    dataset: str
    experiment: str
    job_id: int
    job_experiment: str
    schedule: str


def _wait(check: Any, what: str, timeout: float = 180) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"{what} did not finish within {timeout} s")


def run_experiment_job(
    c: Any, p: str, token: str, *, prompt: str, model: str, name: str
) -> dict[str, Any]:
    """Run the ``experiment`` template on dataset ``qa@1`` in project path ``p`` as the
    token's user, and wait until the job ends; its final state."""
    parameters = {
        "dataset": "qa@1",
        "prompts": [prompt],
        "models": [model],
        "scorers": ["exact_match"],
        "experiment_name": name,
        "show_charts": False,
    }
    job = c.json(
        "POST", f"{p}/jobs", token, json={"template": "experiment", "parameters": parameters}
    )

    def job_done() -> dict[str, Any] | None:
        state = c.json("GET", f"{p}/jobs/{job['id']}", token)
        return state if state["state"] in ("succeeded", "failed", "cancelled") else None

    return _wait(job_done, f"the job {name}")  # type: ignore[no-any-return]


def seed_alice(hub: Hub, token: str, model: str) -> Seeded:
    c = hub.client
    base = "services/llmlab/llmlab/api"
    project = c.json("GET", f"{base}/me", token)["default_project"]
    reply = c.call("POST", f"{base}/projects", token, json={"slug": project})
    assert reply.status_code in (201, 409), reply.text
    p = f"{base}/projects/{project}"
    c.json(
        "POST", f"{p}/prompts/ask/versions", token, json={"template": PROMPT_TEXT, "model": model}
    )
    c.json("PUT", f"{p}/prompts/ask/labels/production", token, json={"version": 1})
    c.json("POST", f"{p}/datasets/qa/versions", token, content=CSV, params={"format": "csv"})
    body = {
        "dataset": "qa@1",
        "variants": ["ask@1"],
        "models": [model],
        "scorers": ["exact_match"],
        "name": "first",
    }
    c.json("POST", f"{p}/experiments", token, json=body)

    def experiment_done() -> bool:
        state = c.json("GET", f"{p}/experiments/first", token)["experiment"]["status"]
        assert state in ("created", "running", "completed"), state
        return state == "completed"

    _wait(experiment_done, "alice's experiment")
    final = run_experiment_job(c, p, token, prompt="ask@production", model=model, name="from-job")
    assert final["state"] == "succeeded", final
    schedule = {
        "name": "nightly",
        "cron": "0 3 * * *",
        "timezone": "UTC",
        "template": "builtin-sleep",
    }
    c.json("POST", f"{p}/schedules", token, json=schedule)
    return Seeded(project, "ask", "qa", "first", int(final["id"]), "from-job", "nightly")
