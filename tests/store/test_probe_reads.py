"""The event loop's generations check (``CatalogProbe.read``): the same answer as a blocking
read, never older than the call, and on PostgreSQL one round trip for all the reads that
arrive while one is in flight, without the loop waiting for it."""

from __future__ import annotations

import asyncio

import pytest

from llmlab_jupyter.services import Caller
from llmlab_jupyter.store.catalog.generations import CatalogProbe

ALICE, BOB = Caller("alice"), Caller("bob")


@pytest.fixture
def probe(services):
    services.projects.ensure(ALICE, "default")
    services.projects.create(BOB, "other")
    p = CatalogProbe(services.store.engine, retry_after_s=0)
    yield p
    p.close()


def test_read_answers_as_the_blocking_read(services, probe):
    async def main():
        return [await probe.read(p) for p in ("default", "other", "missing")]

    got = asyncio.run(main())
    assert got == [probe.generations("default"), probe.generations("other"), None]
    assert got[0] is not None and got[1] is not None and got[0][0] != got[1][0]


def test_concurrent_reads_share_round_trips_and_none_is_older_than_its_call(services, probe):
    """Reads asked while a query is in flight wait for the next one: a write committed before
    a read was asked is always in its answer, however many reads share the query."""

    async def main():
        await probe.read("default")  # connected
        first = asyncio.gather(*(probe.read(p) for p in ["default", "other"] * 20))
        await asyncio.sleep(0)  # the first query is on its way
        services.prompts.save(ALICE, "default", "greet", "Hello")  # committed now
        after = await asyncio.gather(*(probe.read("default") for _ in range(30)))
        return await first, after

    before, after = asyncio.run(main())
    want = probe.generations("default")
    assert want is not None
    assert all(a == want for a in after)  # asked after the commit: never the older value
    assert {b for b in before[1::2]} == {probe.generations("other")}
    if probe.engine.dialect.name == "postgresql":
        # 1 connecting read + at most 3 queries for 70 reads: the first batch, and the reads
        # that arrived during it (split in at most two batches by when they were asked)
        assert probe._batched.queries <= 4, probe._batched.queries


def test_a_lost_connection_answers_none_then_reconnects(services, probe):
    async def main():
        key = await probe.read("default")
        for conn in (probe._conn, getattr(probe._batched, "_conn", None)):
            if conn is not None:
                conn.close()
        lost = await probe.read("default")
        return key, lost, await probe.read("default")

    key, lost, again = asyncio.run(main())
    assert key is not None and again == key  # retry_after_s=0: dialled again at once
    assert lost is None  # the ordinary path answers that one


@pytest.mark.parametrize(  # SQLite reads a local file: there is no round trip to wait for
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_reply_slower_than_the_timeout_answers_none(services, probe):
    from sqlalchemy import text

    async def main():
        assert await probe.read("default") is not None
        probe._batched.timeout_s = 0.2
        with services.store.engine.connect() as conn:  # hold a lock the read must wait for
            conn.execute(text("LOCK TABLE catalog_generations IN ACCESS EXCLUSIVE MODE"))
            slow = await asyncio.gather(probe.read("default"), probe.read("other"))
            conn.rollback()
        return slow, await probe.read("default")

    slow, again = asyncio.run(main())
    assert slow == [None, None]
    assert again == probe.generations("default")  # a new connection answers again


def test_a_cancelled_read_cancels_no_other(services, probe):
    async def main():
        await probe.read("default")
        one = asyncio.ensure_future(probe.read("default"))
        two = asyncio.ensure_future(probe.read("default"))
        await asyncio.sleep(0)
        one.cancel()
        return await two

    assert asyncio.run(main()) == probe.generations("default")
