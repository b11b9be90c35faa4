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

from traitlets import Bool, Int, Unicode, default
from traitlets.config import Configurable

#: Environment variables that override traits (trait name -> variable).
ENV_VARS: dict[str, str] = {
    "database_url": "LLMLAB_DATABASE_URL",
    "data_dir": "LLMLAB_DATA_DIR",
    "default_project": "LLMLAB_PROJECT",
    "models_file": "LLMLAB_MODELS_FILE",
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

    @classmethod
    def from_overrides(cls, **overrides: Any) -> LlmLabConfig:
        """Build a config from keyword overrides; unset values keep their defaults."""
        clean = {k: v for k, v in overrides.items() if v is not None}
        return cls(**clean)
