"""Dispatch to the Celery broker, for real (Redis, prefork workers), on SQLite and PostgreSQL.

- The broker is unreachable (a TCP gate in front of Redis is closed: connections refused,
  open ones cut) while jobs are submitted: the submits return, the jobs stay queued with
  ``dispatched_at`` NULL, the failure is logged without the broker password; once the gate
  opens, the server's maintenance sends them and they run to success.
- A message the broker lost (deleted from Redis) is sent again after
  ``job_redispatch_after_s`` and the job runs.
- The same job delivered five times (two at once, one while it runs, one after it ended)
  runs exactly once.
- Which queued jobs the maintenance picks (store level).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from llmlab_jupyter.services import Caller

REDIS = os.environ.get("LLMLAB_TEST_REDIS_URL", "redis://127.0.0.1:6379")
ALICE = Caller("alice")
SECRET = "s3cret-broker-pw"  # a test value: it must never reach a log line


class Gate:
    """A TCP proxy to ``target`` that can be closed (new connections refused, open ones cut)
    and opened again on the same port: a broker outage without touching the broker."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._stop = threading.Event()

    def open(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self._stop = threading.Event()
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener, self._stop), daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _accept(self, listener: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=3)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                if stop.is_set():
                    client.close()
                    upstream.close()
                    return
                self._conns += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def gate() -> Iterator[Gate]:
    parts = urlsplit(REDIS)
    g = Gate((parts.hostname or "127.0.0.1", parts.port or 6379))
    g.open()
    yield g
    g.close()


def _dispatched_at(svc: Any, job_id: int) -> datetime | None:
    """When the job was last sent to the broker, as the Job API shows it."""
    found: datetime | None = svc.jobs.get(ALICE, "default", job_id).dispatched_at
    return found


def _final(svc: Any, ids: list[int], budget_s: float, helpers: Any) -> list[Any]:
    def done() -> list[Any] | None:
        jobs = [svc.jobs.get(ALICE, "default", i) for i in ids]
        return jobs if all(j.final for j in jobs) else None

    return list(helpers.wait_for(done, budget_s, "jobs to end", every=0.2))


def _log(svc: Any, job_id: int) -> str:
    return "".join(c.text for c in svc.jobs.logs(ALICE, "default", job_id))


