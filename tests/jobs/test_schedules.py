"""Schedules: cron + time zone, exactly one job per tick with two schedulers racing,
persistence across restarts, alert rules and webhook URL validation; the CLI."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from click.testing import CliRunner

from llmlab_jupyter.exceptions import InvalidInput
from llmlab_jupyter.leases import new_lease_token
from llmlab_jupyter.services import Caller, Services
from llmlab_jupyter.services.schedules import next_tick, validate_webhook_url

ALICE = Caller("alice")
UTC = timezone.utc


def test_next_tick_honours_the_time_zone() -> None:
    winter = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    assert next_tick("0 6 * * *", "Europe/Paris", winter) == datetime(2026, 1, 16, 5, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
    assert next_tick("0 6 * * *", "Europe/Paris", summer) == datetime(2026, 7, 16, 4, 0, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        next_tick("0 6 * * *", "Mars/Olympus", winter)


def test_two_schedulers_make_exactly_one_job_per_tick(job_services: Any, job_config: Any) -> None:
    sched = job_services.schedules.add(
        ALICE,
        "default",
        "every-minute",
        cron="* * * * *",
        template="builtin-sleep",
        parameters={"seconds": 0},
    )
    other = Services.from_config(job_config)  # a second server/worker process
    try:
        tick = sched.next_run_at
        for n in range(1, 6):
            now = tick + timedelta(seconds=1)
            barrier = threading.Barrier(4)

            def fire(svc: Services, now: datetime = now, barrier: Any = barrier) -> None:
                barrier.wait()
                svc.schedules.tick(svc.executor, now=now)

            threads = [
                threading.Thread(target=fire, args=(s,))
                for s in (job_services, other, job_services, other)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            jobs = job_services.jobs.list(ALICE, "default", schedule="every-minute")
            assert len(jobs) == n
            assert len({j.scheduled_for for j in jobs}) == n
            tick += timedelta(minutes=1)
        # missed ticks (server down for 10 minutes) collapse into one run
        job_services.schedules.tick(job_services.executor, now=tick + timedelta(minutes=10))
        assert len(job_services.jobs.list(ALICE, "default", schedule="every-minute")) == 6
    finally:
        other.close()
    # the schedule survives a restart: a new process sees it and its next tick
    again = Services.from_config(job_config)
    try:
        (s,) = again.schedules.list(ALICE, "default")
        assert s.name == "every-minute" and s.next_run_at > tick
    finally:
        again.close()


def test_pause_resume_remove(job_services: Any) -> None:
    svc = job_services.schedules
    svc.add(ALICE, "default", "nightly", cron="0 3 * * *", template="builtin-sleep")
    assert svc.pause(ALICE, "default", "nightly").paused
    far = datetime.now(UTC) + timedelta(days=3)
    assert job_services.schedules.tick(job_services.executor, now=far) == []
    assert not svc.resume(ALICE, "default", "nightly").paused
    svc.remove(ALICE, "default", "nightly")
    assert svc.list(ALICE, "default") == []
    for bad in ({"cron": "61 * * * *"}, {"cron": "@daily"}, {"timezone": "Nowhere/City"}):
        kwargs = {"cron": "0 3 * * *", "template": "builtin-sleep", **bad}
        with pytest.raises(InvalidInput):
            svc.add(ALICE, "default", "bad", **kwargs)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/hook",
        "http://192.168.1.1/hook",
        "http://[::1]/hook",
        "http://[fd00:ec2::254]/hook",
        "http://0.0.0.0/hook",
        "file:///etc/passwd",
        "http://user:pw@example.com/hook",
    ],
)
def test_webhook_urls_to_private_addresses_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput):
        validate_webhook_url(url, allow_private=False)


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _finish(svc: Any, job_id: int, score: float) -> None:
    claim = svc.store.claim_job(new_lease_token(), lease_s=30, job_id=job_id)
    assert svc.store.finish_job(
        job_id, claim.lease_token, "succeeded", result={"metrics": {"exact_match": score}}
    )


def test_alert_rule_raises_alerts_and_calls_the_webhook(job_services: Any) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    svc = job_services.schedules
    rule = {"metric": "exact_match", "max_drop": 0.05, "webhook_url": url}
    with pytest.raises(InvalidInput, match="non-public"):
        svc.add(
            ALICE, "default", "nightly", cron="0 3 * * *", template="builtin-sleep", alert_rule=rule
        )
    job_services.config.webhook_allow_private = True
    sched = svc.add(
        ALICE, "default", "nightly", cron="0 3 * * *", template="builtin-sleep", alert_rule=rule
    )
    scores = [0.90, 0.88, 0.70]  # second: within max_drop; third: a regression
    for i, score in enumerate(scores):
        now = sched.next_run_at + timedelta(days=i, seconds=1)
        (job,) = svc.tick(job_services.executor, now=now)
        _finish(job_services, job.id, score)
        alert = svc.after_job(job.id)
        assert (alert is not None) == (i == 2)
    (alert,) = svc.alerts(ALICE, "default")
    assert (alert.value, alert.baseline, alert.schedule) == (0.70, 0.88, "nightly")
    assert alert.webhook_status == "sent: HTTP 204"
    assert _Hook.received[-1]["alert"]["message"] == alert.message
    assert svc.after_job(job.id).id == alert.id  # evaluated twice: still one alert
    assert len(svc.alerts(ALICE, "default")) == 1
    server.shutdown()

    pinned = svc.add(
        ALICE,
        "default",
        "pinned",
        cron="0 4 * * *",
        template="builtin-sleep",
        alert_rule={"metric": "exact_match", "max_drop": 0.0, "baseline": 0.95},
    )
    (job,) = svc.tick(job_services.executor, now=pinned.next_run_at + timedelta(seconds=1))
    _finish(job_services, job.id, 0.9)
    assert svc.after_job(job.id).baseline == 0.95


def test_cli_jobs_and_schedules(job_config: Any, job_services: Any, tmp_path: Any) -> None:
    from llmlab_jupyter.cli import main

    base = [
        "--database-url",
        job_config.database_url,
        "--data-dir",
        job_config.data_dir,
        "--user",
        "alice",
    ]
    env = {"LLMLAB_ARTIFACTS_URL": job_config.artifacts_url}
    runner = CliRunner()

    def run(*args: str) -> Any:
        result = runner.invoke(main, [*base, *args], env=env, catch_exceptions=False)
        return result

    out = run("jobs", "submit", "builtin-sleep", "-P", "seconds=0.5", "--idempotency-key", "k1")
    assert out.exit_code == 0, out.output
    job_id = int(out.output.split()[1])
    assert run(
        "jobs", "submit", "builtin-sleep", "-P", "seconds=0.5", "--idempotency-key", "k1"
    ).output.split()[1] == str(job_id)
    assert "builtin-sleep" in run("jobs", "list").output
    shown = json.loads(run("jobs", "show", str(job_id)).output)
    assert shown["parameters"] == {"seconds": 0.5} and shown["state"] == "queued"
    assert run("jobs", "cancel", str(job_id)).output.strip() == f"job {job_id} cancelled"
    bad = runner.invoke(main, [*base, "jobs", "cancel", "999"], env=env)
    assert bad.exit_code == 1 and "not found" in bad.output
    out = run(
        "schedules",
        "add",
        "nightly",
        "builtin-sleep",
        "--cron",
        "0 3 * * *",
        "--tz",
        "Europe/Paris",
        "--alert",
        "exact_match",
        "--max-drop",
        "0.1",
    )
    assert out.exit_code == 0 and "next run" in out.output
    assert "Europe/Paris" in run("schedules", "list").output
    assert run("schedules", "pause", "nightly").output.strip() == "schedule nightly paused"
    assert json.loads(run("schedules", "list", "--json").output)[0]["paused"] is True
    assert run("schedules", "remove", "nightly").exit_code == 0
