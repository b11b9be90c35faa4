"""The job queue in the database (SQLite and PostgreSQL): idempotent submit under
concurrency, exclusive claims, leases, heartbeats, reaping, cancel in each state, RBAC."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from llmlab_jupyter.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from llmlab_jupyter.leases import new_lease_token
from llmlab_jupyter.services import Caller

ALICE = Caller("alice")
SLEEP = "builtin-sleep"


def _claim(svc: Any, lease_s: float = 3.0, **kw: Any) -> Any:
    return svc.store.claim_job(new_lease_token(), lease_s=lease_s, **kw)


def test_hundred_concurrent_submits_with_one_key_make_one_job(job_services: Any) -> None:
    def submit(_: int) -> int:
        return job_services.jobs.submit(
            ALICE, "default", SLEEP, {"seconds": 1}, idempotency_key="nightly-2026-01-01"
        ).id

    with ThreadPoolExecutor(max_workers=20) as pool:
        ids = set(pool.map(submit, range(100)))
    assert len(ids) == 1
    assert len(job_services.jobs.list(ALICE, "default")) == 1
    with pytest.raises(Conflict, match="different job"):
        job_services.jobs.submit(
            ALICE, "default", SLEEP, {"seconds": 2}, idempotency_key="nightly-2026-01-01"
        )


def test_concurrent_claims_never_take_the_same_job(job_services: Any) -> None:
    for i in range(12):
        job_services.jobs.submit(ALICE, "default", SLEEP, {"seconds": i})

    def claim_all(_: int) -> list[int]:
        got = []
        while (c := _claim(job_services, executor="local")) is not None:
            got.append(c.job_id)
        return got

    with ThreadPoolExecutor(max_workers=4) as pool:
        taken = [j for got in pool.map(claim_all, range(4)) for j in got]
    assert sorted(taken) == sorted(set(taken)) and len(taken) == 12
    assert {j.state for j in job_services.jobs.list(ALICE, "default")} == {"running"}


def test_only_the_lease_holder_finishes_a_job(job_services: Any) -> None:
    job = job_services.jobs.submit(ALICE, "default", SLEEP, {}, max_attempts=2)
    first = _claim(job_services, lease_s=0.2)
    assert first.attempt == 1
    time.sleep(0.3)  # lease expired: the job is taken over
    second = _claim(job_services, job_id=job.id)
    assert second.attempt == 2 and second.stale_token == first.lease_token
    store = job_services.store
    assert store.heartbeat_job(job.id, first.lease_token, lease_s=3) == "lost"
    assert not store.finish_job(job.id, first.lease_token, "succeeded", result={"n": 1})
    assert store.finish_job(job.id, second.lease_token, "succeeded", result={"n": 2})
    assert not store.finish_job(job.id, second.lease_token, "succeeded", result={"n": 3})
    done = job_services.jobs.get(ALICE, "default", job.id)
    assert (done.state, done.result, done.attempts) == ("succeeded", {"n": 2}, 2)


def test_reaper_requeues_then_fails_after_max_attempts(job_services: Any) -> None:
    job = job_services.jobs.submit(ALICE, "default", SLEEP, {}, max_attempts=2)
    store = job_services.store
    _claim(job_services, lease_s=0.1)
    time.sleep(0.2)
    assert [j.id for j in store.reap_jobs()] == [job.id]
    assert store.get_job("default", job.id).state == "queued"
    _claim(job_services, lease_s=0.1)
    time.sleep(0.2)
    assert store.reap_jobs() == []
    failed = store.get_job("default", job.id)
    assert failed.state == "failed" and "worker lost after 2 attempts" in failed.error


def test_reaper_steals_from_dead_holders_at_once(job_services: Any) -> None:
    job = job_services.jobs.submit(ALICE, "default", SLEEP, {})
    claim = _claim(job_services, lease_s=60)
    requeued = job_services.store.reap_jobs(steal_if=lambda token: token == claim.lease_token)
    assert [j.id for j in requeued] == [job.id]


def test_cancel_in_each_state(job_services: Any) -> None:
    jobs, store = job_services.jobs, job_services.store
    queued = jobs.submit(ALICE, "default", SLEEP, {})
    assert jobs.cancel(ALICE, "default", queued.id).state == "cancelled"
    assert _claim(job_services) is None  # a cancelled job is never claimed
    assert jobs.cancel(ALICE, "default", queued.id).state == "cancelled"  # idempotent

    running = jobs.submit(ALICE, "default", SLEEP, {})
    claim = _claim(job_services)
    assert jobs.cancel(ALICE, "default", running.id).cancel_requested
    assert store.heartbeat_job(running.id, claim.lease_token, lease_s=3) == "cancel"
    assert store.finish_job(running.id, claim.lease_token, "failed", error="killed")
    assert jobs.get(ALICE, "default", running.id).state == "cancelled"

    lost = jobs.submit(ALICE, "default", SLEEP, {})
    _claim(job_services, lease_s=0.1)
    jobs.cancel(ALICE, "default", lost.id)
    time.sleep(0.2)
    store.reap_jobs()  # the worker vanished after the cancel request
    assert jobs.get(ALICE, "default", lost.id).state == "cancelled"

    done = jobs.submit(ALICE, "default", SLEEP, {})
    c = _claim(job_services)
    store.finish_job(done.id, c.lease_token, "succeeded", result={})
    with pytest.raises(Conflict, match="already succeeded"):
        jobs.cancel(ALICE, "default", done.id)


def test_release_on_shutdown_does_not_count_an_attempt(job_services: Any) -> None:
    job = job_services.jobs.submit(ALICE, "default", SLEEP, {}, max_attempts=1)
    claim = _claim(job_services)
    assert job_services.store.release_job(job.id, claim.lease_token, "worker shut down")
    again = job_services.jobs.get(ALICE, "default", job.id)
    assert (again.state, again.attempts) == ("queued", 0)


def test_input_is_validated_and_access_checked(job_services: Any) -> None:
    jobs = job_services.jobs
    for template in ("../etc/passwd", "Upper", "a/b", ""):
        with pytest.raises(InvalidInput):
            jobs.submit(ALICE, "default", template, {})
    with pytest.raises(NotFound):
        jobs.submit(ALICE, "default", "no-such-template", {})
    for params in ({"user": "mallory"}, {"result_path": "/etc/x"}, {"1x": 1}, {"x": {1, 2}}):
        with pytest.raises(InvalidInput):
            jobs.submit(ALICE, "default", SLEEP, params)
    with pytest.raises(InvalidInput):
        jobs.submit(ALICE, "default", SLEEP, {}, timeout_s=0)
    job = jobs.submit(ALICE, "default", SLEEP, {})
    with pytest.raises(NotFound):
        jobs.get(Caller("bob"), "default", job.id)
    job_services.projects.set_member(ALICE, "default", "vera", "viewer")
    assert jobs.get(Caller("vera"), "default", job.id).id == job.id
    with pytest.raises(PermissionDenied):
        jobs.cancel(Caller("vera"), "default", job.id)
    with pytest.raises(PermissionDenied):
        jobs.submit(Caller("vera"), "default", SLEEP, {})
    job_services.projects.ensure(Caller("bob"), "other")
    with pytest.raises(NotFound):
        job_services.jobs.get(Caller("bob"), "other", job.id)  # ids do not leak across projects


@pytest.mark.parametrize(
    "setting",
    [
        {"worker_count": -1},
        {"job_timeout_s": 0.0},
        {"job_lease_s": 0.5},
        {"job_max_attempts": 0},
        {"job_redispatch_after_s": 0.0},  # would resend every queued job on every tick
    ],
)
def test_job_settings_out_of_range_are_refused_by_name(setting):
    from traitlets import TraitError

    from llmlab_jupyter.config import LlmLabConfig

    (name,) = setting
    with pytest.raises(TraitError, match=name):
        LlmLabConfig(**setting)
