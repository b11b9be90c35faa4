"""Pricing from litellm's table without importing litellm; import-time weight; boundaries."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from llmlab_jupyter.gateway import Gateway, ModelRegistry
from llmlab_jupyter.gateway.config import ModelSpec
from llmlab_jupyter.gateway.limits import backoff_delay
from llmlab_jupyter.gateway.pricing import cost_usd, lookup_price, price_for

PACKAGE = Path(__file__).resolve().parents[2] / "llmlab_jupyter"
_IMPORTS_LITELLM = re.compile(r"^\s*(import litellm|from litellm[ .])", re.MULTILINE)


def test_known_model_priced_from_table_unknown_free_config_overrides() -> None:
    gw = Gateway(
        ModelRegistry(
            {
                "openai/gpt-4o": {"provider": "openai", "base_url": "http://h/v1",
                                  "input_cost_per_million": 1.0},
                "corp/x": {"provider": "openai", "base_url": "http://h/v1",
                           "input_cost_per_million": 2.0, "output_cost_per_million": 4.0},
            }
        )
    )  # fmt: skip
    mini = lookup_price("gpt-4o-mini")
    assert mini is not None
    assert gw.estimate_cost("openai/gpt-4o-mini", 1000, 500) == pytest.approx(
        1000 * mini[0] + 500 * mini[1]
    )
    # Half-configured: input from config, output still from litellm's table.
    big = lookup_price("gpt-4o")
    assert big is not None
    assert gw.estimate_cost("openai/gpt-4o", 1_000_000, 1) == pytest.approx(1.0 + big[1])
    assert gw.estimate_cost("corp/x", 1_000_000, 500_000) == pytest.approx(4.0)
    assert gw.estimate_cost("nobody/knows-this", 10**6, 10**6) == 0.0
    assert gw.estimate_cost("fake/echo", 10**6, 10**6) == 0.0


def test_prefixed_lookup_requires_matching_provider() -> None:
    assert lookup_price("openai/gpt-4o-mini") == lookup_price("gpt-4o-mini")
    assert lookup_price("myvllm/gpt-4o-mini") is None  # a stranger's gpt-4o-mini is not priced


def test_litellm_model_names_the_price_entry() -> None:
    spec = ModelSpec(name="proxy/mini", provider="openai", base_url="http://h/v1",
                     litellm_model="openai/gpt-4o-mini")  # fmt: skip
    assert price_for(spec).source == "litellm"
    assert cost_usd(spec, 10, 10) > 0


def _fresh_python(code: str) -> str:
    env = {"PYTHONPATH": str(PACKAGE.parent), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return out.stdout.strip()


def test_importing_the_gateway_and_pricing_stays_light() -> None:
    code = (
        "import sys\n"
        "import llmlab_jupyter.gateway as g\n"
        "light = [m for m in ('litellm', 'aiohttp', 'pydantic') if m in sys.modules]\n"
        "from llmlab_jupyter.gateway.pricing import lookup_price\n"
        "assert lookup_price('gpt-4o-mini')\n"
        "g.Gateway().complete_sync(g.ChatRequest('fake/echo', [{'role':'user','content':'x'}]))\n"
        "print(light, 'litellm' in sys.modules)\n"
    )
    assert _fresh_python(code) == "[] False"


def test_only_litellm_provider_imports_litellm() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if _IMPORTS_LITELLM.search(text) and path.name != "litellm_provider.py":
            offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


def test_backoff_grows_caps_and_respects_retry_after() -> None:
    rng = random.Random(0)
    delays = [backoff_delay(n, base=1.0, cap=8.0, rng=rng) for n in range(1, 7)]
    assert 0.5 <= delays[0] <= 1.0 and 1.0 <= delays[1] <= 2.0
    assert all(4.0 <= d <= 8.0 for d in delays[4:])  # capped
    assert backoff_delay(1, retry_after=3.0, base=0.1, rng=rng) >= 3.0
    assert backoff_delay(1, retry_after=10_000, rng=rng) <= 120 * 1.1
