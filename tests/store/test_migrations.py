"""The Alembic migrations and the ORM models describe the same schema."""

from __future__ import annotations

import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from llmlab_jupyter.store.engine import (
    SchemaOutOfDate,
    current_revision,
    head_revision,
    make_engine,
)
from llmlab_jupyter.store.orm import Base
from llmlab_jupyter.store.sql_store import SQLStore


def test_models_and_migrations_agree(services):
    engine = services.store.engine
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"
    assert current_revision(engine) == head_revision()


def test_embedded_sqlite_is_created_migrated_with_wal_and_foreign_keys(tmp_path):
    path = tmp_path / "nested" / "llmlab.db"
    store = SQLStore(f"sqlite:///{path}")
    try:
        assert path.exists()
        tables = set(inspect(store.engine).get_table_names())
        assert {"projects", "prompts", "prompt_versions", "labels", "label_events"} <= tables
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        store.close()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_non_sqlite_database_is_not_migrated_behind_the_users_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(SchemaOutOfDate, match="llmlab db upgrade"):
        SQLStore(url, auto_migrate=False)
    engine = make_engine(url)
    assert "projects" not in inspect(engine).get_table_names()
    engine.dispose()
