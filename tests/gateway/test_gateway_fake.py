"""fake/* models through the Gateway: outputs, determinism, injected errors, retries."""

from __future__ import annotations

import json
import time

import pytest
from gateway_helpers import chat, complete_all, run

from llmlab_jupyter.exceptions import InvalidInput, ProviderError, RateLimited
from llmlab_jupyter.gateway import ChatRequest, Gateway, ModelRegistry


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("fake/echo", "the quick brown fox"),
        ("fake/upper", "THE QUICK BROWN FOX"),
        ("fake/reverse", "fox brown quick the"),
        ("fake/fixed?text=always+this", "always this"),
    ],
)
def test_fake_outputs(model: str, expected: str) -> None:
    done = Gateway().complete_sync(chat(model, "the quick brown fox"))
    assert done.text == expected
    assert done.prompt_tokens == 4
    assert done.completion_tokens == len(expected.split())
    assert done.cost_usd == 0.0
    assert done.attempts == 1
    assert done.model == model


def test_fake_json_and_last_user_message() -> None:
    request = ChatRequest(
        "fake/json",
        [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "second"},
        ],
    )
    data = json.loads(Gateway().complete_sync(request).text)
    assert data == {"answer": "second", "messages": 4, "model": "fake/json"}


def test_max_tokens_truncates() -> None:
    done = Gateway().complete_sync(chat("fake/echo", "one two three four five", max_tokens=2))
    assert (done.text, done.finish_reason, done.completion_tokens) == ("one two", "length", 2)


def test_configured_price_applies_to_fake_models() -> None:
    reg = ModelRegistry(
        {
            "fake/echo": {
                "provider": "fake",
                "input_cost_per_million": 1_000_000,
                "output_cost_per_million": 2_000_000,
            }
        }
    )
    done = Gateway(reg).complete_sync(chat("fake/echo", "a b c"))
    assert done.cost_usd == pytest.approx(3 * 1.0 + 3 * 2.0)


def test_injected_errors_are_deterministic_and_retried() -> None:
    model = "fake/echo?error_rate=0.3&error_status=500&seed=7"
    reg = ModelRegistry({model: {"provider": "fake", "max_retries": 6}})
    requests = [chat(model, f"question {i}") for i in range(60)]

    def attempts_of_a_run() -> list[int]:
        results = run(complete_all(Gateway(reg, seed=1, backoff_base_s=0.01), requests))
        assert all(not isinstance(r, BaseException) for r in results)
        return [r.attempts for r in results]

    first, second = attempts_of_a_run(), attempts_of_a_run()
    assert first == second  # same inputs, same failures
    assert max(first) > 1  # some calls needed retries ...
    assert first.count(1) > 10  # ... and many did not
    assert max(first) <= 7


def test_non_retryable_fake_error_is_raised_after_one_attempt() -> None:
    gw = Gateway()
    with pytest.raises(ProviderError) as info:
        gw.complete_sync(chat("fake/echo?error_rate=1&error_status=400", "x"))
    assert info.value.retryable is False
    assert info.value.attempts == 1  # type: ignore[attr-defined]


def test_fake_rate_limit_carries_retry_after_and_exhausts_retries() -> None:
    model = "fake/echo?error_rate=1&error_status=429&retry_after=0.05"
    reg = ModelRegistry({model: {"provider": "fake", "max_retries": 2}})
    started = time.perf_counter()
    with pytest.raises(RateLimited) as info:
        Gateway(reg).complete_sync(chat(model, "x"))
    assert info.value.attempts == 3  # type: ignore[attr-defined]
    assert info.value.retry_after == 0.05
    assert time.perf_counter() - started >= 0.1  # two waits of at least Retry-After


def test_fake_latency_option() -> None:
    started = time.perf_counter()
    done = Gateway().complete_sync(chat("fake/echo", "x", latency_ms=120))
    assert time.perf_counter() - started >= 0.12
    assert done.latency_ms >= 120


def test_unknown_fake_model_or_option() -> None:
    with pytest.raises(InvalidInput, match="unknown fake model"):
        Gateway().complete_sync(chat("fake/nonsense", "x"))
    with pytest.raises(InvalidInput, match="option"):
        Gateway().complete_sync(chat("fake/echo?colour=red", "x"))
