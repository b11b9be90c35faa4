"""Crash tests of the Celery executor, each for real: a Redis broker, prefork workers and
"server" processes (the executor's maintenance) started as subprocesses, papermill kernels.

- a pool child SIGKILLed mid-job 10 times, first the notebook job's with its kernel up
  (acks_late + reject_on_worker_lost deliver again; the dead holder's lease is taken over at
  once; the test process is the server, whose reaper and re-dispatch cover a lost message);
- the job's kernel SIGKILLed: the job fails with a clear error;
- the worker's MAIN process SIGKILLed mid-job: its pool children, runners and kernels die
  too; the reaper queues the jobs again and another worker runs them;
- the server (maintenance) process SIGKILLed and started again with jobs in flight, and
  jobs it had committed but never sent;
- timeout and cancel of queued and running (kernel) jobs.

Figures checked: 0 jobs lost, 0 stuck, 0 duplicate results, every job final within
timeout + lease + 60 s, 0 orphan processes."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from typing import Any

import psutil
import pytest

from llmlab_jupyter.services import Caller

ALICE = Caller("alice")
# Every crash test runs on SQLite and on PostgreSQL (the root `database_url` fixture).
_ENDED = re.compile(r"\[llmlab\] attempt (\d+) ended: (\w+)")
_STARTED = re.compile(r"\[llmlab\] attempt (\d+) started")


@pytest.fixture
def celery_services(celery: Any) -> tuple[Any, subprocess.Popen[bytes]]:
    """The services (Celery executor) and one prefork worker with two pool processes."""
    return celery.services, celery.start_worker(concurrency=2)


def _holder_pid(svc: Any, job_id: int) -> int | None:
    """The pid named by job ``job_id``'s lease (the pool process running it), if any."""
    from sqlalchemy import select

    from llmlab_jupyter.store.orm.jobs import JobRow

    with svc.store.tx.read() as s:
        token = s.scalar(select(JobRow.lease_token).where(JobRow.id == job_id))
    return int(token.split(":")[1]) if token else None


def _final(svc: Any, ids: list[int], budget: float, helpers: Any) -> list[Any]:
    def done() -> Any:
        jobs = [svc.jobs.get(ALICE, "default", i) for i in ids]
        return jobs if all(j.final for j in jobs) else None

    return helpers.wait_for(done, budget, "jobs to end", every=0.2)


def test_celery_runs_jobs_and_survives_ten_child_kills(celery_services: Any, helpers: Any):
    svc, worker = celery_services
    assert svc.executor.kind == "celery"
    svc.config.job_redispatch_after_s = 10.0  # as a server does: a lost message is sent again
    svc.executor.start()  # this process is the server: reaper and re-dispatch
    first = svc.jobs.submit(ALICE, "default", "tiny", {"seconds": 0.5})
    (done,) = _final(svc, [first.id], 90, helpers)
    assert done.state == "succeeded" and done.result["metrics"]["score"] == 1.0

    tiny = svc.jobs.submit(ALICE, "default", "tiny", {"seconds": 4}, max_attempts=3).id
    ids = [tiny] + [
        svc.jobs.submit(ALICE, "default", "builtin-sleep", {"seconds": 3}, max_attempts=3).id
        for _ in range(9)
    ]
    killed: dict[tuple[int, int], int] = {}

    def kill(job_id: int, attempt: int, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)
        killed[(job_id, attempt)] = pid

    # first the notebook job's pool process, once its kernel is up
    helpers.wait_for(lambda: _kernel_of(tiny, helpers, svc), 90, "the notebook job's kernel")
    pid = _holder_pid(svc, tiny)
    assert pid in {c.pid for c in psutil.Process(worker.pid).children()}
    kill(tiny, svc.jobs.get(ALICE, "default", tiny).attempts, pid)
    # then the pool process of any running attempt, 9 times. Each job may be killed on its
    # first and second attempts (its third must then succeed), so a job that ends before
    # its turn does not starve the loop.
    end = time.monotonic() + 150
    while len(killed) < 10 and time.monotonic() < end:
        children = {c.pid for c in psutil.Process(worker.pid).children()}
        target = next(
            (
                j
                for j in (svc.jobs.get(ALICE, "default", i) for i in ids)
                if j.state == "running" and j.attempts <= 2 and (j.id, j.attempts) not in killed
            ),
            None,
        )
        pid = _holder_pid(svc, target.id) if target else None
        if target is None or pid not in children:
            time.sleep(0.05)
            continue
        kill(target.id, target.attempts, pid)
    assert len(killed) == 10, killed
    jobs = _final(svc, ids, 120 + 3 + 60, helpers)
    assert [j.state for j in jobs] == ["succeeded"] * 10, [j.error for j in jobs]
    for job in jobs:  # every killed attempt was run again, and its result is the last one's
        kills = sum(job_id == job.id for job_id, _ in killed)
        assert job.attempts >= kills + 1, (job.id, job.attempts, kills)
        assert f"attempt-{job.attempts}" in job.artifacts["result"]

    # a duplicate delivery of a finished job does nothing
    svc.executor.dispatch(jobs[0])
    time.sleep(1)
    again = svc.jobs.get(ALICE, "default", jobs[0].id)
    assert (again.attempts, again.result) == (jobs[0].attempts, jobs[0].result)
    helpers.wait_for(lambda: not helpers.job_processes(), 10, "no orphan processes")


