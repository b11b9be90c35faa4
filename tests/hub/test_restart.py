"""A restart of the llmlab service loses no experiment and no job.

The service is SIGKILLed while an experiment runs in its background and a job runs in its
local worker; the Hub starts it again (a managed service). The experiment is then
``interrupted`` and resumes without calling the model again for the rows it had stored;
the job's attempt ended with its worker, so the job is queued again and succeeds.
"""

from __future__ import annotations

import signal
import time
from typing import Any

import psutil
from hubharness.procs import wait_for
from hubharness.run import HubRun

ROWS = 30
MODEL = "fake/echo?latency_ms=400"


def _service_process(hub_run: HubRun) -> psutil.Process:
    hub = psutil.Process(hub_run.hub.proc.pid)
    for child in hub.children(recursive=True):
        if "serve" in child.cmdline() and any("llmlab" in part for part in child.cmdline()):
            return child
    raise AssertionError("no llmlab serve process under the Hub")


def test_a_killed_service_comes_back_and_loses_no_experiment_or_job(
    user_servers: HubRun,
) -> None:
    hub_run = user_servers
    hub, token = hub_run.hub, hub_run.tokens["alice"]
    me = hub.llmlab("GET", "me", token).json()
    p = f"projects/{me['default_project']}"
    assert hub.llmlab(
        "POST", "projects", token, json={"slug": me["default_project"]}
    ).status_code in (
        201,
        409,
    )
    csv = "question\n" + "".join(f"q{i}\n" for i in range(ROWS))
    ok = hub.llmlab(
        "POST", f"{p}/datasets/restart-rows/versions", token, content=csv.encode(),
        params={"format": "csv"},
    )  # fmt: skip
    assert ok.status_code in (200, 201), ok.text
    saved = hub.llmlab(
        "POST", f"{p}/prompts/restart-echo/versions", token,
        json={"template": "{{ question }}", "model": MODEL},
    )  # fmt: skip
    assert saved.status_code in (200, 201), saved.text
    body = {
        "dataset": "restart-rows@1",
        "variants": ["restart-echo@1"],
        "name": "survives-restart",
        "concurrency": 2,
    }
    created = hub.llmlab("POST", f"{p}/experiments", token, json=body)
    assert created.status_code in (200, 201), created.text
    # creating it over REST starts it in the service's background
    job = hub.llmlab(
        "POST", f"{p}/jobs", token, json={"template": "builtin-sleep", "parameters": {"seconds": 3}}
    ).json()

    def experiment() -> dict[str, Any]:
        return hub.llmlab("GET", f"{p}/experiments/survives-restart", token).json()["experiment"]

    def job_state() -> dict[str, Any]:
        return hub.llmlab("GET", f"{p}/jobs/{job['id']}", token).json()

    wait_for(lambda: experiment()["completed_items"] >= 4, "some results stored")
    wait_for(lambda: job_state()["state"] == "running", "the job running")
    before = experiment()["completed_items"]
    victim = _service_process(hub_run)
    victim.send_signal(signal.SIGKILL)

    def gone() -> bool:  # a zombie until the Hub's poll reaps it and starts a new one
        try:
            return victim.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    wait_for(gone, "the service process to die", timeout=10)
    # meanwhile the sidebar's calls through alice's server get a clear error, not a hang
    down = hub.client.call("GET", "user/alice/llmlab/api/me", token)
    assert down.status_code == 502, down.text
    error = down.json()
    assert error["error_code"] == "service_unavailable"
    assert "/services/llmlab/" in error["message"] and token not in error["message"]

    def answering() -> bool:
        try:
            return hub.llmlab("GET", "me", token).status_code == 200
        except Exception:
            return False

    restarted_at = time.monotonic()
    wait_for(answering, "the Hub to start the service again")
    print(f"service answering again {time.monotonic() - restarted_at:.1f} s after the kill")
    assert _service_process(hub_run).pid != victim.pid
    wait_for(lambda: experiment()["status"] == "interrupted", "the run to be marked interrupted")
    kept = experiment()["completed_items"]
    assert kept >= before  # nothing stored was lost
    resumed = hub.llmlab("POST", f"{p}/experiments/survives-restart/start", token, json={})
    assert resumed.status_code in (200, 202), resumed.text
    wait_for(lambda: experiment()["status"] == "completed", "the resumed run", timeout=180)
    done = experiment()
    assert (done["completed_items"], done["error_items"], done["total_items"]) == (ROWS, 0, ROWS)
    usage = hub.llmlab(
        "GET", f"{p}/usage", token, params={"by": "experiment", "experiment": "survives-restart"}
    ).json()
    calls = sum(int(row.get("calls", 0)) for row in usage["items"])
    # rows stored before the kill are not called again (at most the ones in flight are)
    assert ROWS <= calls <= ROWS + 2, usage
    final = wait_for(
        lambda: (s := job_state())["state"] in ("succeeded", "failed", "cancelled") and s,
        "the job to end after the restart",
        timeout=180,
    )
    assert final["state"] == "succeeded", final
    assert final["attempts"] >= 2, final  # the killed attempt, then one that finished
