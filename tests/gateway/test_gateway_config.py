"""Model registry: defaults, explicit entries, patterns, YAML, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmlab_jupyter.exceptions import InvalidInput
from llmlab_jupyter.gateway.config import DEFAULT_OPENAI_BASE_URL, ModelRegistry, ModelSpec


def test_default_resolution_by_prefix() -> None:
    reg = ModelRegistry()
    assert reg.resolve("fake/echo").provider == "fake"
    assert reg.resolve("local/smollm2").provider == "local"
    gpt = reg.resolve("openai/gpt-4o-mini")
    assert (gpt.provider, gpt.base_url, gpt.api_key_env, gpt.wire_model) == (
        "openai",
        DEFAULT_OPENAI_BASE_URL,
        "OPENAI_API_KEY",
        "gpt-4o-mini",
    )
    claude = reg.resolve("anthropic/claude-3-5-haiku-latest")
    assert claude.provider == "litellm" and claude.base_url is None


def test_explicit_entry_and_pattern_win_over_defaults() -> None:
    reg = ModelRegistry(
        {
            "openai/gpt-4o-mini": {"provider": "litellm", "max_retries": 1},
            "myvllm/*": {
                "provider": "openai",
                "base_url": "http://gpu-box:8000/v1/",
                "api_key_env": "MYVLLM_KEY",
                "max_concurrency": 32,
            },
        }
    )
    assert reg.resolve("openai/gpt-4o-mini").provider == "litellm"
    assert reg.resolve("openai/gpt-4o-mini").max_retries == 1
    llama = reg.resolve("myvllm/llama3")
    assert llama.name == "myvllm/llama3"
    assert llama.base_url == "http://gpu-box:8000/v1"  # trailing slash dropped
    assert llama.wire_model == "llama3"
    assert llama.max_concurrency == 32
    assert sorted(reg.names()) == ["myvllm/*", "openai/gpt-4o-mini"]


def test_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(
        "models:\n"
        "  - name: corp/chat\n"
        "    provider: openai\n"
        "    base_url: https://llm.corp.example/v1\n"
        "    api_model: chat-large\n"
        "    input_cost_per_million: 1.5\n"
        "    output_cost_per_million: 3\n"
    )
    spec = ModelRegistry.from_yaml(path).resolve("corp/chat")
    assert spec.wire_model == "chat-large"
    assert spec.input_cost_per_million == 1.5


@pytest.mark.parametrize(
    ("models", "field"),
    [
        ({"x/y": {"provider": "grpc"}}, "x/y.provider"),
        ({"x/y": {"provider": "openai", "max_concurrency": 0}}, "x/y.max_concurrency"),
        ({"x/y": {"provider": "openai", "base_url": "ftp://host"}}, "x/y.base_url"),
        ({"x/y": {"provider": "openai", "timeout": 3}}, "x/y.timeout"),
        ({"x/y": {"base_url": "http://h"}}, "x/y.provider"),
        ({"noslash": {"provider": "openai"}}, "noslash"),
    ],
)
def test_invalid_entries_name_the_field(models: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        ModelRegistry(models)
    assert info.value.field == field


def test_key_pasted_into_api_key_env_is_refused_without_echo() -> None:
    secret = "sk-proj-abcdef0123456789abcdef"
    with pytest.raises(InvalidInput) as info:
        ModelRegistry({"x/y": {"provider": "openai", "api_key_env": secret}})
    assert info.value.field == "x/y.api_key_env"
    assert secret not in str(info.value)
    assert "NAME of an environment variable" in str(info.value)


@pytest.mark.parametrize("name", ["gpt-4o", "", "/x", "fake/ has space", "local/llama70b"])
def test_bad_model_names(name: str) -> None:
    with pytest.raises(InvalidInput) as info:
        ModelRegistry().resolve(name)
    assert info.value.field == "model"


def test_bad_yaml_is_invalid_input(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text("models: [unclosed\n")
    with pytest.raises(InvalidInput):
        ModelRegistry.from_yaml(path)
    with pytest.raises(InvalidInput):
        ModelRegistry.from_yaml(tmp_path / "missing.yaml")


def test_spec_parse_does_not_echo_values() -> None:
    with pytest.raises(InvalidInput) as info:
        ModelSpec.parse({"name": "a/b", "provider": "openai", "timeout_s": "secret-ish"})
    assert info.value.field == "timeout_s"
    assert "secret-ish" not in str(info.value)
