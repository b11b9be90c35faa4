"""Experiments running in the background of a long-lived process (the server's case)."""

from __future__ import annotations

import time

import pytest

from llmlab_jupyter.exceptions import Conflict
from llmlab_jupyter.experiments.background import BackgroundRuns
from llmlab_jupyter.experiments.planning import RunOptions

ROWS = 40


def _wait(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_start_returns_at_once_progress_is_stored_and_cancel_stops(lab, news, services):
    runs = BackgroundRuns(services.store)
    run = lab.experiment(
        dataset="news", variants=["summarize@1"], models=["fake/echo?latency_ms=200"], concurrency=2
    )
    runner = services.experiments.runner(
        lab.caller, lab.project, run.name, options=RunOptions(concurrency=2, progress=False)
    )
    started = time.monotonic()
    runs.start(runner)
    assert time.monotonic() - started < 1.0
    assert runs.is_running(lab.project, run.name)
    with pytest.raises(Conflict):  # a second start while it runs is refused
        runs.start(services.experiments.runner(lab.caller, lab.project, run.name))
    _wait(lambda: run.refresh().completed_items >= 4)
    assert run.refresh().status == "running"
    lab.experiments.get(run.name).cancel()  # from anywhere: seen at the next heartbeat
    assert runs.wait(lab.project, run.name, 30)
    exp = run.refresh()
    assert exp.status == "cancelled" and 0 < exp.completed_items < ROWS


def test_shutdown_leaves_runs_interrupted_and_resumable(lab, news, services):
    runs = BackgroundRuns(services.store)
    run = lab.experiment(
        dataset="news", variants=["summarize@1"], models=["fake/echo?latency_ms=50"], concurrency=2
    )
    runs.start(
        services.experiments.runner(
            lab.caller, lab.project, run.name, options=RunOptions(concurrency=2, progress=False)
        )
    )
    _wait(lambda: run.refresh().completed_items >= 2)
    runs.shutdown()
    assert run.refresh().status == "interrupted"
    again = BackgroundRuns(services.store)
    again.start(services.experiments.runner(lab.caller, lab.project, run.name))
    assert again.wait(lab.project, run.name, 60)
    exp = run.refresh()
    assert exp.status == "completed" and exp.completed_items == ROWS
    assert len(run.results()) == ROWS


def test_recover_marks_runs_of_dead_processes_interrupted(lab, news, services):
    run = lab.experiment(dataset="news", variants=["summarize@1"], models=["fake/echo"])
    exp_id, _ = services.store.experiment_id(lab.project, run.name)
    import socket

    services.store.claim_experiment(exp_id, f"{socket.gethostname()}:999999:dead", stale_after_s=30)
    assert run.refresh().status == "running"
    assert BackgroundRuns(services.store).recover() == 1
    exp = run.refresh()
    assert exp.status == "interrupted" and "resume" in exp.message
    other_host = lab.experiment(dataset="news", variants=["summarize@1"], models=["fake/echo"])
    other_id, _ = services.store.experiment_id(lab.project, other_host.name)
    services.store.claim_experiment(other_id, "elsewhere:1:x", stale_after_s=30)
    assert BackgroundRuns(services.store).recover() == 0  # fresh heartbeat on another host
    assert BackgroundRuns(services.store, stale_after_s=0).recover() == 1
