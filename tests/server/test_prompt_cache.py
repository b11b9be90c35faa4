"""Prompt reads answered from the in-memory catalogue: the same answers as the database, and
never stale, whoever writes (this server, another process, a membership change)."""

from __future__ import annotations

import asyncio
import itertools
import json

import pytest

from llmlab_jupyter.config import LlmLabConfig
from llmlab_jupyter.server.prompt_cache import SORTS, CatalogView
from llmlab_jupyter.server.schemas.common import ListPromptsResponse, next_offset
from llmlab_jupyter.services import Caller, Services
from llmlab_jupyter.store.catalog.generations import catalog_snapshot

from .conftest import assert_error, lose_probe_connections

ALICE = Caller("alice")
BASE = "projects/default/prompts"
# names and descriptions chosen where collations and LIKE differ: '-', '_', '.', '%', case
PROMPTS = {
    "a-b": "dash",
    "a_b": "under_score",
    "a.b": "100% sure",
    "ab": "MiXeD Case",
    "a-c": "",
    "b": "percent % and slash /",
    "z9": "the last",
    "a1": "first-ish",
}


def _seed(services: Services) -> None:
    services.projects.ensure(ALICE, "default")
    for name, text in PROMPTS.items():
        services.prompts.save(ALICE, "default", name, f"{name}: {{{{ x }}}}", description=text)
    services.prompts.save(ALICE, "default", "a_b", "second {{ x }}")
    services.prompts.set_label(ALICE, "default", "a_b", "production", 1)
    services.prompts.set_label(ALICE, "default", "b", "production", 1)
    services.prompts.set_label(ALICE, "default", "z9", "staging", 1)


def _view(services: Services) -> CatalogView:
    snap = catalog_snapshot(services.store.tx, "default", max_versions=1000)
    assert snap is not None
    return CatalogView.build(snap)


def test_the_view_lists_pages_searches_and_sorts_as_the_database(services):
    _seed(services)
    view = _view(services)
    searches = [None, "a", "A", "_", "%", "/", "-b", "case", "SURE", "100%", "zzz", "a-b"]
    searches += ["sur", "under_score", "nder_", "% and", "dash"]  # trigram lookups
    labels = [None, "production", "staging", "nope"]
    pages = [(2, 0), (2, 3), (100, 0), (3, 100)]
    for sort, search, label, (limit, offset) in itertools.product(SORTS, searches, labels, pages):
        got = view.page(sort=sort, search=search, label=label, limit=limit, offset=offset)
        items = services.prompts.list(
            ALICE, "default", search=search, label=label, limit=limit, offset=offset, sort=sort
        )
        want = ListPromptsResponse(items=items, next_offset=next_offset(offset, limit, len(items)))
        assert got is not None
        assert json.loads(got) == want.model_dump(mode="json"), (sort, search, label, offset)


def test_the_view_searches_the_same_without_its_trigram_index(services):
    _seed(services)
    view = _view(services)
    assert view.trigrams is not None
    needles = ["sur", "under_score", "case", "a-b", "zzz", "ab", "b"]
    indexed = [view.page(sort="name", search=n, label=None, limit=5, offset=0) for n in needles]
    view.trigrams = None  # as for a catalogue too large to index
    assert indexed == [
        view.page(sort="name", search=n, label=None, limit=5, offset=0) for n in needles
    ]


def test_the_view_declines_what_it_cannot_answer_exactly(services):
    _seed(services)
    services.prompts.save(ALICE, "default", "cafe", "x", description="Café crème")
    view = _view(services)
    # SQL folds the case of non-ASCII letters differently per database: the database answers
    assert view.page(sort="name", search="caf", label=None, limit=10, offset=0) is None
    assert view.page(sort="name", search=None, label=None, limit=10, offset=0) is not None
    assert view.prompt("nope") is None and view.version("a_b", 9) is None
    assert view.resolve("a_b", version=1, label="production", fallback_to_latest=False) is None
    assert view.resolve("a-b", version=None, label=None, fallback_to_latest=False) is None
    latest = view.resolve("a-b", version=None, label=None, fallback_to_latest=True)
    assert latest is not None and json.loads(latest)["number"] == 1


def _app(jp_serverapp):
    (app,) = jp_serverapp.extension_manager.extension_apps["llmlab_jupyter"]
    return app


async def _until_cached(app, project: str = "default") -> None:
    for _ in range(500):
        if await app.catalog.current(project) is not None:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the catalogue of {project!r} was never built")


@pytest.fixture
def other_process(database_url, tmp_path):
    """Services on their own engine: to the database, another process writing."""
    svc = Services.from_config(LlmLabConfig(database_url=database_url, data_dir=str(tmp_path)))
    yield svc
    svc.close()


async def _json(api, path, **kw):
    reply = await api("GET", path, **kw)
    assert reply.status == 200, reply.body
    return reply.body


