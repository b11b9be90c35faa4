"""The litellm path against the test server, compared with the fast path."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from gateway_helpers import KEY_A, chat, complete_all, gateway_for, run

from llmlab_jupyter.exceptions import ProviderError, ProviderTimeout, RateLimited
from llmlab_jupyter.gateway import Completion
from llmlab_jupyter.testing.openai_server import OpenAITestServer

ServerFactory = Callable[..., OpenAITestServer]


def both(server: OpenAITestServer, **extra: Any) -> dict[str, dict[str, Any]]:
    """The same upstream model reached by the fast path and by litellm."""
    common = {"base_url": server.url, "api_key_env": "LLMLAB_TEST_KEY_A"} | extra
    return {
        "openai/gpt-4o-mini": {"provider": "openai"} | common,
        "vialitellm/gpt-4o-mini": {
            "provider": "litellm",
            "litellm_model": "openai/gpt-4o-mini",
        }
        | common,
    }


def test_same_text_usage_and_cost_on_both_paths(server: OpenAITestServer, keys: dict) -> None:
    gw = gateway_for(both(server))
    text = "compare the two paths please"
    fast, lite = run(
        complete_all(gw, [chat("openai/gpt-4o-mini", text), chat("vialitellm/gpt-4o-mini", text)])
    )
    assert isinstance(fast, Completion) and isinstance(lite, Completion)
    assert fast.text == lite.text == text
    assert (fast.prompt_tokens, fast.completion_tokens) == (
        lite.prompt_tokens,
        lite.completion_tokens,
    )
    assert fast.cost_usd == lite.cost_usd > 0
    assert fast.raw_model == lite.raw_model == "gpt-4o-mini"
    assert server.stats.auth_headers == {f"Bearer {KEY_A}": 2}

    import litellm  # the reference: litellm's own price for this usage

    prompt_cost, completion_cost = litellm.cost_per_token(
        model="gpt-4o-mini",
        prompt_tokens=fast.prompt_tokens,
        completion_tokens=fast.completion_tokens,
    )
    assert fast.cost_usd == pytest.approx(prompt_cost + completion_cost, rel=1e-12)


def test_litellm_does_no_hidden_retries(server: OpenAITestServer, keys: dict) -> None:
    gw = gateway_for(both(server, max_retries=0))
    with pytest.raises(ProviderError) as info:
        gw.complete_sync(chat("vialitellm/gpt-4o-mini", "!status=500"))
    assert info.value.retryable is True
    assert server.stats.requests == 1  # litellm alone would have sent 3
    server.reset()
    gw2 = gateway_for(both(server, max_retries=2), base=0.01)
    with pytest.raises(ProviderError):
        gw2.complete_sync(chat("vialitellm/gpt-4o-mini", "!status=502"))
    assert server.stats.requests == 3
    assert info.value.attempts == 1  # type: ignore[attr-defined]


def test_litellm_errors_translated_and_keyless(server: OpenAITestServer, keys: dict) -> None:
    gw = gateway_for(both(server, max_retries=1))
    with pytest.raises(RateLimited) as limited:
        gw.complete_sync(chat("vialitellm/gpt-4o-mini", "!status=429 !retry_after=0.2"))
    assert limited.value.retry_after == pytest.approx(0.2)
    assert server.stats.requests == 2
    server.reset()
    with pytest.raises(ProviderError) as bad:
        gw.complete_sync(chat("vialitellm/gpt-4o-mini", "!status=400"))
    assert bad.value.retryable is False and bad.value.provider_status == 400
    assert server.stats.requests == 1  # 4xx never retried
    for err in (limited.value, bad.value):
        assert KEY_A not in str(err) and KEY_A not in repr(err.to_dict())


def test_litellm_timeout(server: OpenAITestServer, keys: dict) -> None:
    gw = gateway_for(both(server, timeout_s=0.3, max_retries=0))
    started = time.perf_counter()
    with pytest.raises(ProviderTimeout):
        gw.complete_sync(chat("vialitellm/gpt-4o-mini", "!sleep_ms=3000"))
    assert time.perf_counter() - started < 2.0


def test_litellm_retries_complete_every_call_once(make_server: ServerFactory, keys: dict) -> None:
    server = make_server(error_rate_429=0.1, error_rate_500=0.1, retry_after=0.01, seed=11)
    gw = gateway_for(both(server, max_retries=8, max_concurrency=10))
    texts = [f"row {i}" for i in range(60)]
    results = run(complete_all(gw, [chat("vialitellm/gpt-4o-mini", t) for t in texts]))
    assert [r.text for r in results] == texts
    assert all(server.stats.ok_by_input[t] == 1 for t in texts)
    assert sum(r.attempts for r in results) == server.stats.requests > 60
