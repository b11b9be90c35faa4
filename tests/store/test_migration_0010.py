"""Migration 0010 (group grants in ``memberships``) goes down and up again, on SQLite and
PostgreSQL, keeping the users' grants and the catalogue triggers of migration 0008."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from llmlab_jupyter.services import Caller
from llmlab_jupyter.store.catalog.generations import CatalogProbe
from llmlab_jupyter.store.engine import current_revision, downgrade_to, head_revision

ALICE = Caller("alice")


@pytest.fixture
def probe(services):
    services.projects.ensure(ALICE, "default")
    p = CatalogProbe(services.store.engine, retry_after_s=0)
    yield p
    p.close()


def _columns(engine) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns("memberships")}


def test_migration_0010_goes_down_and_up_again(services, probe):
    engine, projects = services.store.engine, services.projects
    projects.set_member(ALICE, "default", "bob", "viewer")
    projects.set_group(ALICE, "default", "ml-team", "editor")
    probe.close()

    downgrade_to(engine, "0009")
    assert _columns(engine) == {"id", "project_id", "user_name", "role", "created_at", "created_by"}
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT user_name, role FROM memberships ORDER BY user_name"))
        assert rows.all() == [("alice", "owner"), ("bob", "viewer")]  # the group grant is gone
    before = probe.key("default")
    with engine.begin() as conn:  # the old shape takes writes, and the trigger still fires
        conn.execute(
            text(
                "INSERT INTO memberships (project_id, user_name, role, created_at, created_by) "
                "SELECT id, 'carol', 'viewer', created_at, 'alice' FROM projects"
            )
        )
    assert probe.key("default") != before
    with pytest.raises(IntegrityError), engine.begin() as conn:  # one role per user
        conn.execute(
            text(
                "INSERT INTO memberships (project_id, user_name, role, created_at, created_by) "
                "SELECT id, 'carol', 'owner', created_at, 'alice' FROM projects"
            )
        )
    probe.close()

    services.store.upgrade()
    assert current_revision(engine) == head_revision()
    assert {"kind", "name"} <= _columns(engine) and "user_name" not in _columns(engine)
    members = [(m.kind, m.user, m.role) for m in projects.members(ALICE, "default")]
    assert members == [
        ("user", "alice", "owner"),
        ("user", "bob", "viewer"),
        ("user", "carol", "viewer"),
    ]
    key = probe.key("default")
    projects.set_group(ALICE, "default", "ml-team", "editor")
    assert probe.key("default") != key  # the triggers are there again
    assert projects.get(Caller("dan", frozenset({"ml-team"})), "default").role == "editor"
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE memberships SET kind = 'team' WHERE name = 'ml-team'"))
