"""Experiments over REST: background runs, progress, results, summary, feedback, usage."""

from __future__ import annotations

import asyncio

from .conftest import assert_error

P = "projects/default"
ROWS = [{"article": f"story {i}", "expected": f"Short: story {i}"} for i in range(12)]


async def _seed(api) -> None:
    for template in ("Summarize: {{ article }}", "Short: {{ article }}"):
        saved = await api(
            "POST",
            f"{P}/prompts/summarize/versions",
            json_body={"template": template, "model": "fake/echo"},
        )
        assert saved.status == 201, saved.body
    lines = "\n".join(__import__("json").dumps(r) for r in ROWS).encode()
    up = await api("POST", f"{P}/datasets/news/versions", raw=lines, params={"format": "jsonl"})
    assert up.status == 201, up.body


async def _until_final(api, name: str, timeout: float = 60.0) -> dict:
    for _ in range(int(timeout / 0.1)):
        state = (await api("GET", f"{P}/experiments/{name}")).body
        if state["experiment"]["status"] not in ("created", "running"):
            return state
        await asyncio.sleep(0.1)
    raise AssertionError(f"experiment {name} did not finish: {state}")


async def test_start_returns_at_once_and_results_summary_compare_follow(api):
    await _seed(api)
    created = await api(
        "POST",
        f"{P}/experiments",
        json_body={
            "dataset": "news@1",
            "variants": ["summarize@1", {"prompt": "summarize", "version": 2}],
            "models": ["fake/echo?latency_ms=20"],
            "scorers": ["exact_match", {"type": "contains", "column": "article"}],
            "name": "first",
            "created_by": "mallory",
        },
    )
    assert created.status == 201, created.body
    exp = created.body["experiment"]
    assert exp["created_by"] == "alice" and exp["total_items"] == 24
    assert exp["status"] in ("running", "completed")
    done = await _until_final(api, "first")
    assert done["experiment"]["status"] == "completed" and done["active"] is False
    assert done["experiment"]["completed_items"] == 24

    page = await api("GET", f"{P}/experiments/first/results", params={"limit": 5})
    assert page.body["total"] == 24 and len(page.body["items"]) == 5
    assert page.body["next_offset"] == 5
    first = page.body["items"][0]
    assert first["input"]["article"] == "story 0" and first["prompt_hash"].startswith("sha256:")
    only_v2 = await api("GET", f"{P}/experiments/first/results", params={"variant": 1})
    assert {r["scores"]["exact_match"] for r in only_v2.body["items"]} == {1.0}
    found = await api("GET", f"{P}/experiments/first/results", params={"search": "story 11"})
    assert found.body["total"] == 2
    errors = await api("GET", f"{P}/experiments/first/results", params={"errors_only": "true"})
    assert errors.body["total"] == 0

    summary = (await api("GET", f"{P}/experiments/first/summary")).body["items"]
    assert summary[1]["exact_match.mean"] == 1.0 and summary[1]["exact_match.wins"] == 12
    compare = await api(
        "GET", f"{P}/experiments/first/compare", params={"a": 0, "b": 1, "scorer": "exact_match"}
    )
    assert compare.status == 200 and compare.body["wins"] == 12 and compare.body["p_value"] < 0.01
    assert_error(
        await api(
            "GET",
            f"{P}/experiments/first/compare",
            params={"a": 0, "b": 9, "scorer": "exact_match"},
        ),
        400,
        "invalid_input",
    )
    again = await api("POST", f"{P}/experiments/first/start", json_body={})
    assert_error(again, 409, "conflict")


async def test_cancel_feedback_usage_and_roles(api):
    await _seed(api)
    slow = await api(
        "POST",
        f"{P}/experiments",
        json_body={
            "dataset": "news",
            "variants": ["summarize@2"],
            "concurrency": 1,
            "models": ["fake/echo?latency_ms=300"],
            "name": "slow",
            "feedback_labels": ["good", "bad"],
        },
    )
    assert slow.status == 201 and slow.body["active"] is True
    for _ in range(100):  # progress is visible while it runs
        state = (await api("GET", f"{P}/experiments/slow")).body
        if state["experiment"]["completed_items"] >= 1:
            break
        await asyncio.sleep(0.1)
    assert state["experiment"]["status"] == "running" and state["active"] is True
    cancelled = await api("POST", f"{P}/experiments/slow/cancel")
    assert cancelled.status == 200 and cancelled.body["experiment"]["status"] == "cancelled"
    final = await _until_final(api, "slow")
    assert final["experiment"]["status"] == "cancelled"
    assert 1 <= final["experiment"]["completed_items"] < 12

    given = await api(
        "PUT",
        f"{P}/experiments/slow/results/0/0/feedback",
        json_body={
            "thumbs": 1,
            "rating": 4,
            "label": "good",
            "comment": "<b>fine</b>",
            "user_name": "mallory",
        },
    )
    assert given.status == 200, given.body
    record = given.body["items"][0]
    assert (record["thumbs"], record["rating"], record["label"]) == (1, 4, "good")
    assert record.get("user", record.get("user_name")) == "alice"
    assert_error(
        await api("PUT", f"{P}/experiments/slow/results/0/0/feedback", json_body={"label": "meh"}),
        400,
        "invalid_input",
    )
    assert_error(
        await api("PUT", f"{P}/experiments/slow/results/0/0/feedback", json_body={"rating": 9}),
        400,
    )
    listed = await api("GET", f"{P}/experiments/slow/feedback")
    assert len(listed.body["items"]) == 1

    usage = await api("GET", f"{P}/usage", params={"by": "experiment,model"})
    assert usage.status == 200
    assert usage.body["items"][0]["experiment"] == "slow"
    assert_error(await api("GET", f"{P}/usage", params={"by": "password"}), 400, "invalid_input")

    # a viewer reads but may not start, cancel or rate; a stranger sees nothing
    await api("PUT", f"{P}/members/bob", json_body={"role": "viewer"})
    assert (await api("GET", f"{P}/experiments/slow", user="bob")).status == 200
    assert_error(await api("POST", f"{P}/experiments/slow/start", user="bob", json_body={}), 403)
    assert_error(
        await api(
            "PUT",
            f"{P}/experiments/slow/results/0/0/feedback",
            user="bob",
            json_body={"thumbs": -1},
        ),
        403,
    )
    assert_error(await api("GET", f"{P}/experiments/slow", user="carol"), 404)
    assert_error(await api("GET", f"{P}/experiments", user="carol"), 404)


async def test_bad_plans_are_refused_and_store_nothing(api):
    await _seed(api)
    for body, code in (
        ({"dataset": "news", "variants": []}, 400),
        ({"dataset": "news", "variants": ["summarize@9"]}, 404),
        ({"dataset": "nope", "variants": ["summarize@1"]}, 404),
        ({"dataset": "news", "variants": ["summarize@1"], "models": ["bad"]}, 400),
        (
            {
                "dataset": "news",
                "variants": ["summarize@1"],
                "scorers": [{"type": "callable", "function": "os:system"}],
            },
            400,
        ),
        ({"dataset": "news", "variants": ["summarize@1"], "budget_usd": -1}, 400),
    ):
        assert_error(await api("POST", f"{P}/experiments", json_body=body), code)
    assert (await api("GET", f"{P}/experiments")).body["items"] == []