def _log(svc: Any, job_id: int) -> str:
    return "".join(c.text for c in svc.jobs.logs(ALICE, "default", job_id))


def _events(svc: Any, job_id: int) -> list[str]:
    """The worker's lines of a job's log (attempts started and ended)."""
    return [line for line in _log(svc, job_id).splitlines() if line.startswith("[llmlab]")]


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _figures(svc: Any, ids: list[int], budget_s: float, helpers: Any) -> dict[str, Any]:
    """Wait (up to ``budget_s``) for the jobs to end; then count what went wrong.

    lost: not succeeded (a retried job must still succeed); stuck: not final in time;
    duplicates: a job whose log shows more than one recorded end, or more attempts started
    than counted; orphans: job processes (runner, kernel) still alive 15 s after the end."""
    end = time.monotonic() + budget_s
    while time.monotonic() < end:
        jobs = [svc.jobs.get(ALICE, "default", i) for i in ids]
        if all(j.final for j in jobs):
            break
        time.sleep(0.25)
    jobs = [svc.jobs.get(ALICE, "default", i) for i in ids]
    duplicates = 0
    for job in jobs:
        log = _log(svc, job.id)
        recorded = [m for m in _ENDED.findall(log) if m[1] in ("succeeded", "failed", "cancelled")]
        started = _STARTED.findall(log)
        duplicates += max(0, len(recorded) - 1) + max(0, len(started) - job.attempts)
    with contextlib.suppress(AssertionError):
        helpers.wait_for(lambda: not helpers.job_processes(), 15, "job processes to exit")
    return {
        "lost": sum(j.final and j.state != "succeeded" for j in jobs),
        "stuck": sum(not j.final for j in jobs),
        "duplicates": duplicates,
        "orphans": len(helpers.job_processes()),
        "_jobs": jobs,
        "_detail": [
            (j.id, j.state, j.attempts, j.error, _events(svc, j.id))
            for j in jobs
            if j.state != "succeeded"
        ],
    }


def _assert_zero(figures: dict[str, Any]) -> list[Any]:
    counts = {k: v for k, v in figures.items() if not k.startswith("_")}
    assert counts == {"lost": 0, "stuck": 0, "duplicates": 0, "orphans": 0}, figures["_detail"]
    return list(figures["_jobs"])


def _kernel_of(job_id: int, helpers: Any, svc: Any) -> psutil.Process | None:
    return helpers.kernel_of(job_id, svc.config.database_url)


def test_celery_kernel_killed_fails_the_job(celery_services: Any, helpers: Any) -> None:
    svc, worker = celery_services
    job = svc.jobs.submit(ALICE, "default", "tiny", {"seconds": 60}, timeout_s=120)
    kernel = helpers.wait_for(lambda: _kernel_of(job.id, helpers, svc), 90, "the kernel to start")
    assert worker.pid in {p.pid for p in kernel.parents()}  # runs under the Celery worker
    kernel.kill()
    (done,) = _final(svc, [job.id], 60, helpers)
    assert done.state == "failed", _log(svc, job.id)[-2000:]
    assert "kernel" in done.error.lower(), done.error  # says why: the kernel died
    assert done.attempts == 1  # a failed notebook is not retried
    assert "notebook" in done.artifacts  # the partial executed notebook is kept
    helpers.wait_for(lambda: not helpers.job_processes(), 15, "no orphan processes")
    assert worker.poll() is None  # the worker itself lives on


