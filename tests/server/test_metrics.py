"""Prometheus metrics at <base_url>llmlab/metrics: per-app registry, counts by route and status."""

from __future__ import annotations

import asyncio

import pytest

from llmlab_jupyter import metrics


@pytest.fixture
def llmlab_workers() -> int:
    return 1  # one job runs on the worker the server starts


async def test_requests_are_counted_by_route_template_and_status(api, jp_serverapp):
    await api("GET", "projects/default/prompts/greet")  # 404
    await api("GET", "projects/default")
    reply = await api("GET", "metrics", prefix="llmlab")
    assert reply.status == 200
    assert reply.response.headers["Content-Type"].startswith("text/plain")
    text = reply.body
    assert (
        'llmlab_http_requests_total{method="GET",route="/projects/{project}/prompts/{name}",'
        'status="404"} 1.0' in text
    )
    assert 'route="/projects/{project}",status="200"' in text
    assert "llmlab_http_request_duration_seconds_bucket" in text
    assert "greet" not in text  # templates, never raw paths
    app = jp_serverapp.extension_manager.extension_apps["llmlab_jupyter"]
    (ext,) = app if isinstance(app, set) else [app]
    assert metrics.current() is ext.metrics


def test_each_metrics_object_has_its_own_registry():
    a, b = metrics.Metrics(), metrics.Metrics()
    a.observe_request("GET", "/x", 200, 0.01)
    assert b"llmlab_http_requests_total" in a.render()[0]
    assert b'route="/x"' not in b.render()[0]


# -- model calls, experiments and jobs, read from the database at scrape time ------------------


def _samples(text: str) -> dict[tuple[str, frozenset], float]:
    from prometheus_client.parser import text_string_to_metric_families

    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def _wait_job(api, job_id: int) -> None:
    for _ in range(300):
        reply = await api("GET", f"projects/default/jobs/{job_id}")
        if reply.body["state"] in ("succeeded", "failed", "cancelled"):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {reply.body}")


