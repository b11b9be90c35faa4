"""Root fixtures: every store-touching suite runs on SQLite and on real PostgreSQL.

PostgreSQL is found at ``LLMLAB_TEST_POSTGRES_URL`` (default: the local server,
database ``test``); a fresh database is created for the run and dropped after.
Without a server the PostgreSQL cases are skipped with the reason, except under
``CI=true``, where a missing service fails the run.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
_HOME = tempfile.mkdtemp(prefix="llmlab-tests-")
os.environ["LLMLAB_DATA_DIR"] = str(Path(_HOME) / "data")  # never touch a real data dir
os.environ["JUPYTER_DATA_DIR"] = str(Path(_HOME) / "jupyter-data")
os.environ.pop("LLMLAB_DATABASE_URL", None)

PG_ADMIN_URL = os.environ.get(
    "LLMLAB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
from llmlab_jupyter.testing.services import IN_CI, require_service  # noqa: E402, F401


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run."""
    try:
        import psycopg
    except ImportError as err:  # pragma: no cover
        require_service("PostgreSQL", f"psycopg is not installed ({err})")
    from sqlalchemy.engine import make_url

    admin = make_url(PG_ADMIN_URL)
    conninfo = f"host={admin.host} port={admin.port or 5432} user={admin.username or 'postgres'}"
    conninfo += f" dbname={admin.database or 'postgres'} connect_timeout=3"
    name = f"llmlab_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as err:
        require_service("PostgreSQL", f"cannot connect to {admin.host}:{admin.port} ({err})")
    url = admin.set(drivername="postgresql+psycopg", database=name).render_as_string(
        hide_password=False
    )
    from llmlab_jupyter.store.engine import make_engine, upgrade

    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate_postgres(url: str) -> None:
    from sqlalchemy import text

    from llmlab_jupyter.store.engine import make_engine
    from llmlab_jupyter.store.orm import Base

    engine = make_engine(url, pool_size=1)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database: a SQLite file, or the run's PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'llmlab.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    _truncate_postgres(url)
    yield url


@pytest.fixture
def config(database_url: str, tmp_path: Path):
    from llmlab_jupyter.config import LlmLabConfig

    return LlmLabConfig(database_url=database_url, data_dir=str(tmp_path / "data"))


@pytest.fixture
def services(config):
    from llmlab_jupyter.services import Services

    svc = Services.from_config(config)
    yield svc
    svc.close()


@pytest.fixture
def alice():
    from llmlab_jupyter.services import Caller

    return Caller("alice")


@pytest.fixture
def lab(services):
    """An SDK ``Lab`` for user alice, owner of the ``default`` project."""
    from llmlab_jupyter.sdk.lab import Lab

    return Lab(user="alice", services=services, config=services.config)


def pytest_collection_modifyitems(config, items):
    """Browser tests run last: Playwright's sync API leaves the main thread's event loop in a
    state that breaks the asyncio-based suites (pytest-jupyter, aiohttp) that would follow."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid.replace("\\", "/"))
