"""alice shares her server with bob through the Hub's sharing API; bob, with his own
token, uses the llmlab API of alice's server (remote mode forwards his own identity): he
sees only his projects, not alice's, and what he saves is recorded as his."""

from __future__ import annotations

from hubharness.run import HubRun
from hubharness.seed import Seeded


def test_bob_on_alices_shared_server_acts_as_bob(user_servers: HubRun, alice_work: Seeded) -> None:
    hub, tokens = user_servers.hub, user_servers.tokens
    on_alice = "user/alice/llmlab/api"
    # before sharing, bob cannot reach alice's server at all
    assert hub.client.call("GET", f"{on_alice}/me", tokens["bob"]).status_code in (403, 404)
    shared = hub.client.call("POST", "hub/api/shares/alice/", tokens["alice"], json={"user": "bob"})
    assert shared.status_code in (200, 201), shared.text
    # a fresh token: alice's server caches what the Hub said about the first one (no access)
    tokens = {**tokens, "bob": hub.new_token("bob", note="after sharing")[0]}

    me = hub.client.json("GET", f"{on_alice}/me", tokens["bob"])
    assert me["user"] == "bob"
    hub.client.call(
        "POST", f"{on_alice}/projects", tokens["bob"], json={"slug": me["default_project"]}
    )
    projects = hub.client.json("GET", f"{on_alice}/projects", tokens["bob"])
    assert alice_work.project not in [p["slug"] for p in projects["items"]]
    p_alice = f"{on_alice}/projects/{alice_work.project}"
    assert hub.client.call("GET", f"{p_alice}/prompts", tokens["bob"]).status_code == 404

    # alice makes bob an editor of a team project; his prompt there is recorded as his
    team = "team-shared"
    hub.client.json("POST", f"{on_alice}/projects", tokens["alice"], json={"slug": team})
    member = {"role": "editor"}
    hub.client.json("PUT", f"{on_alice}/projects/{team}/members/bob", tokens["alice"], json=member)
    saved = hub.client.json(
        "POST",
        f"{on_alice}/projects/{team}/prompts/bobs-idea/versions",
        tokens["bob"],
        json={"template": "From bob: {{ x }}", "created_by": "alice"},
    )
    assert saved["version"]["created_by"] == "bob"
    listed = hub.client.json("GET", f"{on_alice}/projects/{team}/prompts", tokens["alice"])
    assert [p["name"] for p in listed["items"]] == ["bobs-idea"]
    # still nothing of alice's personal project for bob
    assert (
        hub.client.call("GET", f"{p_alice}/prompts/{alice_work.prompt}", tokens["bob"]).status_code
        == 404
    )