async def test_model_calls_experiments_and_jobs_come_from_the_database(api, jp_serverapp):
    from llmlab_jupyter.services import Caller

    from .test_experiments import _seed, _until_final

    app = jp_serverapp.extension_manager.extension_apps["llmlab_jupyter"]
    (ext,) = app if isinstance(app, set) else [app]
    services = ext.services
    alice = Caller("alice")

    await _seed(api)  # prompt summarize@1, @2 and dataset news@1 (12 rows)
    ok_model, bad_model = "fake/echo?latency_ms=20", "fake/echo?error_rate=1&error_status=400"
    created = await api(
        "POST",
        "projects/default/experiments",
        json_body={
            "dataset": "news@1",
            "variants": ["summarize@1"],
            "models": [ok_model, bad_model],
            "scorers": ["exact_match"],
            "name": "metered",
        },
    )
    assert created.status == 201, created.body
    assert (await _until_final(api, "metered"))["experiment"]["status"] == "completed"
    planned = await api(
        "POST",
        "projects/default/experiments",
        json_body={
            "dataset": "news@1",
            "variants": ["summarize@2"],
            "models": [ok_model],
            "name": "planned",
            "start": False,
        },
    )
    assert planned.status == 201, planned.body
    # calls made elsewhere (a notebook kernel): one priced call, one cache hit
    kernel_call = {
        "user_name": "alice",
        "model": "fake/upper",
        "purpose": "completion",
        "prompt_tokens": 7,
        "completion_tokens": 3,
        "cost_usd": 0.25,
        "saved_usd": 0.0,
        "latency_ms": 1200.0,
        "cache_hit": False,
        "status": "ok",
        "attempts": 1,
    }
    cached = {**kernel_call, "cost_usd": 0.0, "saved_usd": 0.25, "latency_ms": 1.0}
    services.store.insert_usage([kernel_call, {**cached, "cache_hit": True}], project="default")
    quick = await api(
        "POST",
        "projects/default/jobs",
        json_body={"template": "builtin-sleep", "parameters": {"seconds": 0.01}},
    )
    await _wait_job(api, quick.body["id"])  # run by the server's local worker
    for _ in range(2):  # jobs for Celery workers (none here): they stay queued
        waiting, _ = services.store.submit_job(
            "default",
            "builtin-sleep",
            {"seconds": 60},
            user="alice",
            timeout_s=60,
            max_attempts=1,
            executor="celery",
        )
    services.jobs.cancel(alice, "default", waiting.id)

    reply = await api("GET", "metrics", prefix="llmlab")
    assert reply.status == 200
    got = _samples(reply.body)
    d = {"project": "default"}

    # the experiment: 12 answered calls and 12 failed ones, as the ledger has them
    ledger = services.experiments.usage(alice, "default", by=["model", "status"])
    by_model = {(r["model"], r["status"]): r for r in ledger}
    good, bad = by_model[(ok_model, "ok")], by_model[(bad_model, "error")]
    assert good["calls"] == 12 and bad["calls"] == 12
    calls = "llmlab_model_calls_total"
    assert _value(got, calls, **d, model=ok_model, status="ok", cache_hit="false") == 12
    assert _value(got, calls, **d, model=bad_model, status="error", cache_hit="false") == 12
    tokens = "llmlab_model_tokens_total"
    assert _value(got, tokens, **d, model=ok_model, kind="prompt") == good["prompt_tokens"] > 0
    assert _value(got, tokens, **d, model=ok_model, kind="completion") == good["completion_tokens"]
    (code,) = {
        r["error_code"]
        for r in services.experiments.results(alice, "default", "metered", errors_only=True)
    }
    assert code  # every call of the failing model failed with this code
    assert _value(got, "llmlab_model_errors_total", **d, model=bad_model, error_code=code) == 12
    assert not any(
        name == "llmlab_model_errors_total" and ("model", ok_model) in labels
        for name, labels in got
    )
    hist = "llmlab_model_latency_seconds"
    assert _value(got, f"{hist}_count", **d, model=ok_model) == 12
    assert _value(got, f"{hist}_bucket", **d, model=ok_model, le="+Inf") == 12
    assert _value(got, f"{hist}_bucket", **d, model=ok_model, le="60.0") == 12
    assert 12 * 0.02 <= _value(got, f"{hist}_sum", **d, model=ok_model) < 12 * 5

    # the kernel's calls: cost, saved cost, cache hits, and a 1.2 s latency in the right bucket
    upper = {**d, "model": "fake/upper"}
    assert _value(got, calls, **upper, status="ok", cache_hit="false") == 1
    assert _value(got, calls, **upper, status="ok", cache_hit="true") == 1
    assert _value(got, "llmlab_model_cost_usd_total", **upper) == 0.25
    assert _value(got, "llmlab_model_saved_usd_total", **upper) == 0.25
    assert _value(got, tokens, **upper, kind="prompt") == 14
    assert _value(got, f"{hist}_count", **upper) == 1  # the cache hit is not a latency
    assert _value(got, f"{hist}_bucket", **upper, le="1.0") == 0
    assert _value(got, f"{hist}_bucket", **upper, le="2.5") == 1
    assert _value(got, f"{hist}_sum", **upper) == 1.2

    # experiments and jobs by state (known states report 0)
    exps = "llmlab_experiments"
    assert _value(got, exps, **d, status="completed") == 1
    assert _value(got, exps, **d, status="created") == 1
    assert (exps, frozenset({**d, "status": "running"}.items())) in got
    assert _value(got, exps, **d, status="running") == 0
    assert _value(got, "llmlab_jobs", **d, state="cancelled") == 1
    assert _value(got, "llmlab_jobs", **d, state="succeeded") == 1
    assert _value(got, "llmlab_jobs", **d, state="queued") == 1
    assert _value(got, "llmlab_jobs", **d, state="running") == 0
    assert _value(got, "llmlab_database_up") == 1
    assert "alice" not in reply.body and "story" not in reply.body  # no users, no text


def test_a_database_error_fails_no_scrape_and_registering_reads_nothing():
    class BrokenStore:
        calls = 0

        def metric_totals(self):
            BrokenStore.calls += 1
            raise RuntimeError("database is down")

    m = metrics.Metrics()
    m.watch_store(BrokenStore())
    assert BrokenStore.calls == 0  # describe() does not query
    text = m.render()[0].decode()
    assert BrokenStore.calls == 1
    assert "llmlab_database_up 0.0" in text
    assert "# TYPE llmlab_model_calls_total counter" in text
