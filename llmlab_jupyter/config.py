"""Shared configuration for the server extension, the SDK, the CLI and workers.

Every setting is a traitlets trait with ``config=True`` and ``help``, so it can be
set in ``jupyter_server_config.py`` (``c.LlmLabConfig.database_url = ...``), on the
command line, or through the twelve-factor environment variables listed in
:data:`ENV_VARS`. Secrets are never traits: provider keys are read from the
environment variables *named* in the model configuration.
"""

from __future__ import annotations

import os
import pwd
from pathlib import Path
from typing import Any

from traitlets import Bool, Float, Int, Type, Unicode, default
from traitlets.config import Configurable

#: Environment variables that override traits (trait name -> variable).
ENV_VARS: dict[str, str] = {
    "database_url": "LLMLAB_DATABASE_URL",
    "data_dir": "LLMLAB_DATA_DIR",
    "default_project": "LLMLAB_PROJECT",
    "models_file": "LLMLAB_MODELS_FILE",
    "artifacts_url": "LLMLAB_ARTIFACTS_URL",
    "s3_endpoint_url": "LLMLAB_S3_ENDPOINT_URL",
    "broker_url": "LLMLAB_BROKER_URL",
    "service_url": "LLMLAB_SERVICE_URL",
}


def _jupyter_data_dir() -> str:
    from jupyter_core.paths import jupyter_data_dir

    return jupyter_data_dir()


def local_user_name() -> str:
    """The name of the operating-system account running this process (not read from env)."""
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:  # pragma: no cover - containers with anonymous uids
        return f"uid-{os.getuid()}"


