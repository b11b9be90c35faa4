"""Roles granted to JupyterHub groups and Hub admins, through the services (SQLite and
PostgreSQL): the rule every caller path and every in-memory copy applies."""

from __future__ import annotations

import pytest

from llmlab_jupyter.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from llmlab_jupyter.services import Caller
from llmlab_jupyter.store.catalog.generations import CatalogProbe, catalog_snapshot

ALICE = Caller("alice")
CAROL = Caller("carol", frozenset({"ml-team"}))  # in one Hub group
ERIN = Caller("erin", frozenset({"ml-team", "ops"}))  # in two
BOB = Caller("bob", frozenset({"elsewhere"}))
ROOT = Caller("root", admin=True)


@pytest.fixture
def projects(services):
    services.projects.ensure(ALICE, "default")
    services.prompts.save(ALICE, "default", "greet", "Hello {{ name }}")
    return services.projects


def test_a_group_members_role_is_the_groups(services, projects):
    granted = projects.set_group(ALICE, "default", "ml-team", "viewer")
    assert (granted.kind, granted.group, granted.user, granted.role) == (
        "group",
        "ml-team",
        None,
        "viewer",
    )
    assert services.prompts.info(CAROL, "default", "greet").name == "greet"
    with pytest.raises(PermissionDenied):
        services.prompts.save(CAROL, "default", "greet", "Hi")
    assert projects.get(CAROL, "default").role == "viewer"
    projects.set_group(ALICE, "default", "ml-team", "editor")
    saved = services.prompts.save(CAROL, "default", "greet", "Hi {{ name }}")
    assert saved.version.created_by == "carol"
    with pytest.raises(PermissionDenied):
        projects.set_member(CAROL, "default", "bob", "viewer")  # editors do not grant
    with pytest.raises(NotFound):
        services.prompts.info(BOB, "default", "greet")  # not in the group: 404, as before
    with pytest.raises(NotFound):
        services.prompts.info(Caller("carol"), "default", "greet")  # the same name, no group
    # revoked: gone at once
    projects.remove_group(ALICE, "default", "ml-team")
    with pytest.raises(NotFound):
        services.prompts.info(CAROL, "default", "greet")
    with pytest.raises(NotFound):
        projects.remove_group(ALICE, "default", "ml-team")


def test_the_highest_role_wins_and_lists_show_it(services, projects):
    projects.set_member(ALICE, "default", "erin", "viewer")
    projects.set_group(ALICE, "default", "ml-team", "editor")
    assert projects.get(ERIN, "default").role == "editor"  # group over own
    projects.set_group(ALICE, "default", "ops", "owner")
    assert projects.get(ERIN, "default").role == "owner"  # the higher group
    assert projects.get(CAROL, "default").role == "editor"
    projects.create(ALICE, "zeta")
    projects.set_group(ALICE, "zeta", "ops", "viewer")
    projects.create(BOB, "bobs")
    listed = [(p.slug, p.role) for p in projects.list(ERIN)]
    assert listed == [("default", "owner"), ("zeta", "viewer")]
    assert [(p.slug, p.role) for p in projects.list(ERIN, limit=1, offset=1)] == [
        ("zeta", "viewer")
    ]
    assert [p.slug for p in projects.list(CAROL)] == ["default"]
    assert [p.slug for p in projects.list(BOB)] == ["bobs"]
    # a member list shows users first, then groups
    members = projects.members(ERIN, "default")
    assert [(m.kind, m.user or m.group, m.role) for m in members] == [
        ("user", "alice", "owner"),
        ("user", "erin", "viewer"),
        ("group", "ml-team", "editor"),
        ("group", "ops", "owner"),
    ]
    # a grant to a group and to a user of the same name are two grants
    projects.set_member(ALICE, "default", "ops", "viewer")
    assert projects.get(Caller("ops"), "default").role == "viewer"
    assert len(projects.members(ALICE, "default")) == 5


