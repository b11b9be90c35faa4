"""The catalogue key and the results generation (triggers of migrations 0008 and 0009), the
one-read snapshot and the key probe."""

from __future__ import annotations

import threading

import pytest

from llmlab_jupyter.services import Caller
from llmlab_jupyter.store.catalog.generations import CatalogProbe, catalog_snapshot

ALICE, BOB = Caller("alice"), Caller("bob")


@pytest.fixture
def probe(services):
    services.projects.ensure(ALICE, "default")
    p = CatalogProbe(services.store.engine, retry_after_s=0)
    yield p
    p.close()


def test_every_change_to_prompts_labels_or_members_moves_the_key(services, probe):
    prompts, projects = services.prompts, services.projects
    keys = [probe.key("default")]

    def moved() -> bool:
        keys.append(probe.key("default"))
        return keys[-1] != keys[-2]

    prompts.save(ALICE, "default", "greet", "Hello {{ name }}")
    assert moved()  # a new prompt and its first version
    prompts.save(ALICE, "default", "greet", "Hi {{ name }}")
    assert moved()  # a new version
    prompts.save(ALICE, "default", "greet", "Hi {{ name }}")
    assert not moved()  # the same content: nothing written
    prompts.set_label(ALICE, "default", "greet", "production", 1)
    assert moved()
    prompts.set_label(ALICE, "default", "greet", "production", 2)
    assert moved()
    prompts.remove_label(ALICE, "default", "greet", "production")
    assert moved()
    projects.set_member(ALICE, "default", "bob", "viewer")
    assert moved()
    projects.set_member(ALICE, "default", "bob", "editor")
    assert moved()
    projects.remove_member(ALICE, "default", "bob")
    assert moved()
    # other writes leave it alone: a dataset, another project's prompts
    services.datasets.import_(ALICE, "default", "rows", [{"q": "a"}])
    assert not moved()
    projects.create(BOB, "other")
    prompts.save(BOB, "other", "greet", "Yo")
    assert not moved()
    assert probe.key("other") not in (None, keys[-1])
    assert all(k is not None and k[0] == keys[0][0] for k in keys)
    assert probe.key("no-such-project") is None


def test_snapshot_is_what_the_store_reads(services):
    services.projects.ensure(ALICE, "default")
    services.projects.set_member(ALICE, "default", "bob", "viewer")
    for name in ("b-two", "a_one", "c.three"):
        services.prompts.save(ALICE, "default", name, f"{name} {{{{ x }}}}", description="D")
    services.prompts.save(ALICE, "default", "a_one", "second {{ x }}")
    services.prompts.set_label(ALICE, "default", "a_one", "production", 1)
    services.prompts.set_label(ALICE, "default", "a_one", "staging", 1)
    snap = catalog_snapshot(services.store.tx, "default", max_versions=100)
    assert snap is not None
    assert snap.roles == {"alice": "owner", "bob": "viewer"}
    listed = services.prompts.list(ALICE, "default", limit=100)
    assert [p.model_dump() for p in snap.prompts] == [p.model_dump() for p in listed]
    assert snap.versions is not None and len(snap.versions) == 4
    for v in snap.versions:
        got = services.prompts.get(ALICE, "default", v.prompt, version=v.number)
        assert v.model_dump() == got.model_dump()
    assert next(v for v in snap.versions if v.ref == "a_one@1").labels == ["production", "staging"]
    # over the limit: the prompts but not the versions
    assert catalog_snapshot(services.store.tx, "default", max_versions=3).versions is None
    assert catalog_snapshot(services.store.tx, "missing", max_versions=3) is None


def test_probe_answers_none_on_another_thread_and_after_a_lost_connection(services, probe):
    key = probe.key("default")
    assert key is not None
    seen: list[object] = []
    t = threading.Thread(target=lambda: seen.append(probe.key("default")))
    t.start()
    t.join()
    assert seen == [None]  # one connection, one thread
    probe._conn.close()  # the database went away under it
    assert probe.key("default") is None
    assert probe.key("default") == key  # reconnected (retry_after_s=0)


def test_probe_waits_before_it_dials_again(services):
    services.projects.ensure(ALICE, "default")
    p = CatalogProbe(services.store.engine, retry_after_s=3600)
    try:
        assert p.key("default") is not None
        p._conn.close()
        assert p.key("default") is None
        assert p._conn is None
        assert p.key("default") is None  # no new connection within the wait
        assert p._conn is None
    finally:
        p.close()


