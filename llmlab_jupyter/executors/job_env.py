"""The environment a job's runner process and its kernel start with.

Alone (embedded defaults), the notebook opens the same database as its worker. In a team
deployment (``service_url`` set) it gets no secret: a few harmless variables of the worker,
whose own environment holds the database URL and every key, plus the service's URL and a
job token (:mod:`llmlab_jupyter.job_tokens`) for the job's owner, which the service accepts
only while this attempt runs. Nothing of either is written into the notebook.
"""

from __future__ import annotations

import os

from .. import job_tokens
from ..config import LlmLabConfig
from ..models import Claim
from .processes import TOKEN_ENV

#: Worker settings a job's notebook must not see (the broker URL may carry a password).
WORKER_ONLY_ENV = frozenset({"LLMLAB_WORKER_CONFIG", "LLMLAB_BROKER_URL"})

#: In a team deployment, the only variables of the worker a job's runner and kernel get.
TEAM_JOB_ENV = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE",
        "TZ", "TMPDIR", "TERM", "PYTHONPATH", "PYTHONHASHSEED", "VIRTUAL_ENV", "JUPYTER_PATH",
        "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "LITELLM_LOCAL_MODEL_COST_MAP",
        "SSL_CERT_FILE", "SSL_CERT_DIR", "NO_PROXY", "no_proxy",
    }
)  # fmt: skip


def job_env(config: LlmLabConfig, claim: Claim) -> dict[str, str]:
    """The runner's environment for ``claim`` (see the module docstring)."""
    common = {
        TOKEN_ENV: claim.lease_token,
        "LLMLAB_PROJECT": claim.project,
        "LLMLAB_JOB_ID": str(claim.job_id),
        "LLMLAB_WORKER_PID": str(os.getpid()),
        "PYTHONUNBUFFERED": "1",
    }
    if config.service_url:
        token = job_tokens.mint(
            job_tokens.secret_from_env(),
            user=claim.owner,
            job_id=claim.job_id,
            attempt=claim.attempt,
            ttl_s=claim.timeout_s + 2 * config.job_lease_s,
        )
        env = {k: v for k, v in os.environ.items() if k in TEAM_JOB_ENV}
        env.update(common)
        env.update({"LLMLAB_SERVICE_URL": config.service_url, "LLMLAB_TOKEN": token})
        return env
    env = {k: v for k, v in os.environ.items() if k not in WORKER_ONLY_ENV}
    env.update(common)
    env.update(
        {
            "LLMLAB_DATABASE_URL": config.database_url,
            "LLMLAB_DATA_DIR": config.data_dir,
            "LLMLAB_ARTIFACTS_URL": config.artifacts_url,
        }
    )
    for name, var in (
        ("models_file", "LLMLAB_MODELS_FILE"),
        ("s3_endpoint_url", "LLMLAB_S3_ENDPOINT_URL"),
    ):
        value = getattr(config, name)
        if value:
            env[var] = value
    return env