class LlmLabConfig(Configurable):
    """Settings shared by every entry point of llmlab-jupyter."""

    data_dir = Unicode(
        config=True,
        help="Folder for the embedded defaults: the SQLite database and local artifacts. "
        "Defaults to <jupyter data dir>/llmlab. Env: LLMLAB_DATA_DIR.",
    )
    database_url = Unicode(
        config=True,
        help="SQLAlchemy database URL, e.g. postgresql+psycopg://user@host/db. "
        "Defaults to a SQLite file in data_dir. Env: LLMLAB_DATABASE_URL.",
    )
    auto_migrate = Bool(
        True,
        config=True,
        help="Apply pending Alembic migrations when opening an embedded SQLite database. "
        "Other databases are upgraded explicitly with `llmlab db upgrade`.",
    )
    default_project = Unicode(
        "default",
        config=True,
        help="Project used when none is named. Env: LLMLAB_PROJECT.",
    )
    models_file = Unicode(
        "",
        config=True,
        help="YAML file describing models and endpoints (provider, base URL, name of the "
        "environment variable holding the key, prices). Env: LLMLAB_MODELS_FILE.",
    )
    max_page_size = Int(
        500,
        config=True,
        help="Largest page any list operation returns.",
    )

    # -- batch jobs, artifacts and schedules ----------------------------------------------
    artifacts_url = Unicode(
        config=True,
        help="Where executed notebooks, reports and large files are stored: a folder, "
        "file:///path or s3://bucket/prefix (credentials from the usual AWS variables or "
        "profile, never from settings). Defaults to <data_dir>/artifacts. "
        "Env: LLMLAB_ARTIFACTS_URL.",
    )
    s3_endpoint_url = Unicode(
        "",
        config=True,
        help="Endpoint of an S3-protocol server (MinIO, Ceph, ...) for s3:// artifacts; "
        "empty means AWS. Env: LLMLAB_S3_ENDPOINT_URL.",
    )
    s3_region = Unicode("", config=True, help="Region of the S3 bucket (empty: boto3's default).")
    dataset_inline_max_rows = Int(
        50_000,
        min=0,
        config=True,
        help="Dataset versions with more rows than this keep their rows in the artifact store "
        "(artifacts_url) as one gzip JSONL file, content-addressed by the dataset's hash, "
        "instead of one database row per dataset row; the database keeps the metadata. "
        "0 keeps every version in the database. Applies to new versions only.",
    )
    executor_class = Type(
        default_value="llmlab_jupyter.executors.local.LocalExecutor",
        klass="llmlab_jupyter.executors.base.Executor",
        config=True,
        help="How batch jobs run: llmlab_jupyter.executors.local.LocalExecutor (worker "
        "subprocesses claiming jobs from the database) or "
        "llmlab_jupyter.executors.celery_app.CeleryExecutor (Celery workers on broker_url).",
    )
    broker_url = Unicode(
        config=True,
        help="Celery broker URL for the Celery executor. Env: LLMLAB_BROKER_URL. "
        "Default redis://127.0.0.1:6379/0.",
    )
    worker_count = Int(
        1,
        min=0,
        config=True,
        help="Local worker processes the server starts (0: none; run `llmlab worker`).",
    )
    job_timeout_s = Float(
        3600.0, min=1.0, config=True, help="Default time limit of one job attempt, in seconds."
    )
    job_lease_s = Float(
        30.0,
        min=1.0,
        config=True,
        help="A worker's lease on a running job, renewed by heartbeat every third of it; a "
        "job whose lease expires is presumed lost and queued again.",
    )
    job_max_attempts = Int(
        3, min=1, config=True, help="Attempts of a job before a lost worker makes it fail."
    )
    job_redispatch_after_s = Float(
        300.0,
        min=1.0,
        config=True,
        help="Celery executor: a job still queued this many seconds after it was handed to "
        "the broker is sent again (the broker may have lost the message; a duplicate delivery "
        "is harmless, claims are by lease). Jobs whose dispatch failed (broker down) are sent "
        "again by the next maintenance tick that reaches the broker.",
    )
    templates_dir = Unicode(
        config=True,
        help="Folder of the notebook templates jobs may run (<name>.ipynb). Defaults to "
        "the templates shipped with llmlab-jupyter.",
    )
    scheduler_enabled = Bool(
        True,
        config=True,
        help="Run the cron scheduler and the job reaper in the server and in `llmlab worker` "
        "(safe with several: each tick runs once).",
    )
    webhook_allow_private = Bool(
        False,
        config=True,
        help="Allow alert webhooks to private, loopback, link-local and cloud-metadata "
        "addresses (off: such URLs are refused).",
    )

    # -- the team deployment -------------------------------------------------------------
    service_url = Unicode(
        config=True,
        help="Base URL of the llmlab service (`llmlab serve`, the one process holding the "
        "database URL, S3 and provider keys), under which llmlab/api/ is served, e.g. "
        "http://127.0.0.1:10101/services/llmlab/. On a per-user server it turns on remote "
        "mode (every llmlab/api/ call is forwarded there; found from JupyterHub when "
        "empty); on a worker, jobs' notebooks reach the service there with a job token "
        "instead of the database. Env: LLMLAB_SERVICE_URL.",
    )

    @default("service_url")
    def _default_service_url(self) -> str:
        return os.environ.get(ENV_VARS["service_url"], "")

    @default("data_dir")
    def _default_data_dir(self) -> str:
        return os.environ.get(ENV_VARS["data_dir"]) or str(Path(_jupyter_data_dir()) / "llmlab")

    @default("database_url")
    def _default_database_url(self) -> str:
        env = os.environ.get(ENV_VARS["database_url"])
        if env:
            return env
        return f"sqlite:///{Path(self.data_dir) / 'llmlab.db'}"

    @default("default_project")
    def _default_default_project(self) -> str:
        return os.environ.get(ENV_VARS["default_project"]) or "default"

    @default("models_file")
    def _default_models_file(self) -> str:
        return os.environ.get(ENV_VARS["models_file"], "")

    @default("artifacts_url")
    def _default_artifacts_url(self) -> str:
        return os.environ.get(ENV_VARS["artifacts_url"]) or str(Path(self.data_dir) / "artifacts")

    @default("s3_endpoint_url")
    def _default_s3_endpoint_url(self) -> str:
        return os.environ.get(ENV_VARS["s3_endpoint_url"], "")

    @default("broker_url")
    def _default_broker_url(self) -> str:
        return os.environ.get(ENV_VARS["broker_url"]) or "redis://127.0.0.1:6379/0"

    @default("templates_dir")
    def _default_templates_dir(self) -> str:
        here = Path(__file__).resolve().parent
        for candidate in (here / "templates", here.parent / "templates"):
            if candidate.is_dir():
                return str(candidate)
        return str(here / "templates")

    @classmethod
    def from_overrides(cls, **overrides: Any) -> LlmLabConfig:
        """Build a config from keyword overrides; unset values keep their defaults."""
        clean = {k: v for k, v in overrides.items() if v is not None}
        return cls(**clean)
