"""The service accepts a job's token only while that attempt of the job runs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from llmlab_jupyter import job_tokens
from llmlab_jupyter.app import LlmLabApp
from llmlab_jupyter.leases import new_lease_token
from llmlab_jupyter.models import BUILTIN_SLEEP
from llmlab_jupyter.services import Caller

SECRET = b"k" * 40


@pytest.fixture
def service_app(services: Any) -> Any:
    """The extension app as ``llmlab serve`` runs it, on the test's real database."""
    app = LlmLabApp()
    app.services = services
    app.mode_in_use = "service"
    app._token_secret = SECRET
    yield app
    if app._pool is not None:
        app._pool.shutdown(wait=True)


def running_claim(services: Any, owner: str = "alice") -> Any:
    caller = Caller(owner)
    services.projects.ensure(caller, "team")
    job = services.jobs.submit(caller, "team", BUILTIN_SLEEP, {"seconds": 1})
    claim = services.store.claim_job(new_lease_token(), lease_s=30, executor="local")
    assert claim is not None and claim.job_id == job.id
    return claim


def token_for(claim: Any, *, attempt: int | None = None) -> str:
    return job_tokens.mint(
        SECRET,
        user=claim.owner,
        job_id=claim.job_id,
        attempt=claim.attempt if attempt is None else attempt,
        ttl_s=60,
    )


def check(app: Any, token: str) -> dict[str, Any] | None:
    return asyncio.run(app._check_job_token(token))


def test_a_running_jobs_token_acts_as_its_owner(service_app: Any, services: Any) -> None:
    claim = running_claim(services)
    model = check(service_app, token_for(claim))
    assert model is not None
    assert (model["name"], model["kind"], model["job"]) == ("alice", "job", claim.job_id)
    assert model["admin"] is False


def test_the_token_is_refused_once_the_job_ended(service_app: Any, services: Any) -> None:
    claim = running_claim(services)
    token = token_for(claim)
    assert services.store.finish_job(claim.job_id, claim.lease_token, "succeeded")
    assert check(service_app, token) is None


def test_the_token_of_another_attempt_or_job_or_a_forged_one_is_refused(
    service_app: Any, services: Any
) -> None:
    claim = running_claim(services)
    assert check(service_app, token_for(claim, attempt=claim.attempt + 1)) is None
    other = job_tokens.mint(SECRET, user="alice", job_id=claim.job_id + 999, attempt=1, ttl_s=60)
    assert check(service_app, other) is None
    forged = job_tokens.mint(b"z" * 40, user="alice", job_id=claim.job_id, attempt=1, ttl_s=60)
    assert check(service_app, forged) is None
