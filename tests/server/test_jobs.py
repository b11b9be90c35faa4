"""Jobs, schedules and alerts over REST: a job submitted over HTTP runs on the worker the
server started; reports are served with permission checks and a CSP sandbox."""

from __future__ import annotations

import asyncio

import pytest

from .conftest import assert_error


@pytest.fixture
def llmlab_workers() -> int:
    return 1  # jobs submitted over REST run on the worker the server starts


async def _wait_final(api, job_id: int, timeout: float = 60.0) -> dict:
    for _ in range(int(timeout / 0.2)):
        reply = await api("GET", f"projects/default/jobs/{job_id}")
        if reply.body["state"] in ("succeeded", "failed", "cancelled"):
            return reply.body
        await asyncio.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


async def test_submit_run_logs_and_idempotency(api):
    body = {"template": "builtin-sleep", "parameters": {"seconds": 0.2}, "idempotency_key": "k"}
    first = await api("POST", "projects/default/jobs", json_body=body)
    assert first.status == 201 and first.body["state"] == "queued"
    assert first.body["dispatched_at"] is None  # local workers claim from the database
    again = await api("POST", "projects/default/jobs", json_body=body)
    assert again.body["id"] == first.body["id"]
    done = await _wait_final(api, first.body["id"])
    assert done["state"] == "succeeded" and done["result"]["metrics"]["slept_s"] == 0.2
    logs = await api("GET", f"projects/default/jobs/{done['id']}/logs")
    assert "sleeping" in "".join(c["text"] for c in logs.body["items"])
    listed = await api("GET", "projects/default/jobs", params={"state": "succeeded"})
    assert [j["id"] for j in listed.body["items"]] == [done["id"]]
    assert_error(await api("POST", "projects/default/jobs", json_body={"template": "../x"}), 400)
    assert_error(await api("GET", "projects/default/jobs/abc"), 400, "invalid_input")
    assert_error(await api("GET", "projects/default/jobs/999"), 404, "not_found")
    assert_error(await api("POST", f"projects/default/jobs/{done['id']}/cancel"), 409)


async def test_report_permissions_and_csp(api, jp_serverapp):
    app = jp_serverapp.extension_manager.extension_apps["llmlab_jupyter"]
    (llmlab,) = list(app)
    services = llmlab.services
    from llmlab_jupyter.services import Caller

    job = services.jobs.submit(Caller("alice"), "default", "builtin-sleep", {"seconds": 60})
    services.jobs.cancel(Caller("alice"), "default", job.id)
    key = "projects/default/jobs/x/report.html"
    services.artifacts.put_bytes(key, b"<html><body><script>1</script></body></html>")
    services.store.set_job_artifacts(job.id, {"report": key})
    report = await api("GET", f"projects/default/jobs/{job.id}/report")
    assert report.status == 200
    csp = report.response.headers["Content-Security-Policy"]
    assert "sandbox allow-scripts" in csp and "allow-same-origin" not in csp
    assert report.response.headers["Content-Type"].startswith("text/html")
    assert report.response.headers["X-Content-Type-Options"] == "nosniff"
    assert_error(await api("GET", f"projects/default/jobs/{job.id}/report", user="bob"), 404)
    assert_error(await api("GET", f"projects/default/jobs/{job.id}/report", user=None), 403)
    assert_error(await api("GET", f"projects/default/jobs/{job.id}/notebook"), 404)


async def test_schedules_and_alerts(api):
    body = {
        "name": "nightly",
        "cron": "0 3 * * *",
        "timezone": "Europe/Paris",
        "template": "builtin-sleep",
        "alert_rule": {"metric": "slept_s", "max_drop": 0.1},
    }
    created = await api("POST", "projects/default/schedules", json_body=body)
    assert created.status == 201 and created.body["timezone"] == "Europe/Paris"
    assert_error(await api("POST", "projects/default/schedules", json_body=body), 409)
    bad = dict(
        body, name="bad", alert_rule={"metric": "x", "webhook_url": "http://169.254.169.254/"}
    )
    assert_error(await api("POST", "projects/default/schedules", json_body=bad), 400)
    paused = await api("POST", "projects/default/schedules/nightly/pause")
    assert paused.body["paused"] is True
    resumed = await api("POST", "projects/default/schedules/nightly/resume")
    assert resumed.body["paused"] is False
    assert [s["name"] for s in (await api("GET", "projects/default/schedules")).body["items"]] == [
        "nightly"
    ]
    assert (await api("GET", "projects/default/alerts")).body == {"items": []}
    assert (await api("DELETE", "projects/default/schedules/nightly")).status == 204
    assert_error(await api("GET", "projects/default/schedules/nightly"), 404)
