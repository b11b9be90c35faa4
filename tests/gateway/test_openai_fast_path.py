"""The fast OpenAI-compatible path over real HTTP against the project's test server."""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from gateway_helpers import KEY_A, KEY_B, chat, complete_all, gateway_for, run

from llmlab_jupyter.exceptions import ProviderError, ProviderTimeout, RateLimited
from llmlab_jupyter.gateway import Completion
from llmlab_jupyter.gateway.pricing import lookup_price
from llmlab_jupyter.testing.openai_server import OpenAITestServer

ServerFactory = Callable[..., OpenAITestServer]


def fast(server: OpenAITestServer, **extra: Any) -> dict[str, Any]:
    """Settings of a fast-path model on ``server`` keyed by LLMLAB_TEST_KEY_A."""
    return {
        "provider": "openai",
        "base_url": server.url,
        "api_key_env": "LLMLAB_TEST_KEY_A",
    } | extra


def test_completion_text_usage_cost_and_key(server: OpenAITestServer, keys: dict) -> None:
    gw = gateway_for({"openai/gpt-4o-mini": fast(server)})
    done = gw.complete_sync(chat("openai/gpt-4o-mini", "hello there general kenobi"))
    gw.close()
    assert done.text == "hello there general kenobi"
    assert (done.prompt_tokens, done.completion_tokens) == (4, 4)
    price = lookup_price("openai/gpt-4o-mini")
    assert price is not None and price[0] > 0
    assert done.cost_usd == pytest.approx(4 * price[0] + 4 * price[1])
    assert done.raw_model == "gpt-4o-mini"  # the wire model, without our prefix
    assert done.finish_reason == "stop"
    assert done.attempts == 1 and done.latency_ms > 0
    assert server.stats.auth_headers == {f"Bearer {KEY_A}": 1}


def test_injected_429_and_500_every_call_completes_exactly_once(
    make_server: ServerFactory, keys: dict
) -> None:
    server = make_server(error_rate_429=0.1, error_rate_500=0.1, retry_after=0.02, seed=3)
    gw = gateway_for({"t/m": fast(server, max_retries=8, max_concurrency=20)})
    texts = [f"item number {i}" for i in range(300)]
    results = run(complete_all(gw, [chat("t/m", t) for t in texts]))
    assert [r.text for r in results] == texts  # each caller got its own answer
    assert all(isinstance(r, Completion) for r in results)
    # Exactly one successful answer per input, and the attempts we report are the hits.
    assert all(server.stats.ok_by_input[t] == 1 for t in texts)
    for r in results:
        assert r.attempts == server.stats.hits_by_input[r.text] <= 9
    assert sum(r.attempts for r in results) == server.stats.requests
    assert server.stats.statuses[429] > 0 and server.stats.statuses[500] > 0
    assert sum(1 for r in results if r.attempts > 1) > 20


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_client_errors_are_not_retried(server: OpenAITestServer, keys: dict, status: int) -> None:
    gw = gateway_for({"t/m": fast(server, max_retries=5)})
    with pytest.raises(ProviderError) as info:
        gw.complete_sync(chat("t/m", f"!status={status}"))
    gw.close()
    assert info.value.provider_status == status
    assert info.value.retryable is False
    assert info.value.attempts == 1  # type: ignore[attr-defined]
    assert server.stats.requests == 1
    assert KEY_A not in str(info.value)  # the server echoed the key into its error text


def test_retry_after_is_honoured_and_attempts_capped(server: OpenAITestServer, keys: dict) -> None:
    gw = gateway_for({"t/m": fast(server, max_retries=2)})
    with pytest.raises(RateLimited) as info:
        gw.complete_sync(chat("t/m", "!status=429 !retry_after=0.4"))
    gw.close()
    assert info.value.retry_after == pytest.approx(0.4)
    assert info.value.attempts == 3  # type: ignore[attr-defined]
    assert server.stats.requests == 3  # max_retries + 1, no more
    arrivals = server.stats.arrivals
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert all(gap >= 0.4 for gap in gaps), gaps


def test_persistent_500_sends_exactly_retries_plus_one(
    server: OpenAITestServer, keys: dict
) -> None:
    gw = gateway_for({"t/m": fast(server, max_retries=3)})
    with pytest.raises(ProviderError) as info:
        gw.complete_sync(chat("t/m", "!status=503"))
    gw.close()
    assert info.value.retryable is True
    assert server.stats.requests == 4


def test_timeout(server: OpenAITestServer, keys: dict) -> None:
    gw = gateway_for({"t/m": fast(server, timeout_s=0.3, max_retries=1)})
    started = time.perf_counter()
    with pytest.raises(ProviderTimeout) as info:
        gw.complete_sync(chat("t/m", "!sleep_ms=3000"))
    elapsed = time.perf_counter() - started
    gw.close()
    assert 0.6 <= elapsed < 2.0  # two attempts of 0.3 s, not two of 3 s
    assert info.value.attempts == 2  # type: ignore[attr-defined]
    assert server.stats.requests == 2


def test_concurrency_limit_respected(make_server: ServerFactory, keys: dict) -> None:
    server = make_server(latency_ms=40)
    gw = gateway_for({"t/m": fast(server, max_concurrency=4)})
    results = run(complete_all(gw, [chat("t/m", f"q{i}") for i in range(40)]))
    assert all(isinstance(r, Completion) for r in results)
    assert server.stats.max_in_flight == 4  # the limit, and it was actually used


