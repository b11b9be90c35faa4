"""The Celery executor on a real Redis broker with a real prefork worker: jobs run, the
worker's child process is SIGKILLed mid-job 10 times (acks_late + reject_on_worker_lost
deliver again; the dead holder's lease is taken over at once), a duplicate delivery does
nothing, cancel and timeout work. 0 lost, 0 stuck, 0 duplicate results, 0 orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psutil
import pytest

from llmlab_jupyter.services import Caller

ALICE = Caller("alice")
REDIS = os.environ.get("LLMLAB_TEST_REDIS_URL", "redis://127.0.0.1:6379")
pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


@pytest.fixture
def celery_services(job_config: Any, job_services: Any) -> Iterator[Any]:
    try:
        import redis

        redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
    except Exception as err:
        from llmlab_jupyter.testing.services import require_service

        require_service("Redis", f"cannot connect to {REDIS} ({err})")
    job_config.broker_url = f"{REDIS}/{9}"  # a separate database, flushed per test
    job_config.executor_class = "llmlab_jupyter.executors.celery_app.CeleryExecutor"
    import redis

    redis.Redis.from_url(job_config.broker_url).flushdb()
    from llmlab_jupyter.executors.local import CONFIG_ENV, config_to_env

    env = dict(os.environ, **{CONFIG_ENV: config_to_env(job_config)})
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "llmlab_jupyter.executors.celery_app",
            "worker",
            "--pool=prefork",
            "--concurrency=2",
            "--prefetch-multiplier=1",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
            "-n",
            f"llmlab-test-{uuid.uuid4().hex[:6]}@%h",
        ],
        env=env,
    )
    job_services.__dict__.pop("executor", None)
    job_services.__dict__.pop("jobs", None)
    job_services.__dict__.pop("schedules", None)
    yield job_services, worker
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _child_running(worker: subprocess.Popen[bytes], helpers: Any) -> Any:
    """The prefork child that is running a job runner right now."""

    def find() -> Any:
        for child in psutil.Process(worker.pid).children():
            try:
                if any("papermill_run" in " ".join(g.cmdline()) for g in child.children()):
                    return child
            except psutil.NoSuchProcess:
                continue
        return None

    return helpers.wait_for(find, 60, "a prefork child running a job", every=0.05)


def _final(svc: Any, ids: list[int], budget: float, helpers: Any) -> list[Any]:
    def done() -> Any:
        jobs = [svc.jobs.get(ALICE, "default", i) for i in ids]
        return jobs if all(j.final for j in jobs) else None

    return helpers.wait_for(done, budget, "jobs to end", every=0.2)


def test_celery_runs_jobs_and_survives_ten_child_kills(celery_services: Any, helpers: Any):
    svc, worker = celery_services
    assert svc.executor.kind == "celery"
    first = svc.jobs.submit(ALICE, "default", "tiny", {"seconds": 0.5})
    (done,) = _final(svc, [first.id], 90, helpers)
    assert done.state == "succeeded" and done.result["metrics"]["score"] == 1.0

    ids = [
        svc.jobs.submit(ALICE, "default", "builtin-sleep", {"seconds": 1.5}, max_attempts=3).id
        for _ in range(9)
    ]
    ids.append(svc.jobs.submit(ALICE, "default", "tiny", {"seconds": 4}, max_attempts=3).id)
    started = time.monotonic()
    killed: set[int] = set()
    while len(killed) < 10 and time.monotonic() - started < 120:
        child = _child_running(worker, helpers)
        running = [
            j
            for j in (svc.jobs.get(ALICE, "default", i) for i in ids)
            if j.state == "running" and j.attempts == 1 and j.id not in killed
        ]
        if not running:
            time.sleep(0.1)
            continue
        job_id = running[0].id
        from sqlalchemy import select

        from llmlab_jupyter.store.orm import JobRow

        with svc.store.tx.read() as s:
            token = s.scalar(select(JobRow.lease_token).where(JobRow.id == job_id))
        if token and int(token.split(":")[1]) in {
            c.pid for c in psutil.Process(worker.pid).children()
        }:
            if running[0].template == "tiny":
                time.sleep(2)
            os.kill(int(token.split(":")[1]), signal.SIGKILL)
            killed.add(job_id)
        del child
    assert len(killed) == 10
    jobs = _final(svc, ids, 120 + 3 + 60, helpers)
    assert [j.state for j in jobs] == ["succeeded"] * 10, [j.error for j in jobs]
    assert all(j.attempts >= 2 for j in jobs)
    assert all(f"attempt-{j.attempts}" in j.artifacts["result"] for j in jobs)

    # a duplicate delivery of a finished job does nothing
    svc.executor.dispatch(jobs[0])
    time.sleep(1)
    again = svc.jobs.get(ALICE, "default", jobs[0].id)
    assert (again.attempts, again.result) == (jobs[0].attempts, jobs[0].result)
    helpers.wait_for(lambda: not helpers.job_processes(), 10, "no orphan processes")


def test_celery_cancel_and_timeout(celery_services: Any, helpers: Any):
    svc, _worker = celery_services
    slow = svc.jobs.submit(ALICE, "default", "builtin-sleep", {"seconds": 60}, timeout_s=3)
    victim = svc.jobs.submit(ALICE, "default", "builtin-sleep", {"seconds": 60})
    helpers.wait_for(
        lambda: svc.jobs.get(ALICE, "default", victim.id).state == "running", 60, "running"
    )
    queued = svc.jobs.submit(ALICE, "default", "builtin-sleep", {"seconds": 1})
    assert svc.jobs.cancel(ALICE, "default", queued.id).state == "cancelled"
    svc.jobs.cancel(ALICE, "default", victim.id)
    timed_out, cancelled, never = _final(svc, [slow.id, victim.id, queued.id], 60, helpers)
    assert timed_out.state == "failed" and "timed out" in timed_out.error
    assert cancelled.state == "cancelled"
    assert never.state == "cancelled" and never.attempts == 0
    helpers.wait_for(lambda: not helpers.job_processes(), 10, "no orphan processes")
