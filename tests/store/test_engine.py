"""The PostgreSQL pool: a connection that died while idle is replaced, not handed out."""

from __future__ import annotations

import pytest
from sqlalchemy import exc, text

pytestmark = pytest.mark.postgres


def _pooled_backend_killed(postgres_url):
    from llmlab_jupyter.store.engine import make_engine

    engine = make_engine(postgres_url, pool_size=1)
    with engine.connect() as conn:
        pid = conn.scalar(text("SELECT pg_backend_pid()"))
    other = make_engine(postgres_url, pool_size=1)
    with other.connect() as conn:  # e.g. a database restart or an idle-connection reaper
        assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()
    return engine, pid


def test_a_connection_killed_while_idle_is_replaced(postgres_url, monkeypatch):
    from llmlab_jupyter.store import engine as engine_module

    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", 0.0)
    engine, dead_pid = _pooled_backend_killed(postgres_url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT pg_backend_pid()")) != dead_pid
    finally:
        engine.dispose()


def test_a_recently_used_connection_is_not_pinged(postgres_url, monkeypatch):
    """Within the idle window there is no ping (no round trip per request): the dead
    connection is only noticed by the query, which is what the idle ping prevents."""
    from llmlab_jupyter.store import engine as engine_module

    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", 3600.0)
    engine, _ = _pooled_backend_killed(postgres_url)
    try:
        with pytest.raises(exc.OperationalError), engine.connect() as conn:
            conn.scalar(text("SELECT 1"))
        with engine.connect() as conn:  # the pool replaced it after the failure
            assert conn.scalar(text("SELECT 1")) == 1
    finally:
        engine.dispose()