async def test_cached_reads_equal_the_database_and_follow_every_write(
    api, jp_serverapp, other_process
):
    app = _app(jp_serverapp)
    _seed(app.services)
    await api("PUT", "projects/default/members/bob", json_body={"role": "viewer"})
    await _until_cached(app)
    # a user's first request sets them up (a database write): never answered on the loop
    served = app.catalog.served
    assert (await _json(api, f"{BASE}/z9", user="bob"))["name"] == "z9"
    assert app.catalog.served == served
    svc = app.services
    assert await _json(api, f"{BASE}/a_b") == svc.prompts.info(ALICE, "default", "a_b").model_dump(
        mode="json"
    )
    v1 = await _json(api, f"{BASE}/a_b/versions/1")
    assert v1 == svc.prompts.get(ALICE, "default", "a_b", version=1).model_dump(mode="json")
    assert v1["labels"] == ["production"]
    assert (await _json(api, f"{BASE}/a_b/resolve"))["number"] == 1
    assert (await _json(api, f"{BASE}/a_b/resolve", params={"label": "production"})) == v1
    page = await _json(api, BASE, params={"limit": 3, "offset": 1, "sort": "-name"})
    assert [p["name"] for p in page["items"]] == [
        p.name for p in svc.prompts.list(ALICE, "default", limit=3, offset=1, sort="-name")
    ]
    assert (await _json(api, f"{BASE}/z9", user="bob"))["labels"] == {"staging": 1}
    assert app.catalog.served == served + 6  # all six reads above came from memory

    # another process writes: the very next read sees it (no waiting, no expiry)
    other_process.prompts.save(ALICE, "default", "a_b", "third {{ x }}")
    assert (await _json(api, f"{BASE}/a_b"))["latest_version"] == 3
    assert (await _json(api, f"{BASE}/a_b/versions/3"))["template"] == "third {{ x }}"
    other_process.prompts.set_label(ALICE, "default", "a_b", "production", 3)
    assert (await _json(api, f"{BASE}/a_b/resolve"))["number"] == 3
    assert (await _json(api, f"{BASE}/a_b/versions/1"))["labels"] == []
    other_process.prompts.save(ALICE, "default", "new-one", "fresh")
    names = [p["name"] for p in (await _json(api, BASE, params={"search": "new"}))["items"]]
    assert names == ["new-one"]
    other_process.projects.remove_member(ALICE, "default", "bob")
    assert_error(await api("GET", f"{BASE}/z9", user="bob"), 404)
    assert_error(await api("GET", BASE, user="bob"), 404)
    # and once rebuilt, memory answers again, with the new state
    await _until_cached(app)
    served = app.catalog.served
    assert (await _json(api, f"{BASE}/a_b/resolve"))["number"] == 3
    assert_error(await api("GET", f"{BASE}/z9", user="bob"), 404)
    assert_error(await api("GET", f"{BASE}/z9", user="carol"), 404)
    assert app.catalog.served == served + 1


async def test_bad_requests_get_the_same_errors_with_the_cache(api, jp_serverapp):
    app = _app(jp_serverapp)
    _seed(app.services)
    await _until_cached(app)
    assert_error(await api("GET", f"{BASE}/nope"), 404)
    assert_error(await api("GET", f"{BASE}/a_b/versions/9"), 404)
    assert_error(await api("GET", f"{BASE}/a_b/versions/0"), 400)
    assert_error(await api("GET", f"{BASE}/a-b/resolve"), 404)
    assert_error(await api("GET", f"{BASE}/a_b/resolve", params={"label": "Bad Label"}), 400)
    assert_error(await api("GET", BASE, params={"label": "Bad Label"}), 400)
    assert_error(await api("GET", BASE, params={"limit": 100_000}), 400)
    assert_error(await api("GET", BASE, params={"sort": "created_by"}), 400)
    assert_error(await api("GET", "projects/nope/prompts/a_b"), 404)


async def test_a_failing_check_or_view_falls_back_to_the_database(api, jp_serverapp, monkeypatch):
    app = _app(jp_serverapp)
    _seed(app.services)
    await _until_cached(app)
    lose_probe_connections(app.catalog._probe)  # the check's connection is lost
    assert (await _json(api, f"{BASE}/a_b"))["latest_version"] == 2

    def broken(self, name):
        raise RuntimeError("a bug in the view")

    await _until_cached(app)
    monkeypatch.setattr(CatalogView, "prompt", broken)
    served = app.catalog.served
    assert (await _json(api, f"{BASE}/a_b"))["latest_version"] == 2  # not a 500
    assert app.catalog.served == served


async def test_a_project_over_the_version_limit_is_read_from_the_database(api, jp_serverapp):
    app = _app(jp_serverapp)
    app.catalog.max_versions = 3
    _seed(app.services)
    for _ in range(20):
        assert (await _json(api, f"{BASE}/a_b"))["latest_version"] == 2
        await asyncio.sleep(0.02)
    assert await app.catalog.current("default") is None
    assert app.catalog.served == 0


async def test_a_stream_of_writes_does_not_keep_the_server_rebuilding(
    api, jp_serverapp, other_process
):
    app = _app(jp_serverapp)
    app.catalog.min_rebuild_interval_s = 3600
    _seed(app.services)
    await _until_cached(app)
    builds = app.catalog.builds
    for i in range(5):
        other_process.prompts.save(ALICE, "default", "a_b", f"version {i + 3}")
        assert (await _json(api, f"{BASE}/a_b"))["latest_version"] == i + 3  # from the database
    await asyncio.sleep(0.3)
    assert app.catalog.builds == builds
    assert await app.catalog.current("default") is None
