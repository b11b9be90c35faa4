"""The OpenAI-compatible test server's ``api_key`` option: a wrong key is a 401, as at a
real provider, and the gateway reports it without echoing either key."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest
from gateway_helpers import KEY_A, KEY_B, chat, gateway_for

from llmlab_jupyter.exceptions import ProviderError
from llmlab_jupyter.testing.openai_server import OpenAITestServer

ServerFactory = Callable[..., OpenAITestServer]


def _get(url: str, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_right_key_answers_wrong_or_missing_key_is_401(make_server: ServerFactory) -> None:
    server = make_server(api_key=KEY_A)
    ok_status, ok_body = _get(f"{server.url}/models", {"Authorization": f"Bearer {KEY_A}"})
    assert ok_status == 200 and ok_body["data"]
    for headers in ({}, {"Authorization": f"Bearer {KEY_B}"}, {"Authorization": KEY_A}):
        status, body = _get(f"{server.url}/models", headers)
        assert status == 401
        assert body["error"]["code"] == "invalid_api_key"
        assert KEY_A not in json.dumps(body) and KEY_B not in json.dumps(body)


def test_gateway_with_the_right_key_completes_with_a_wrong_one_fails_clearly(
    make_server: ServerFactory, keys: dict
) -> None:
    server = make_server(api_key=KEY_A)
    spec = {"provider": "openai", "base_url": server.url}
    gw = gateway_for(
        {
            "good/m": spec | {"api_key_env": "LLMLAB_TEST_KEY_A"},
            "bad/m": spec | {"api_key_env": "LLMLAB_TEST_KEY_B"},
        }
    )
    try:
        assert gw.complete_sync(chat("good/m", "hello key")).text == "hello key"
        with pytest.raises(ProviderError) as caught:
            gw.complete_sync(chat("bad/m", "hello key"))
    finally:
        gw.close()
    assert "401" in str(caught.value)
    assert KEY_A not in str(caught.value) and KEY_B not in str(caught.value)
    assert server.stats.statuses[401] >= 1 and server.stats.statuses[200] == 1


def test_without_api_key_any_header_is_accepted(server: OpenAITestServer) -> None:
    assert _get(f"{server.url}/models", {})[0] == 200
    assert _get(f"{server.url}/models", {"Authorization": "Bearer whatever"})[0] == 200
