"""Roles from JupyterHub over REST: grants to Hub groups, the highest role winning, Hub admins,
and the in-memory prompt copy and summary cache applying the same rule at once.

The test identity gives each user a Hub user model (``hub_user``) whose groups and admin flag
are what :data:`llmlab_test_identity.HUB_GROUPS` and ``HUB_ADMINS`` say at that request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import llmlab_test_identity as hub  # the module the test server's identity provider reads
import pytest

from llmlab_jupyter.services import Caller, Services

from .conftest import assert_error

ALICE = Caller("alice")
MEMBERS = "projects/default/members"
PROMPT = "projects/default/prompts/greet"
SUMMARY = "projects/default/experiments/snap/summary"


@pytest.fixture(autouse=True)
def the_hub() -> Iterator[None]:
    """carol and erin are in the Hub group ml-team; nobody is an admin (reset after)."""
    hub.HUB_GROUPS.update({"carol": ["ml-team"], "erin": ["ml-team", "ops"]})
    yield
    hub.HUB_GROUPS.clear()
    hub.HUB_ADMINS.clear()


def _app(jp_serverapp):
    (app,) = jp_serverapp.extension_manager.extension_apps["llmlab_jupyter"]
    return app


async def _grant(api, group: str, role: str, project: str = "default") -> dict:
    reply = await api(
        "POST", f"projects/{project}/members", json_body={"group": group, "role": role}
    )
    assert reply.status == 200, reply.body
    return reply.body


async def _save(api, user: str, text: str) -> int:
    return (await api("POST", f"{PROMPT}/versions", user=user, json_body={"template": text})).status


async def test_a_group_members_role_is_the_groups(api):
    granted = await _grant(api, "ml-team", "viewer")
    assert (granted["kind"], granted["group"], granted["user"]) == ("group", "ml-team", None)
    assert granted["role"] == "viewer" and granted["created_by"] == "alice"
    assert await _save(api, "alice", "Hello {{ name }}") == 201

    # a viewer through the group: reads, may not write
    assert (await api("GET", "projects/default", user="carol")).body["role"] == "viewer"
    assert (await api("GET", PROMPT, user="carol")).status == 200
    assert await _save(api, "carol", "Hi") == 403
    listed = await api("GET", "projects", user="carol")
    assert [(p["slug"], p["role"]) for p in listed.body["items"]] == [("default", "viewer")]
    # an editor once the group is
    reply = await api("PUT", "projects/default/groups/ml-team", json_body={"role": "editor"})
    assert reply.status == 200 and reply.body["role"] == "editor"
    assert await _save(api, "carol", "Hi {{ name }}") == 201
    version = await api("GET", f"{PROMPT}/versions/2", user="erin")
    assert version.body["created_by"] == "carol"  # recorded as themselves
    # not an owner: may not grant
    assert_error(
        await api("POST", MEMBERS, user="carol", json_body={"user": "bob", "role": "viewer"}),
        403,
        "permission_denied",
    )
    # someone outside the group sees nothing
    assert_error(await api("GET", PROMPT, user="bob"), 404, "not_found")
    assert (await api("GET", "projects", user="bob")).body["items"] == []

    # the member list shows the group apart from the users
    await api("PUT", f"{MEMBERS}/bob", json_body={"role": "viewer"})
    items = (await api("GET", MEMBERS, user="carol")).body["items"]
    assert [(m["kind"], m["user"], m["group"], m["role"]) for m in items] == [
        ("user", "alice", None, "owner"),
        ("user", "bob", None, "viewer"),
        ("group", None, "ml-team", "editor"),
    ]

    # revoking the grant takes the role away at once
    assert (await api("DELETE", "projects/default/groups/ml-team")).status == 204
    assert_error(await api("GET", PROMPT, user="carol"), 404)
    assert_error(await api("DELETE", "projects/default/groups/ml-team"), 404, "not_found")


async def test_the_highest_of_the_users_and_the_groups_roles_wins(api):
    await api("PUT", f"{MEMBERS}/carol", json_body={"role": "viewer"})
    await _grant(api, "ml-team", "editor")
    assert (await api("GET", "projects/default", user="carol")).body["role"] == "editor"
    await _grant(api, "ops", "owner")
    assert (await api("GET", "projects/default", user="erin")).body["role"] == "owner"
    assert (await api("GET", "projects/default", user="carol")).body["role"] == "editor"
    # erin, an owner through ops, grants (recorded as herself)
    reply = await api("POST", MEMBERS, user="erin", json_body={"user": "bob", "role": "viewer"})
    assert reply.status == 200 and reply.body["created_by"] == "erin"
    reply = await api("POST", MEMBERS, user="erin", json_body={"user": "carol", "role": "owner"})
    assert reply.status == 200
    assert (await api("GET", "projects/default", user="carol")).body["role"] == "owner"
    await api("DELETE", "projects/default/groups/ops")
    assert (await api("GET", "projects/default", user="erin")).body["role"] == "editor"
    # the Hub takes carol out of ml-team: her own role is what is left
    await api("PUT", f"{MEMBERS}/carol", json_body={"role": "viewer"})
    hub.HUB_GROUPS["carol"] = []
    assert (await api("GET", "projects/default", user="carol")).body["role"] == "viewer"


async def test_bad_grants_are_refused_naming_the_field_and_change_nothing(api):
    await _grant(api, "ml-team", "viewer")
    before = (await api("GET", MEMBERS)).body["items"]
    for body, field in [
        ({"user": "bob", "group": "ml-team", "role": "viewer"}, "group"),
        ({"role": "viewer"}, "user"),
        ({"group": "", "role": "viewer"}, "group"),
        ({"group": "   ", "role": "viewer"}, "group"),
        ({"group": "ml-team", "role": "admin"}, "role"),
        ({"group": "ml-team"}, "role"),
        ({"group": 7, "role": "viewer"}, "group"),
    ]:
        reply = await api("POST", MEMBERS, json_body=body)
        assert_error(reply, 400, "invalid_input")
        assert reply.body.get("field") == field, (body, reply.body)
    reply = await api("PUT", "projects/default/groups/%20", json_body={"role": "viewer"})
    assert_error(reply, 400, "invalid_input")
    assert reply.body["field"] == "group"
    reply = await api("PUT", "projects/default/groups/ml-team", json_body={"role": "boss"})
    assert_error(reply, 400, "invalid_input")
    assert reply.body["field"] == "role"
    # a non-member gets the 404 of a project they cannot see, whatever they send
    assert_error(
        await api("PUT", "projects/default/groups/x", user="bob", json_body={"role": "owner"}),
        404,
    )
    assert (await api("GET", MEMBERS)).body["items"] == before


async def test_a_group_owner_does_not_count_as_the_last_owner(api):
    await _grant(api, "ml-team", "owner")
    reply = await api("PUT", f"{MEMBERS}/alice", json_body={"role": "editor"})
    assert_error(reply, 409, "conflict")
    assert_error(await api("DELETE", f"{MEMBERS}/alice", user="carol"), 409, "conflict")
    assert (await api("GET", "projects/default")).body["role"] == "owner"


async def test_a_hub_admin_administers_every_project_as_themselves(api):
    assert (await api("POST", "projects", user="bob", json_body={"slug": "bobs"})).status == 201
    assert_error(await api("GET", "projects/bobs", user="dave"), 404)
    hub.HUB_ADMINS.add("dave")
    listed = await api("GET", "projects", user="dave")
    assert [(p["slug"], p["role"]) for p in listed.body["items"]] == [
        ("bobs", "owner"),
        ("default", "owner"),
    ]
    reply = await api(
        "PUT", "projects/bobs/members/carol", user="dave", json_body={"role": "viewer"}
    )
    assert reply.status == 200 and reply.body["created_by"] == "dave"
    reply = await api(
        "POST", "projects/bobs/members", user="dave", json_body={"group": "ops", "role": "editor"}
    )
    assert reply.status == 200 and reply.body["created_by"] == "dave"
    saved = await api(
        "POST", "projects/bobs/prompts/p/versions", user="dave", json_body={"template": "x"}
    )
    assert saved.status == 201 and saved.body["version"]["created_by"] == "dave"
    # dave is not a member: he is an owner only while the Hub says he is an admin
    names = [
        m["user"] or m["group"]
        for m in (await api("GET", "projects/bobs/members", user="bob")).body["items"]
    ]
    assert "dave" not in names
    hub.HUB_ADMINS.discard("dave")
    assert_error(await api("GET", "projects/bobs", user="dave"), 404)
    assert (await api("GET", "projects/bobs", user="carol")).body["role"] == "viewer"


async def _until_cached(app) -> None:
    for _ in range(500):
        if await app.catalog.current("default") is not None:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the catalogue was never built")


async def test_the_prompt_copy_applies_group_grants_and_the_hubs_groups_at_once(api, jp_serverapp):
    app = _app(jp_serverapp)
    app.services.prompts.save(ALICE, "default", "greet", "Hello {{ name }}")
    await _grant(api, "ml-team", "viewer")
    assert (await api("GET", PROMPT, user="carol")).status == 200  # sets carol up
    await _until_cached(app)
    served = app.catalog.served
    assert (await api("GET", PROMPT, user="carol")).body["name"] == "greet"
    assert app.catalog.served == served + 1  # from memory, through the group's role
    assert_error(await api("GET", PROMPT, user="bob"), 404)

    # the grant is revoked: the very next read is refused
    assert (await api("DELETE", "projects/default/groups/ml-team")).status == 204
    assert_error(await api("GET", PROMPT, user="carol"), 404)
    await _grant(api, "ml-team", "viewer")
    await _until_cached(app)
    served = app.catalog.served
    assert (await api("GET", PROMPT, user="carol")).status == 200
    assert app.catalog.served == served + 1
    # the Hub takes carol out of the group: nothing changed in the database, still refused
    hub.HUB_GROUPS["carol"] = []
    assert_error(await api("GET", PROMPT, user="carol"), 404)
    assert_error(await api("GET", "projects/default/prompts", user="carol"), 404)
    # a Hub admin reads from memory too
    hub.HUB_ADMINS.add("dave")
    assert (await api("GET", PROMPT, user="dave")).status == 200  # sets dave up
    served = app.catalog.served
    assert (await api("GET", PROMPT, user="dave")).status == 200
    assert app.catalog.served == served + 1


def _finished(services: Services) -> None:
    services.prompts.save(ALICE, "default", "ask", "Reply: {{ q }}", model="fake/echo")
    rows = [{"q": f"q{i}", "expected": f"Reply: q{i}"} for i in range(4)]
    services.datasets.import_(ALICE, "default", "qs", rows)
    services.experiments.create(
        ALICE,
        "default",
        dataset="qs@1",
        variants=["ask@1"],
        models=["fake/echo"],
        scorers=["exact_match"],
        name="snap",
    )
    services.experiments.run(ALICE, "default", "snap")


async def test_the_summary_cache_applies_group_grants_and_the_hubs_groups_at_once(
    api, jp_serverapp
):
    app = _app(jp_serverapp)
    _finished(app.services)
    cache = app.summaries
    await _grant(api, "ml-team", "viewer")
    first = await api("GET", SUMMARY, user="carol")
    assert first.status == 200 and cache.stored == 1
    again = await api("GET", SUMMARY, user="carol")
    assert again.body == first.body and cache.served == 1
    # the same body is not handed to someone the service did not let read it
    assert_error(await api("GET", SUMMARY, user="bob"), 404)

    # the Hub takes carol out of the group: refused at once
    hub.HUB_GROUPS["carol"] = []
    assert_error(await api("GET", SUMMARY, user="carol"), 404)
    hub.HUB_GROUPS["carol"] = ["ml-team"]
    assert (await api("GET", SUMMARY, user="carol")).status == 200
    # the grant is revoked: refused at once
    assert (await api("DELETE", "projects/default/groups/ml-team")).status == 204
    assert_error(await api("GET", SUMMARY, user="carol"), 404)
    assert_error(await api("GET", SUMMARY, user="erin"), 404)
    # a Hub admin reads it, from memory the second time
    hub.HUB_ADMINS.add("dave")
    assert (await api("GET", SUMMARY, user="dave")).body == first.body
    served = cache.served
    assert (await api("GET", SUMMARY, user="dave")).body == first.body
    assert cache.served == served + 1
    hub.HUB_ADMINS.discard("dave")
    assert_error(await api("GET", SUMMARY, user="dave"), 404)
