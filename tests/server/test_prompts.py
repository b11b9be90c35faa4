"""Prompts over REST: versions, resolve, labels and history, diff, render, preview, sorting."""

from __future__ import annotations

from .conftest import assert_error

BASE = "projects/default/prompts"


async def _save(api, name, template, **extra):
    reply = await api("POST", f"{BASE}/{name}/versions", json_body={"template": template, **extra})
    assert reply.status in (200, 201), reply.body
    return reply


async def test_versions_labels_diff_render(api):
    first = await _save(api, "greet", "Hello {{ name }}", message="first")
    assert first.status == 201 and first.body["created"] is True
    assert first.body["version"]["number"] == 1
    same = await _save(api, "greet", "Hello {{ name }}", created_by="mallory")
    assert same.status == 200 and same.body["created"] is False
    chat = [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "{{ q }}"}]
    assert (await _save(api, "greet", "Hi {{ name }}", model="fake/echo")).status == 201
    assert (await _save(api, "chat", chat)).body["version"]["kind"] == "chat"

    info = await api("GET", f"{BASE}/greet")
    assert info.body["latest_version"] == 2
    versions = await api("GET", f"{BASE}/greet/versions", params={"limit": 1})
    assert [v["number"] for v in versions.body["items"]] == [2]
    assert versions.body["next_offset"] == 1
    assert (await api("GET", f"{BASE}/greet/versions/1")).body["template"] == "Hello {{ name }}"
    assert_error(await api("GET", f"{BASE}/greet/versions/9"), 404, "not_found")
    assert_error(await api("GET", f"{BASE}/greet/versions/abc"), 400, "invalid_input")

    # no production label yet: 404 unless falling back to the latest
    assert_error(await api("GET", f"{BASE}/greet/resolve"), 404)
    latest = await api("GET", f"{BASE}/greet/resolve", params={"fallback_to_latest": "true"})
    assert latest.body["number"] == 2
    label = await api("PUT", f"{BASE}/greet/labels/production", json_body={"version": 1})
    assert label.status == 200 and label.body["version"] == 1
    await api("PUT", f"{BASE}/greet/labels/production", json_body={"version": 2})
    assert (await api("GET", f"{BASE}/greet/resolve")).body["number"] == 2
    by_version = await api("GET", f"{BASE}/greet/resolve", params={"version": 1})
    assert by_version.body["number"] == 1
    both = await api("GET", f"{BASE}/greet/resolve", params={"version": 1, "label": "production"})
    assert_error(both, 400)
    history = await api("GET", f"{BASE}/greet/labels/history")
    assert [(e["from_version"], e["to_version"]) for e in history.body["items"]] == [
        (None, 1),
        (1, 2),
    ]
    assert (await api("DELETE", f"{BASE}/greet/labels/production")).status == 204
    history = await api("GET", f"{BASE}/greet/labels/history", params={"label": "production"})
    assert history.body["items"][-1]["to_version"] is None
    # a label may be called "history"
    named = await api("PUT", f"{BASE}/greet/labels/history", json_body={"version": 1})
    assert named.status == 200 and named.body["name"] == "history"

    diff = await api("GET", f"{BASE}/greet/diff", params={"a": 1, "b": 2})
    assert "+Hi {{ name }}" in diff.body["diff"] and diff.body["a"]["number"] == 1
    assert_error(await api("GET", f"{BASE}/greet/diff", params={"a": 1}), 400)

    rendered = await api(
        "POST", f"{BASE}/greet/render", json_body={"variables": {"name": "Ada"}, "version": 1}
    )
    assert rendered.body == {"rendered": "Hello Ada"}
    missing = await api("POST", f"{BASE}/greet/render", json_body={"version": 1})
    assert_error(missing, 400, "template_error")
    chat_out = await api(
        "POST",
        f"{BASE}/chat/render",
        json_body={"variables": {"q": "2+2?"}, "fallback_to_latest": True},
    )
    assert chat_out.body["rendered"][1] == {"role": "user", "content": "2+2?"}


async def test_list_search_label_sort(api):
    for name in ("b-one", "a-two", "c-three"):
        await _save(api, name, f"{name} {{{{ x }}}}")
    await api("PUT", f"{BASE}/a-two/labels/staging", json_body={"version": 1})
    names = lambda r: [p["name"] for p in r.body["items"]]  # noqa: E731
    assert names(await api("GET", BASE)) == ["a-two", "b-one", "c-three"]
    assert names(await api("GET", BASE, params={"sort": "-name"})) == ["c-three", "b-one", "a-two"]
    assert names(await api("GET", BASE, params={"sort": "-updated_at"}))[0] == "c-three"
    assert names(await api("GET", BASE, params={"search": "two"})) == ["a-two"]
    assert names(await api("GET", BASE, params={"label": "staging"})) == ["a-two"]
    assert_error(await api("GET", BASE, params={"sort": "created_by"}), 400, "invalid_input")
    page = await api("GET", BASE, params={"limit": 2, "offset": 1})
    assert names(page) == ["b-one", "c-three"] and page.body["next_offset"] == 3


async def test_bad_templates_and_names(api):
    bad = await api("POST", f"{BASE}/x/versions", json_body={"template": "{{ oops"})
    assert_error(bad, 400, "template_error")
    assert_error(await api("POST", f"{BASE}/x/versions", json_body={}), 400, "invalid_input")
    assert_error(await api("POST", f"{BASE}/Bad%20Name/versions", json_body={"template": "x"}), 400)
    assert_error(await api("GET", f"{BASE}/nope"), 404, "not_found")


async def test_render_preview(api):
    url = "projects/default/render-preview"
    ok = await api(
        "POST", url, json_body={"template": "Hi {{ a }} {{ b }}", "variables": {"a": 1, "b": 2}}
    )
    assert (
        ok.status == 200 and ok.body["variables"] == ["a", "b"] and ok.body["rendered"] == "Hi 1 2"
    )
    detect = await api("POST", url, json_body={"template": "{{ z }}"})
    assert detect.body == {"variables": ["z"], "rendered": None, "error": None}
    broken = await api("POST", url, json_body={"template": "line1\n{% if %}"})
    assert broken.status == 200
    assert (
        broken.body["error"]["error_code"] == "template_error" and broken.body["error"]["line"] == 2
    )
    missing = await api("POST", url, json_body={"template": "{{ a }}", "variables": {}})
    assert missing.body["error"]["field"] == "variables"
    assert_error(await api("POST", url, user="carol", json_body={"template": "x"}), 404)


async def test_non_member_cannot_reach_prompts_by_guessing(api):
    await _save(api, "secret", "classified")
    for method, path, body in [
        ("GET", f"{BASE}/secret", None),
        ("GET", f"{BASE}/secret/versions/1", None),
        ("GET", f"{BASE}/secret/resolve", None),
        ("POST", f"{BASE}/secret/versions", {"template": "mine"}),
        ("PUT", f"{BASE}/secret/labels/production", {"version": 1}),
        ("POST", f"{BASE}/secret/render", {"variables": {}}),
        ("GET", f"{BASE}/secret/labels/history", None),
    ]:
        assert_error(await api(method, path, user="carol", json_body=body), 404, "not_found")
