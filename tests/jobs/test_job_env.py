"""What a job's runner and kernel start with: in a team deployment, no secret at all."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from llmlab_jupyter import job_tokens
from llmlab_jupyter.config import LlmLabConfig
from llmlab_jupyter.executors.job_env import job_env
from llmlab_jupyter.models import Claim

CANARIES = {
    "LLMLAB_DATABASE_URL": "postgresql+psycopg://llmlab:canary-db-5d1e@db/llmlab",
    "AWS_SECRET_ACCESS_KEY": "canary-s3-8c2f9a",
    "AWS_ACCESS_KEY_ID": "AKIACANARY0000",
    "OPENAI_API_KEY": "sk-canary-provider-77",
    "JUPYTERHUB_API_TOKEN": "canary-hub-service-token",
    "LLMLAB_BROKER_URL": "redis://:canary-broker@redis:6379/0",
    "LLMLAB_WORKER_CONFIG": '{"database_url": "canary-db-5d1e"}',
}


def claim() -> Claim:
    return Claim(
        job_id=12,
        project="team",
        owner="alice",
        template="experiment",
        parameters={},
        attempt=2,
        timeout_s=600,
        lease_token="lease-abc",
        started_at=datetime.now(timezone.utc),
    )


@pytest.fixture
def worker_env(monkeypatch) -> None:
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(job_tokens.SECRET_ENV, "x" * 48)


def test_a_team_job_gets_the_service_and_a_token_for_its_owner_and_no_secret(
    worker_env, tmp_path
) -> None:
    config = LlmLabConfig(
        service_url="http://llmlab:10101/services/llmlab/",
        database_url=CANARIES["LLMLAB_DATABASE_URL"],
        data_dir=str(tmp_path),
    )
    env = job_env(config, claim())
    assert env["LLMLAB_SERVICE_URL"] == "http://llmlab:10101/services/llmlab/"
    claims = job_tokens.verify(b"x" * 48, env["LLMLAB_TOKEN"])
    assert claims is not None and (claims.user, claims.job_id, claims.attempt) == ("alice", 12, 2)
    assert env["LLMLAB_PROJECT"] == "team"
    leaked = sorted(var for var, value in env.items() if "canary" in value)
    assert leaked == []
    assert "x" * 48 not in "".join(env.values())  # nor the signing secret
    assert not {"LLMLAB_DATABASE_URL", "LLMLAB_ARTIFACTS_URL", "AWS_ACCESS_KEY_ID"} & set(env)


def test_alone_a_job_still_opens_the_workers_database(worker_env, tmp_path) -> None:
    config = LlmLabConfig(
        database_url="sqlite:///" + str(tmp_path / "x.db"), data_dir=str(tmp_path)
    )
    env = job_env(config, claim())
    assert env["LLMLAB_DATABASE_URL"] == config.database_url
    assert "LLMLAB_TOKEN" not in env and "LLMLAB_SERVICE_URL" not in env
    assert "LLMLAB_BROKER_URL" not in env and "LLMLAB_WORKER_CONFIG" not in env
