"""Identity and roles come from the Hub: a Hub group granted a project role gives its
members that role (also to their batch jobs, which act with job tokens), removing a user
from the group removes the access, and a Hub admin administers every project."""

from __future__ import annotations

from hubharness.run import MODEL, HubRun
from hubharness.seed import CSV, PROMPT_TEXT, Seeded, run_experiment_job

TEAM = "team-ml"


def test_a_hub_group_grant_reaches_its_members_and_their_jobs(hub_run: HubRun) -> None:
    hub, alice = hub_run.hub, hub_run.tokens["alice"]
    hub.admin("POST", "groups/ml")
    hub.admin("POST", "groups/ml/users", json={"users": ["bob"]})
    hub.llmlab("POST", "projects", alice, json={"slug": TEAM})
    grant = hub.llmlab(
        "POST", f"projects/{TEAM}/members", alice, json={"group": "ml", "role": "editor"}
    )
    assert grant.status_code == 200, grant.text
    bob = hub.new_token("bob", note="in group ml")[0]  # the Hub says: groups ["ml"]
    assert hub.llmlab("GET", "me", bob).json()["groups"] == ["ml"]
    p = f"projects/{TEAM}"
    saved = hub.llmlab(
        "POST", f"{p}/prompts/ask/versions", bob, json={"template": PROMPT_TEXT, "model": MODEL}
    )
    assert saved.status_code in (200, 201), saved.text
    assert saved.json()["version"]["created_by"] == "bob"
    uploaded = hub.llmlab(
        "POST", f"{p}/datasets/qa/versions", bob, content=CSV, params={"format": "csv"}
    )
    assert uploaded.status_code in (200, 201), uploaded.text
    # bob's job runs with a token for bob; the service finds his group on the Hub
    final = run_experiment_job(
        hub.client, f"services/llmlab/llmlab/api/{p}", bob, prompt="ask@1", model=MODEL,
        name="bobs-job",
    )  # fmt: skip
    assert final["state"] == "succeeded", final
    run = hub.llmlab("GET", f"{p}/experiments/bobs-job", bob).json()["experiment"]
    assert (run["created_by"], run["status"]) == ("bob", "completed")

    # out of the group: out of the project (a fresh token, so no cached answer hides it)
    hub.admin("DELETE", "groups/ml/users", json={"users": ["bob"]})
    after = hub.new_token("bob", note="no longer in ml")[0]
    assert hub.llmlab("GET", f"{p}/prompts", after).status_code == 404


def test_a_hub_admin_administers_every_project(hub_run: HubRun, alice_work: Seeded) -> None:
    hub = hub_run.hub
    hub.admin("POST", "users/carol", json={"admin": True})
    carol = hub.new_token("carol", note="admin")[0]
    assert hub.llmlab("GET", "me", carol).json()["admin"] is True
    p = f"projects/{alice_work.project}"
    assert hub.llmlab("GET", f"{p}/prompts/{alice_work.prompt}", carol).status_code == 200
    granted = hub.llmlab("PUT", f"{p}/members/dave", carol, json={"role": "viewer"})
    assert granted.status_code == 200, granted.text
    members = hub.llmlab("GET", f"{p}/members", carol).json()["items"]
    assert {m.get("user") for m in members} >= {"alice", "dave"}
    assert hub.llmlab("DELETE", f"{p}/members/dave", carol).status_code == 204
    # bob, no admin and no member, still sees nothing of it
    assert hub.llmlab("GET", f"{p}/prompts", hub_run.tokens["bob"]).status_code == 404
