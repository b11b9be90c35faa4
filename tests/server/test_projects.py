"""Projects and memberships over REST: roles, 404 for non-members, ignored extra fields."""

from __future__ import annotations

from .conftest import assert_error


async def test_single_user_owns_the_default_project(api):
    reply = await api("GET", "projects/default")
    assert reply.status == 200
    assert reply.body["role"] == "owner" and reply.body["created_by"] == "alice"


async def test_create_list_and_paginate(api):
    for i in range(3):
        reply = await api("POST", "projects", json_body={"slug": f"p{i}", "title": f"P {i}"})
        assert reply.status == 201 and reply.body["role"] == "owner"
    page = await api("GET", "projects", params={"limit": 2})
    assert [p["slug"] for p in page.body["items"]] == ["default", "p0"]
    assert page.body["next_offset"] == 2
    rest = await api("GET", "projects", params={"limit": 2, "offset": 2})
    assert [p["slug"] for p in rest.body["items"]] == ["p1", "p2"]
    assert_error(await api("POST", "projects", json_body={"slug": "p0"}), 409, "conflict")
    assert_error(await api("GET", "projects", params={"limit": 100000}), 400, "invalid_input")
    assert_error(await api("GET", "projects", params={"limit": "x"}), 400, "invalid_input")


async def test_extra_fields_change_nothing(api):
    reply = await api(
        "POST",
        "projects",
        user="bob",
        json_body={"slug": "bobs", "created_by": "alice", "role": "viewer", "owner": "alice"},
    )
    assert reply.status == 201
    assert reply.body["created_by"] == "bob" and reply.body["role"] == "owner"
    assert_error(await api("GET", "projects/bobs", user="alice"), 404, "not_found")


async def test_roles_viewer_cannot_write_non_member_sees_nothing(api):
    put = await api(
        "PUT", "projects/default/members/bob", json_body={"role": "viewer", "project": "x"}
    )
    assert put.status == 200 and put.body["role"] == "viewer"
    saved = await api(
        "POST", "projects/default/prompts/greet/versions", json_body={"template": "Hi"}
    )
    assert saved.status == 201
    # the viewer reads but may not write
    assert (await api("GET", "projects/default/prompts/greet", user="bob")).status == 200
    denied = await api(
        "POST",
        "projects/default/prompts/greet/versions",
        user="bob",
        json_body={"template": "Changed"},
    )
    assert_error(denied, 403, "permission_denied")
    assert_error(
        await api("PUT", "projects/default/members/carol", user="bob", json_body={"role": "owner"}),
        403,
    )
    # a non-member gets 404 everywhere, and an empty list
    for path in ["projects/default", "projects/default/prompts", "projects/default/members"]:
        assert_error(await api("GET", path, user="carol"), 404, "not_found")
    for limit in (1, 50, 500):
        listed = await api("GET", "projects", user="carol", params={"limit": limit})
        assert listed.body["items"] == []
    # an editor writes
    await api("PUT", "projects/default/members/dave", json_body={"role": "editor"})
    ok = await api(
        "POST", "projects/default/prompts/greet/versions", user="dave", json_body={"template": "Yo"}
    )
    assert ok.status == 201 and ok.body["version"]["created_by"] == "dave"
    members = await api("GET", "projects/default/members", user="bob")
    assert {m["user"]: m["role"] for m in members.body["items"]} == {
        "alice": "owner",
        "bob": "viewer",
        "dave": "editor",
    }
    removed = await api("DELETE", "projects/default/members/bob")
    assert removed.status == 204
    assert_error(await api("GET", "projects/default", user="bob"), 404)
    assert_error(await api("DELETE", "projects/default/members/alice"), 409, "conflict")


async def test_bad_bodies_are_400_naming_the_field(api):
    assert_error(await api("POST", "projects", raw=b"{not json"), 400, "invalid_input")
    assert_error(await api("POST", "projects", json_body=[1, 2]), 400, "invalid_input")
    reply = await api("POST", "projects", json_body={"title": "no slug"})
    assert_error(reply, 400, "invalid_input")
    assert reply.body["field"] == "slug"
    bad_role = await api("PUT", "projects/default/members/bob", json_body={"role": "god"})
    assert_error(bad_role, 400)
    assert bad_role.body["field"] == "role"


async def test_unknown_routes_and_methods_are_json(api):
    assert_error(await api("GET", "nothing/here"), 404, "not_found")
    assert_error(await api("PATCH", "projects/default"), 405, "method_not_allowed")