def test_jobs_submitted_while_the_broker_is_down_run_once_it_is_back(
    celery: Any,
    gate: Gate,
    helpers: Any,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from llmlab_jupyter.store.jobs import dispatch as job_dispatch_store

    monkeypatch.setattr(job_dispatch_store, "DISPATCH_GRACE_S", 1.0)
    svc = celery.services
    # the server reaches the broker through the gate (with a password, as a real one would)
    db = urlsplit(celery.broker_url).path
    svc.config.broker_url = f"redis://default:{SECRET}@127.0.0.1:{gate.port}{db}"
    celery.start_worker(concurrency=2)  # the worker reaches Redis directly
    caplog.set_level(logging.INFO, logger="llmlab_jupyter")
    before = svc.jobs.submit(ALICE, "default", "builtin-sleep", {"seconds": 0.5})
    assert _dispatched_at(svc, before.id) is not None

    gate.close()  # the broker is unreachable
    asked = time.monotonic()
    down = [
        svc.jobs.submit(ALICE, "default", "builtin-sleep", {"seconds": 0.5}).id for _ in range(3)
    ]
    assert time.monotonic() - asked < 30  # the submits do not hang on the outage
    assert [svc.jobs.get(ALICE, "default", i).state for i in down] == ["queued"] * 3
    assert [_dispatched_at(svc, i) for i in down] == [None] * 3
    failures = caplog.text.count("not sent to the broker")
    assert failures == 3, caplog.text
    # the maintenance keeps trying while the broker is down: nothing is sent, nothing lost
    svc.executor.start()
    helpers.wait_for(
        lambda: caplog.text.count("not sent to the broker") >= failures + 2,
        30,
        "the maintenance to try again (twice) during the outage",
    )
    assert [_dispatched_at(svc, i) for i in down] == [None] * 3
    assert {svc.jobs.get(ALICE, "default", i).state for i in down} == {"queued"}
    (first,) = _final(svc, [before.id], 60, helpers)
    assert first.state == "succeeded"  # sent before the outage: unaffected

    gate.open()  # the broker is back: the same server sends them by itself
    jobs = _final(svc, down, 90, helpers)
    assert [(j.state, j.attempts) for j in jobs] == [("succeeded", 1)] * 3, [j.error for j in jobs]
    assert all(_dispatched_at(svc, i) is not None for i in down)
    assert "sent to the broker again" in caplog.text
    assert SECRET not in caplog.text and "default:***@" in caplog.text
    helpers.wait_for(lambda: not helpers.job_processes(), 15, "no orphan processes")


def test_a_message_the_broker_lost_is_sent_again(celery: Any, helpers: Any) -> None:
    import redis

    svc = celery.services
    svc.config.job_redispatch_after_s = 3.0
    job = svc.jobs.submit(ALICE, "default", "builtin-sleep", {"seconds": 0.5})
    sent_at = _dispatched_at(svc, job.id)
    assert sent_at is not None
    broker = redis.Redis.from_url(celery.broker_url)
    assert broker.delete("celery") == 1  # the broker loses the message
    celery.start_worker(concurrency=1)
    svc.executor.maintenance(schedules=True)
    assert _dispatched_at(svc, job.id) == sent_at  # too recent to be presumed lost
    assert svc.jobs.get(ALICE, "default", job.id).state == "queued"
    svc.executor.start()  # after job_redispatch_after_s the maintenance sends it again
    (done,) = _final(svc, [job.id], 60, helpers)
    assert (done.state, done.attempts) == ("succeeded", 1)
    resent_at = _dispatched_at(svc, job.id)
    assert resent_at is not None and resent_at > sent_at


def test_the_same_job_delivered_five_times_runs_once(celery: Any, helpers: Any) -> None:
    import redis

    svc = celery.services
    worker = celery.start_worker(concurrency=2)
    broker = redis.Redis.from_url(celery.broker_url)
    job = svc.jobs.submit(ALICE, "default", "builtin-sleep", {"seconds": 8})
    svc.executor.dispatch(job)  # three deliveries race for it (two pool processes)
    svc.executor.dispatch(job)
    helpers.wait_for(
        lambda: svc.jobs.get(ALICE, "default", job.id).state == "running", 60, "it runs"
    )
    svc.executor.dispatch(job)  # delivered while a live worker holds it
    # every message consumed; only the running one is unacknowledged (acks_late)
    helpers.wait_for(
        lambda: not broker.llen("celery") and broker.hlen("unacked") == 1,
        30,
        "the duplicates to be consumed",
    )
    assert svc.jobs.get(ALICE, "default", job.id).state == "running"
    (done,) = _final(svc, [job.id], 60, helpers)
    svc.executor.dispatch(job)  # delivered after it ended
    helpers.wait_for(celery.broker_idle, 30, "every delivery to be consumed and acked")
    again = svc.jobs.get(ALICE, "default", job.id)
    assert (again.state, again.attempts, again.result) == ("succeeded", 1, done.result)
    log = _log(svc, job.id)
    assert log.count("[llmlab] attempt 1 started") == 1 and "attempt 2" not in log, log
    assert log.count("ended: succeeded") == 1
    assert worker.poll() is None


def test_which_queued_jobs_are_sent_again(job_services: Any) -> None:
    from llmlab_jupyter.leases import new_lease_token

    svc, store = job_services, job_services.store

    def submit(executor: str = "celery") -> int:
        job, _ = store.submit_job(
            "default",
            "builtin-sleep",
            {},
            user="alice",
            timeout_s=60,
            max_attempts=2,
            executor=executor,
        )
        return int(job.id)

    never, sent, _local, cancelled, running = (
        submit(),
        submit(),
        submit("local"),
        submit(),
        submit(),
    )
    store.mark_job_dispatched(sent)
    svc.jobs.cancel(ALICE, "default", cancelled)
    claim = store.claim_job(new_lease_token(), lease_s=0.2, job_id=running)
    assert claim is not None
    # within the grace period nothing is taken (the submitter may still be sending)
    assert store.take_jobs_to_dispatch(executor="celery", stale_after_s=300) == []
    taken = store.take_jobs_to_dispatch(executor="celery", stale_after_s=300, grace_s=0)
    assert [job_id for job_id, _ in taken] == [never]
    # taken = marked: a concurrent maintainer does not send it too
    assert store.take_jobs_to_dispatch(executor="celery", stale_after_s=300, grace_s=0) == []
    # the send failed: it is "not dispatched" again
    store.clear_job_dispatch([never], taken[0][1])
    assert _dispatched_at(svc, never) is None
    # dispatched long ago and still queued: the broker lost it
    stale = store.take_jobs_to_dispatch(executor="celery", stale_after_s=0, grace_s=0)
    assert sorted(job_id for job_id, _ in stale) == sorted([never, sent])
    # a reaped job goes back to the queue not dispatched (its reaper sends it)
    time.sleep(0.3)
    requeued = store.reap_jobs()
    assert [j.id for j in requeued] == [running]
    assert _dispatched_at(svc, running) is None
