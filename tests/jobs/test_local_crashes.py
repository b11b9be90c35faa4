"""Crash tests of the local executor, each for real: worker processes SIGKILLed mid-job
(10 times, one of them inside a papermill kernel run), a killed kernel, a server restart with
jobs in flight, a job past its timeout, cancel while queued and while running.

Figures checked: 0 jobs lost, 0 stuck, 0 duplicate results, every job final within
timeout + lease + 60 s, 0 orphan processes."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import psutil

from llmlab_jupyter.executors.local import LocalExecutor
from llmlab_jupyter.services import Caller

ALICE = Caller("alice")
# every crash test runs on SQLite and on PostgreSQL (the root `database_url` fixture)


def _holder_pid(svc: Any, job_id: int) -> int | None:
    """The pid of the worker holding ``job_id`` (from its lease token ``host:pid:rand``)."""
    from sqlalchemy import select

    from llmlab_jupyter.store.orm.jobs import JobRow

    with svc.store.tx.read() as s:
        token = s.scalar(select(JobRow.lease_token).where(JobRow.id == job_id))
    return int(token.split(":")[1]) if token else None


def _all_final(svc: Any, ids: list[int], budget_s: float, helpers: Any) -> list[Any]:
    def done() -> list[Any] | None:
        jobs = [svc.jobs.get(ALICE, "default", i) for i in ids]
        return jobs if all(j.final for j in jobs) else None

    return helpers.wait_for(done, budget_s, "all jobs to reach a final state", every=0.2)


def _no_orphans(helpers: Any) -> None:
    try:
        helpers.wait_for(lambda: not helpers.job_processes(), 10, "job processes to exit")
    except AssertionError:
        left = [
            (p, psutil.Process(p).ppid(), psutil.Process(p).cmdline())
            for p in helpers.job_processes()
        ]
        raise AssertionError(f"orphans: {left}") from None


def _started(svc: Any) -> LocalExecutor:
    executor = svc.executor
    assert isinstance(executor, LocalExecutor)
    svc.config.worker_count = 2
    executor.start()
    return executor


def test_worker_sigkill_mid_job_ten_times(job_services: Any, helpers: Any) -> None:
    svc = job_services
    ex = _started(svc)
    ids = [
        svc.jobs.submit(ALICE, "default", "builtin-sleep", {"seconds": 1.5}, max_attempts=3).id
        for _ in range(9)
    ]
    ids.append(svc.jobs.submit(ALICE, "default", "tiny", {"seconds": 4}, max_attempts=3).id)
    submitted = time.monotonic()
    kills = 0
    for job_id in ids:  # kill the worker of every job once, mid-run

        def running(job_id: int = job_id) -> int | None:
            job = svc.jobs.get(ALICE, "default", job_id)
            if job.state == "running" and job.attempts == 1:
                return _holder_pid(svc, job_id)
            return None

        pid = helpers.wait_for(running, 60, f"job {job_id} to run")
        if svc.jobs.get(ALICE, "default", job_id).template == "tiny":
            time.sleep(2.5)  # inside the kernel run
        job = svc.jobs.get(ALICE, "default", job_id)
        assert job.state == "running" and _holder_pid(svc, job_id) == pid, "finished too soon"
        os.kill(pid, signal.SIGKILL)
        kills += 1
    assert kills == 10
    jobs = _all_final(svc, ids, 3.0 + 120 + 60, helpers)
    elapsed = time.monotonic() - submitted
    assert [j.state for j in jobs] == ["succeeded"] * 10, [
        (j.id, j.error, "".join(c.text for c in svc.jobs.logs(ALICE, "default", j.id))[-1500:])
        for j in jobs
        if j.state != "succeeded"
    ]
    assert all(j.attempts >= 2 for j in jobs), [(j.template, j.attempts, j.error) for j in jobs]
    assert all(j.result and j.result["metrics"] for j in jobs)
    for j in jobs:  # one recorded attempt per job, whose artifacts exist
        log = "".join(c.text for c in svc.jobs.logs(ALICE, "default", j.id))
        assert f"attempt-{j.attempts}" in j.artifacts["result"], log
    assert elapsed < 120 + 3 + 60
    ex.stop()
    _no_orphans(helpers)


def test_kernel_killed_fails_the_job(job_services: Any, helpers: Any) -> None:
    svc = job_services
    ex = _started(svc)
    job = svc.jobs.submit(ALICE, "default", "tiny", {"seconds": 60})

    def kernel() -> psutil.Process | None:
        return helpers.kernel_of(job.id, svc.config.database_url)

    helpers.wait_for(kernel, 60, "the kernel to start").kill()
    try:
        (done,) = _all_final(svc, [job.id], 30, helpers)
    except AssertionError:
        log = "".join(c.text for c in svc.jobs.logs(ALICE, "default", job.id))
        raise AssertionError(log[-3000:]) from None
    assert done.state == "failed" and done.error
    assert "notebook" in done.artifacts  # the partial notebook is kept
    ex.stop()
    _no_orphans(helpers)


def test_the_kernel_gets_the_service_settings_but_no_worker_secrets(
    job_services: Any, helpers: Any, monkeypatch: Any
) -> None:
    svc = job_services
    monkeypatch.setenv("LLMLAB_BROKER_URL", "redis://:hunter2-secret@127.0.0.1:6379/9")
    ex = _started(svc)  # the workers inherit this environment, as under `llmlab worker`
    job = svc.jobs.submit(ALICE, "default", "tiny", {"seconds": 60})

    def kernel_env() -> dict[str, str] | None:
        kernel = helpers.kernel_of(job.id, svc.config.database_url)
        return kernel.environ() if kernel is not None else None

    env = helpers.wait_for(kernel_env, 60, "the kernel to start")
    svc.jobs.cancel(ALICE, "default", job.id)
    assert "LLMLAB_WORKER_CONFIG" not in env and "LLMLAB_BROKER_URL" not in env
    assert not any("hunter2-secret" in value for value in env.values())
    assert env["LLMLAB_DATABASE_URL"] == svc.config.database_url
    assert env["LLMLAB_ARTIFACTS_URL"] == svc.config.artifacts_url
    assert env["LLMLAB_PROJECT"] == "default"
    _all_final(svc, [job.id], 30, helpers)
    ex.stop()
    _no_orphans(helpers)


def test_timeout_and_cancel_in_each_state(job_services: Any, helpers: Any) -> None:
    svc = job_services
    ex = _started(svc)  # two workers
    slow = svc.jobs.submit(ALICE, "default", "tiny", {"seconds": 60}, timeout_s=4)
    victim = svc.jobs.submit(ALICE, "default", "tiny", {"seconds": 60})
    queued = svc.jobs.submit(ALICE, "default", "builtin-sleep", {"seconds": 1})
    assert svc.jobs.cancel(ALICE, "default", queued.id).state == "cancelled"
    helpers.wait_for(
        lambda: svc.jobs.get(ALICE, "default", victim.id).state == "running", 30, "victim runs"
    )
    time.sleep(1.5)
    asked = time.monotonic()
    svc.jobs.cancel(ALICE, "default", victim.id)
    (cancelled,) = _all_final(svc, [victim.id], 10, helpers)
    assert cancelled.state == "cancelled"
    assert time.monotonic() - asked < svc.config.job_lease_s + 2
    (timed_out,) = _all_final(svc, [slow.id], 4 + 3 + 60, helpers)
    assert timed_out.state == "failed" and "timed out after 4 s" in timed_out.error
    assert svc.jobs.get(ALICE, "default", queued.id).attempts == 0  # never ran
    ex.stop()
    _no_orphans(helpers)


def test_server_restart_with_jobs_in_flight(job_services: Any, helpers: Any) -> None:
    from llmlab_jupyter.services import Services

    svc = job_services
    ex = _started(svc)
    ids = [svc.jobs.submit(ALICE, "default", "builtin-sleep", {"seconds": 2}).id for _ in range(4)]
    helpers.wait_for(
        lambda: sum(svc.jobs.get(ALICE, "default", i).state == "running" for i in ids) == 2,
        30,
        "two jobs in flight",
    )
    # crash: the server's workers die with it (SIGKILL), nothing is released
    ex.stopping.set()
    for proc in ex.workers:
        proc.kill()
        proc.wait()
    # restart: a new server process (new services, new executor) over the same database
    svc2 = Services.from_config(svc.config)
    ex2 = svc2.executor
    ex2.start()
    try:
        jobs = _all_final(svc2, ids, 2 + 3 + 60, helpers)
        assert [j.state for j in jobs] == ["succeeded"] * 4
        # graceful restart: running jobs are given back and finish on the next server
        more = [
            svc2.jobs.submit(ALICE, "default", "builtin-sleep", {"seconds": 3}).id for _ in range(2)
        ]
        helpers.wait_for(
            lambda: all(svc2.jobs.get(ALICE, "default", i).state == "running" for i in more),
            30,
            "jobs in flight",
        )
        ex2.stop()
        assert {svc2.jobs.get(ALICE, "default", i).state for i in more} == {"queued"}
        ex2.start()
        jobs = _all_final(svc2, more, 3 + 3 + 60, helpers)
        assert [(j.state, j.attempts) for j in jobs] == [("succeeded", 1)] * 2
    finally:
        ex2.stop()
        svc2.close()
    _no_orphans(helpers)
