"""Session-scoped live servers (subprocesses) for the SDK-over-HTTP and schemathesis tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from .live import live_server

TOKEN = "live-secret"
BASE_URL = "/a%40b/"  # percent-encoded, non-root


@dataclass(frozen=True)
class Live:
    url: str
    database_url: str
    token: str = TOKEN


def reset_database(url: str) -> None:
    """Empty every table (the server keeps running)."""
    from sqlalchemy import text

    from llmlab_jupyter.store.engine import make_engine
    from llmlab_jupyter.store.orm import Base

    engine = make_engine(url, pool_size=1) if not url.startswith("sqlite") else make_engine(url)
    tables = Base.metadata.sorted_tables
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(table.delete())
    engine.dispose()


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """A running single-user Jupyter server (stock token auth) with the extension."""
    workdir = tmp_path_factory.mktemp(f"live-{request.param}")
    if request.param == "sqlite":
        database_url = f"sqlite:///{workdir / 'live.db'}"
    else:
        database_url = request.getfixturevalue("postgres_url")
    with live_server(workdir, database_url, token=TOKEN, base_url=BASE_URL) as url:
        yield Live(url, database_url)
