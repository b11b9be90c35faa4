"""Finished experiments' summaries answered from memory: the same body as the service, and
never stale, whoever writes (feedback from another process, a membership change, a new run)."""

from __future__ import annotations

import pytest

from llmlab_jupyter.config import LlmLabConfig
from llmlab_jupyter.services import Caller, Services

from .conftest import assert_error, lose_probe_connections

ALICE, BOB = Caller("alice"), Caller("bob")
SUMMARY = "projects/default/experiments/snap/summary"


def _app(jp_serverapp):
    (app,) = jp_serverapp.extension_manager.extension_apps["llmlab_jupyter"]
    return app


def _finished(services: Services, name: str = "snap", run: bool = True) -> None:
    services.projects.ensure(ALICE, "default")
    services.prompts.save(ALICE, "default", "ask", "Answer: {{ q }}", model="fake/echo")
    services.prompts.save(ALICE, "default", "ask", "Reply: {{ q }}", model="fake/echo")
    rows = [{"q": f"q{i}", "expected": f"Reply: q{i}"} for i in range(6)]
    services.datasets.import_(ALICE, "default", "qs", rows)
    services.experiments.create(
        ALICE,
        "default",
        dataset="qs@1",
        variants=["ask@1", "ask@2"],
        models=["fake/echo"],
        scorers=["exact_match"],
        name=name,
    )
    if run:
        services.experiments.run(ALICE, "default", name)


@pytest.fixture
def other_process(database_url, tmp_path):
    """Services on their own engine: to the database, another process writing."""
    svc = Services.from_config(LlmLabConfig(database_url=database_url, data_dir=str(tmp_path)))
    yield svc
    svc.close()


async def _summary(api, user: str = "alice", **params):
    reply = await api("GET", SUMMARY, user=user, params=params or None)
    assert reply.status == 200, reply.body
    return reply.body["items"]


async def test_a_finished_summary_is_served_from_memory_and_follows_every_write(
    api, jp_serverapp, other_process
):
    app = _app(jp_serverapp)
    _finished(app.services)
    cache = app.summaries
    first = await _summary(api)
    assert cache.stored == 1 and cache.served == 0
    again = await _summary(api)
    assert again == first and cache.served == 1
    assert [r["exact_match.mean"] for r in first] == [0.0, 1.0]
    assert [r["feedback_thumbs_up"] for r in first] == [0, 0]

    # other parameters are another entry
    by_b1 = await _summary(api, baseline=1)
    assert by_b1 != first and cache.stored == 2

    # feedback from another process: the very next read shows it
    other_process.feedback.give(ALICE, "default", "snap", 1, 0, thumbs=1)
    fresh = await _summary(api)
    assert [r["feedback_thumbs_up"] for r in fresh] == [0, 1]
    assert await _summary(api) == fresh  # and kept again
    served = cache.served

    # a member is served from memory only after the service let them read it
    other_process.projects.set_member(ALICE, "default", "bob", "viewer")
    assert await _summary(api, user="bob") == fresh
    assert cache.served == served
    assert await _summary(api, user="bob") == fresh
    assert cache.served == served + 1
    # a non-member never is, and a removed member gets the 404 at once
    assert_error(await api("GET", SUMMARY, user="carol"), 404)
    other_process.projects.remove_member(ALICE, "default", "bob")
    assert_error(await api("GET", SUMMARY, user="bob"), 404)
    # and feedback changed again, after an entry was kept, is seen at once too
    other_process.feedback.give(ALICE, "default", "snap", 1, 0, thumbs=-1)
    assert [r["feedback_thumbs_down"] for r in await _summary(api)] == [0, 1]


async def test_a_running_experiment_is_never_kept(api, jp_serverapp):
    app = _app(jp_serverapp)
    _finished(app.services, run=False)  # planned, not run: its summary changes as it runs
    planned = await _summary(api)
    assert [r["results"] for r in planned] == [0, 0]
    assert app.summaries.stored == 0
    app.services.experiments.run(ALICE, "default", "snap")
    assert [r["results"] for r in await _summary(api)] == [6, 6]
    assert app.summaries.stored == 1


async def test_errors_are_the_services_and_a_lost_check_falls_back(api, jp_serverapp):
    app = _app(jp_serverapp)
    _finished(app.services)
    body = await _summary(api)
    assert await _summary(api) == body and app.summaries.served == 1
    assert_error(await api("GET", SUMMARY, params={"baseline": 7}), 400)
    assert_error(await api("GET", "projects/default/experiments/nope/summary"), 404)
    lose_probe_connections(app._probe)  # the check's connection is lost: the service answers
    served = app.summaries.served
    assert await _summary(api) == body
    assert app.summaries.served == served