def test_migration_0008_goes_down_and_up_again(services, probe):
    from sqlalchemy import inspect

    from llmlab_jupyter.store.engine import current_revision, downgrade_to, head_revision

    engine = services.store.engine
    services.prompts.save(ALICE, "default", "greet", "Hello")
    before = probe.key("default")
    probe.close()
    downgrade_to(engine, "0007")
    assert "catalog_generations" not in inspect(engine).get_table_names()
    _writes_succeed(  # no trigger left behind (in SQL: the services need the head schema)
        engine,
        "UPDATE prompts SET description = 'again'",
        "UPDATE labels SET name = name",
        "INSERT INTO memberships (project_id, user_name, role, created_at, created_by) "
        "SELECT id, 'bob', 'viewer', created_at, 'alice' FROM projects",
    )
    services.store.upgrade()
    assert current_revision(engine) == head_revision()
    after = probe.key("default")
    assert before is not None and after is not None and after[0] == before[0]
    services.prompts.save(ALICE, "default", "greet", "Hello a third time")
    assert probe.key("default") != after


def test_experiment_and_feedback_writes_move_the_results_generation(services, probe):
    keys = [probe.generations("default")]

    def moved() -> tuple[bool, bool]:
        keys.append(probe.generations("default"))
        (_, c0, r0), (_, c1, r1) = keys[-2], keys[-1]  # type: ignore[misc]
        return c1 != c0, r1 != r0

    services.prompts.save(ALICE, "default", "ask", "{{ q }}", model="fake/echo")
    assert moved() == (True, False)  # a prompt: the catalogue only
    services.datasets.import_(ALICE, "default", "qs", [{"q": "a", "expected": "a"}])
    assert moved() == (False, False)
    services.experiments.create(
        ALICE, "default", dataset="qs@1", variants=["ask@1"], models=["fake/echo"], name="e"
    )
    assert moved() == (False, True)
    services.experiments.run(ALICE, "default", "e")
    assert moved() == (False, True)
    services.feedback.give(ALICE, "default", "e", 0, 0, thumbs=1)
    assert moved() == (False, True)
    services.feedback.give(ALICE, "default", "e", 0, 0, rating=4)  # an update
    assert moved() == (False, True)
    services.projects.set_member(ALICE, "default", "bob", "viewer")
    assert moved() == (True, False)
    services.projects.create(BOB, "other")  # another project's experiments leave it alone
    services.prompts.save(BOB, "other", "ask", "{{ q }}", model="fake/echo")
    services.datasets.import_(BOB, "other", "qs", [{"q": "a"}])
    services.experiments.create(
        BOB, "other", dataset="qs@1", variants=["ask@1"], models=["fake/echo"], name="e"
    )
    assert moved() == (False, False)


def test_migration_0009_goes_down_and_up_again(services, probe):
    from sqlalchemy import inspect

    from llmlab_jupyter.store.engine import current_revision, downgrade_to, head_revision

    engine = services.store.engine
    services.prompts.save(ALICE, "default", "ask", "{{ q }}", model="fake/echo")
    services.datasets.import_(ALICE, "default", "qs", [{"q": "a"}])
    services.experiments.create(
        ALICE, "default", dataset="qs@1", variants=["ask@1"], models=["fake/echo"], name="e"
    )
    probe.close()
    downgrade_to(engine, "0008")
    columns = {c["name"] for c in inspect(engine).get_columns("catalog_generations")}
    assert columns == {"project_id", "generation"}
    _writes_succeed(  # no trigger left behind that names the dropped column
        engine, "UPDATE experiments SET description = 'again'", "DELETE FROM feedback"
    )
    services.store.upgrade()
    assert current_revision(engine) == head_revision()
    services.experiments.run(ALICE, "default", "e")
    before = probe.generations("default")
    services.feedback.give(ALICE, "default", "e", 0, 0, thumbs=1)
    after = probe.generations("default")
    assert before is not None and after is not None and after[2] > before[2]


def _writes_succeed(engine, *statements: str) -> None:
    from sqlalchemy import text

    with engine.begin() as conn:
        for sql in statements:
            conn.execute(text(sql))