def test_a_hub_admin_owns_every_project_and_acts_as_themselves(services, projects):
    projects.create(BOB, "bobs")
    with pytest.raises(NotFound):
        projects.get(Caller("root"), "bobs")  # the same user without the admin flag
    assert [(p.slug, p.role) for p in projects.list(ROOT)] == [
        ("bobs", "owner"),
        ("default", "owner"),
    ]
    assert projects.get(ROOT, "bobs").role == "owner"
    granted = projects.set_group(ROOT, "bobs", "ml-team", "editor")
    assert granted.created_by == "root"
    assert projects.set_member(ROOT, "bobs", "carol", "viewer").created_by == "root"
    saved = services.prompts.save(ROOT, "bobs", "p", "x")
    assert saved.version.created_by == "root"
    assert services.projects.ensure(ROOT, "bobs").role == "owner"
    assert "root" not in [m.user for m in projects.members(ROOT, "bobs")]  # not a member
    with pytest.raises(NotFound):
        projects.get(ROOT, "no-such-project")


def test_bad_grants_name_the_field_and_change_nothing(services, projects):
    projects.set_group(ALICE, "default", "ml-team", "viewer")
    before = projects.members(ALICE, "default")
    for group, role, field in [
        ("", "viewer", "group"),
        ("  ", "viewer", "group"),
        ("x" * 201, "viewer", "group"),
        ("tab\there", "viewer", "group"),
        (None, "viewer", "group"),
        ("ml-team", "admin", "role"),
        ("ml-team", None, "role"),
    ]:
        with pytest.raises(InvalidInput) as info:
            projects.set_group(ALICE, "default", group, role)  # type: ignore[arg-type]
        assert info.value.field == field
    with pytest.raises(PermissionDenied):
        projects.set_group(CAROL, "default", "ml-team", "owner")  # a viewer may not grant
    with pytest.raises(NotFound):
        projects.set_group(BOB, "default", "elsewhere", "owner")  # a non-member sees nothing
    assert projects.members(ALICE, "default") == before


def test_a_group_owner_is_not_the_last_owner(services, projects):
    projects.set_group(ALICE, "default", "ml-team", "owner")
    assert projects.get(CAROL, "default").role == "owner"
    with pytest.raises(Conflict):
        projects.set_member(CAROL, "default", "alice", "editor")
    with pytest.raises(Conflict):
        projects.remove_member(CAROL, "default", "alice")
    projects.set_member(CAROL, "default", "carol", "owner")  # a second owner by name
    projects.remove_member(CAROL, "default", "alice")
    assert [m.user for m in projects.members(CAROL, "default") if m.kind == "user"] == ["carol"]


def test_group_grants_move_the_catalogue_key_and_reach_the_snapshot(services, projects):
    probe = CatalogProbe(services.store.engine, retry_after_s=0)
    try:
        keys = [probe.key("default")]
        for change in (
            lambda: projects.set_group(ALICE, "default", "ml-team", "viewer"),
            lambda: projects.set_group(ALICE, "default", "ml-team", "editor"),
            lambda: projects.remove_group(ALICE, "default", "ml-team"),
            lambda: projects.set_group(ALICE, "default", "ops", "viewer"),
        ):
            change()
            keys.append(probe.key("default"))
            assert keys[-1] != keys[-2]
    finally:
        probe.close()
    snap = catalog_snapshot(services.store.tx, "default", max_versions=10)
    assert snap is not None
    assert (snap.roles, snap.group_roles) == ({"alice": "owner"}, {"ops": "viewer"})


def test_a_caller_is_validated_hashable_and_built_from_a_hub_user_model():
    assert Caller("alice") == Caller("alice", frozenset(), False)
    assert Caller("a", {"x", "y"}) == Caller("a", frozenset({"y", "x"}))  # type: ignore[arg-type]
    assert len({Caller("a"), Caller("a", frozenset({"g"})), Caller("a", admin=True)}) == 3
    for bad, field in [
        (lambda: Caller(""), "user"),
        (lambda: Caller("a", "ml-team"), "groups"),  # type: ignore[arg-type]
        (lambda: Caller("a", frozenset({""})), "groups"),
        (lambda: Caller("a", admin="yes"), "admin"),  # type: ignore[arg-type]
    ]:
        with pytest.raises(InvalidInput) as info:
            bad()
        assert info.value.field == field
    model = {"name": "carol", "groups": ["ml-team", "", 7, "ops"], "admin": False}
    assert Caller.from_hub_user("carol", model) == Caller("carol", frozenset({"ml-team", "ops"}))
    assert Caller.from_hub_user("root", {"admin": True, "groups": None}).admin is True
    assert Caller.from_hub_user("root", {"admin": "true"}).admin is False  # only a real true
    assert Caller.from_hub_user("x", None) == Caller("x")
    assert Caller.from_hub_user("x", "not a model") == Caller("x")