def test_requests_per_minute_limit(server: OpenAITestServer, keys: dict) -> None:
    # 1200/min = 20/s with a burst of one second's worth: 50 calls need >= 1.5 s.
    gw = gateway_for({"t/m": fast(server, requests_per_minute=1200)})
    started = time.perf_counter()
    results = run(complete_all(gw, [chat("t/m", f"q{i}") for i in range(50)]))
    elapsed = time.perf_counter() - started
    assert all(isinstance(r, Completion) for r in results)
    assert 1.4 <= elapsed < 4.0
    arrivals = server.stats.arrivals
    for i, t in enumerate(arrivals):
        in_window = sum(1 for u in arrivals[i:] if u - t < 1.0)
        assert in_window <= 41  # burst (20) + one second of refill (20), +1 for rounding


def test_tokens_per_minute_limit(server: OpenAITestServer, keys: dict) -> None:
    # 60000/min = 1000 tokens/s, burst 1000. Each call really uses 50 + 10 = 60 tokens,
    # so 40 calls (2400 tokens) need at least (2400 - 1000) / 1000 = 1.4 s.
    gw = gateway_for({"t/m": fast(server, tokens_per_minute=60000)})
    text = " ".join(["word"] * 50)
    started = time.perf_counter()
    results = run(complete_all(gw, [chat("t/m", text, max_tokens=10) for _ in range(40)]))
    elapsed = time.perf_counter() - started
    assert all(isinstance(r, Completion) and r.total_tokens == 60 for r in results)
    assert 1.2 <= elapsed < 5.0


def test_key_goes_only_to_its_base_url(make_server: ServerFactory, keys: dict) -> None:
    a, b = make_server(), make_server()
    gw = gateway_for(
        {
            "a/m": fast(a),
            "b/m": {"provider": "openai", "base_url": b.url, "api_key_env": "LLMLAB_TEST_KEY_B"},
            "open/m": {"provider": "openai", "base_url": b.url},
        }
    )
    reqs = [chat("a/m", "x"), chat("b/m", "y"), chat("open/m", "z")]
    results = run(complete_all(gw, reqs))
    assert all(isinstance(r, Completion) for r in results)
    assert a.stats.auth_headers == {f"Bearer {KEY_A}": 1}
    assert b.stats.auth_headers == {f"Bearer {KEY_B}": 1, "": 1}


def test_redirect_is_not_followed_with_the_key(make_server: ServerFactory, keys: dict) -> None:
    good, evil = make_server(), make_server()
    gw = gateway_for({"a/m": fast(good)})
    with pytest.raises(ProviderError, match="redirect") as info:
        gw.complete_sync(chat("a/m", f"!redirect={evil.url}/chat/completions"))
    gw.close()
    assert evil.stats.requests == 0
    assert info.value.retryable is False
    assert KEY_A not in repr(info.value.to_dict())


def test_unreachable_server_is_retryable_and_keyless(keys: dict) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connection refused
        gw = gateway_for(
            {"t/m": {"provider": "openai", "base_url": f"http://127.0.0.1:{port}/v1",
                     "api_key_env": "LLMLAB_TEST_KEY_A", "max_retries": 1}}
        )  # fmt: skip
        with pytest.raises(ProviderError) as info:
            gw.complete_sync(chat("t/m", "x"))
        gw.close()
    assert info.value.retryable is True
    assert info.value.attempts == 2  # type: ignore[attr-defined]
    assert KEY_A not in str(info.value)


def test_missing_key_fails_before_sending(server: OpenAITestServer, monkeypatch) -> None:
    monkeypatch.delenv("LLMLAB_TEST_KEY_A", raising=False)
    gw = gateway_for({"t/m": fast(server)})
    with pytest.raises(ProviderError, match="LLMLAB_TEST_KEY_A"):
        gw.complete_sync(chat("t/m", "x"))
    gw.close()
    assert server.stats.requests == 0


def test_async_use_and_sync_use_share_one_gateway(server: OpenAITestServer, keys: dict) -> None:
    gw = gateway_for({"t/m": fast(server)})

    async def inside_a_running_loop() -> tuple[str, str]:
        # As in a notebook: complete_sync works even though a loop is running here.
        sync_text = gw.complete_sync(chat("t/m", "from sync")).text
        async_text = (await gw.complete(chat("t/m", "from async"))).text
        await gw.aclose()
        return sync_text, async_text

    assert run(inside_a_running_loop()) == ("from sync", "from async")


def test_server_streams_and_lists_models(server: OpenAITestServer) -> None:
    async def go() -> tuple[list[str], list[str]]:
        async with aiohttp.ClientSession() as session:
            body = {
                "model": "m",
                "stream": True,
                "stream_options": {"include_usage": True},
                "messages": [{"role": "user", "content": "one two three"}],
            }
            async with session.post(f"{server.url}/chat/completions", json=body) as resp:
                assert resp.headers["Content-Type"].startswith("text/event-stream")
                lines = [ln.decode().strip() async for ln in resp.content if ln.strip()]
            async with session.get(f"{server.url}/models") as resp:
                ids = [m["id"] for m in (await resp.json())["data"]]
        return lines, ids

    lines, ids = run(go())
    assert lines[-1] == "data: [DONE]"
    import json

    chunks = [json.loads(ln[len("data: ") :]) for ln in lines[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "one two three"
    assert chunks[-1]["usage"]["completion_tokens"] == 3
    assert "gpt-4o-mini" in ids


def test_many_loops_do_not_break_pooled_sessions(server: OpenAITestServer, keys: dict) -> None:
    gw = gateway_for({"t/m": fast(server)})

    async def one(i: int) -> str:
        try:
            return (await gw.complete(chat("t/m", f"loop {i}"))).text
        finally:
            await gw.aclose()  # closes this loop's pool; the gateway stays usable

    for i in range(3):  # each asyncio.run is a new loop with its own pool
        assert asyncio.run(one(i)) == f"loop {i}"
    assert server.stats.requests == 3