def test_celery_main_worker_sigkill_mid_job(celery: Any, helpers: Any) -> None:
    svc = celery.services
    svc.config.job_redispatch_after_s = 10.0  # a message the killed worker had taken is resent
    svc.executor.start()  # this process is the server: reaper and re-dispatch
    first = celery.start_worker(concurrency=2)
    timeout, lease = 40.0, svc.config.job_lease_s
    busy = [
        svc.jobs.submit(ALICE, "default", "tiny", {"seconds": 6}, timeout_s=timeout).id,
        svc.jobs.submit(ALICE, "default", "builtin-sleep", {"seconds": 6}, timeout_s=timeout).id,
    ]
    helpers.wait_for(
        lambda: (
            all(svc.jobs.get(ALICE, "default", i).state == "running" for i in busy)
            and _kernel_of(busy[0], helpers, svc)
        ),
        90,
        "both jobs running, the kernel started",
    )
    waiting = [
        svc.jobs.submit(ALICE, "default", "builtin-sleep", {"seconds": 2}, timeout_s=timeout).id
        for _ in range(2)
    ]
    children = celery.pool_children(first)
    assert len(children) == 2 and helpers.job_processes()
    killed_at = time.monotonic()
    os.kill(first.pid, signal.SIGKILL)  # the MAIN process, not a pool child
    first.wait()
    # its pool children die with it (PR_SET_PDEATHSIG), their runners and kernels with them
    helpers.wait_for(
        lambda: not any(_alive(c) for c in children) and not helpers.job_processes(),
        20,
        "the pool children, runners and kernels of the killed worker to exit",
    )
    assert {svc.jobs.get(ALICE, "default", i).attempts for i in busy} == {1}
    celery.start_worker(concurrency=2)  # another worker
    jobs = _assert_zero(_figures(svc, busy + waiting, timeout + lease + 60, helpers))
    assert time.monotonic() - killed_at < timeout + lease + 60
    for job in jobs[:2]:  # the killed attempt never ended; a later one succeeded
        events = _events(svc, job.id)
        assert job.attempts >= 2 and not any("attempt 1 ended" in e for e in events), events
    assert all(f"attempt-{j.attempts}" in j.artifacts["result"] for j in jobs)


def test_celery_server_restart_with_jobs_in_flight(celery: Any, helpers: Any) -> None:
    svc = celery.services
    server = celery.start_server()
    celery.start_worker(concurrency=2)
    timeout = 30.0
    ids = [
        svc.jobs.submit(ALICE, "default", "builtin-sleep", {"seconds": 2}, timeout_s=timeout).id
        for _ in range(6)
    ]
    helpers.wait_for(
        lambda: sum(svc.jobs.get(ALICE, "default", i).state == "running" for i in ids) == 2,
        90,
        "two jobs in flight",
    )
    # the server crashes: SIGKILL, nothing is given back
    server.kill()
    server.wait()
    # jobs a server committed and then died before sending to the broker
    unsent = [
        svc.store.submit_job(
            "default",
            "builtin-sleep",
            {"seconds": 1},
            user="alice",
            timeout_s=timeout,
            max_attempts=3,
            executor="celery",
        )[0].id
        for _ in range(2)
    ]
    time.sleep(3)
    assert {svc.jobs.get(ALICE, "default", i).state for i in unsent} == {"queued"}
    restarted = celery.start_server()  # a new server process over the same database
    budget = timeout + svc.config.job_lease_s + 60
    jobs = _assert_zero(_figures(svc, ids + unsent, budget, helpers))
    assert [j.attempts for j in jobs] == [1] * len(jobs)  # nothing ran twice
    from sqlalchemy import select

    from llmlab_jupyter.store.orm.jobs import JobRow

    with svc.store.tx.read() as s:
        dispatched = s.scalars(select(JobRow.dispatched_at).where(JobRow.id.in_(unsent))).all()
    assert all(d is not None for d in dispatched)  # the new server sent them
    assert restarted.poll() is None


def test_celery_timeout_and_cancel_in_each_state(
    celery: Any, celery_services: Any, helpers: Any
) -> None:
    svc, _worker = celery_services
    slow = svc.jobs.submit(ALICE, "default", "tiny", {"seconds": 60}, timeout_s=10)
    victim = svc.jobs.submit(ALICE, "default", "tiny", {"seconds": 60})
    helpers.wait_for(
        lambda: _kernel_of(victim.id, helpers, svc) and _kernel_of(slow.id, helpers, svc),
        90,
        "both kernels running",
    )
    # queued: its message waits in the broker (both pool processes are busy)
    queued = svc.jobs.submit(ALICE, "default", "builtin-sleep", {"seconds": 1})
    assert svc.jobs.cancel(ALICE, "default", queued.id).state == "cancelled"
    # running (inside the kernel run): stops within a heartbeat
    asked = time.monotonic()
    svc.jobs.cancel(ALICE, "default", victim.id)
    (cancelled,) = _final(svc, [victim.id], 30, helpers)
    assert cancelled.state == "cancelled"
    assert time.monotonic() - asked < svc.config.job_lease_s + 10
    (timed_out,) = _final(svc, [slow.id], 10 + svc.config.job_lease_s + 60, helpers)
    assert timed_out.state == "failed" and "timed out after 10 s" in timed_out.error
    # the cancelled job's message was delivered and did nothing
    helpers.wait_for(celery.broker_idle, 30, "the broker to deliver every message")
    never = svc.jobs.get(ALICE, "default", queued.id)
    assert never.state == "cancelled" and never.attempts == 0
    assert _log(svc, queued.id) == ""
    helpers.wait_for(lambda: not helpers.job_processes(), 15, "no orphan processes")
