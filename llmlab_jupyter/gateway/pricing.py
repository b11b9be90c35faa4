"""Cost of a call from its token counts.

Prices of known models come from the price table that ships inside the litellm
package (``model_prices_and_context_window_backup.json``), read as a plain JSON file
so that pricing never pays for ``import litellm``. Prices set on a
:class:`~llmlab_jupyter.gateway.config.ModelSpec` override the table. Every code path
(fast HTTP, litellm, fake, local) prices its usage here, so the same usage always
costs the same.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import ModelSpec

__all__ = ["Price", "cost_usd", "load_price_table", "lookup_price", "price_for"]

log = logging.getLogger(__name__)

_TABLE_FILE = "model_prices_and_context_window_backup.json"


@dataclass(frozen=True, slots=True)
class Price:
    """USD per token for prompt and completion tokens; ``source`` says where it came from."""

    input_per_token: float
    output_per_token: float
    source: str  # "config", "litellm", "config+litellm" or "unknown"

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """USD for this many tokens."""
        return prompt_tokens * self.input_per_token + completion_tokens * self.output_per_token


FREE = Price(0.0, 0.0, "unknown")


@functools.lru_cache(maxsize=1)
def load_price_table() -> dict[str, dict[str, Any]]:
    """litellm's bundled price table, read once; empty when litellm is not installed."""
    spec = importlib.util.find_spec("litellm")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / _TABLE_FILE
        if path.is_file():
            with path.open(encoding="utf-8") as fh:
                data = json.load(fh)
            return {k: v for k, v in data.items() if isinstance(v, dict)}
    log.warning("litellm's price table was not found; known models will cost 0")
    return {}


def lookup_price(model: str) -> tuple[float, float] | None:
    """(input, output) USD per token for ``model`` from litellm's table, or ``None``.

    ``model`` may be ``gpt-4o-mini`` or ``openai/gpt-4o-mini``: an entry stored
    without the provider prefix matches when its ``litellm_provider`` agrees.
    """
    table = load_price_table()
    entry = table.get(model)
    if entry is None and "/" in model:
        prefix, rest = model.split("/", 1)
        candidate = table.get(rest)
        if candidate is not None and str(candidate.get("litellm_provider", "")).startswith(prefix):
            entry = candidate
    if entry is None:
        return None
    inp = entry.get("input_cost_per_token")
    out = entry.get("output_cost_per_token")
    if not isinstance(inp, int | float) and not isinstance(out, int | float):
        return None
    return (float(inp or 0.0), float(out or 0.0))


@functools.lru_cache(maxsize=4096)
def _price(name: str, litellm_model: str | None, inp_m: float | None, out_m: float | None) -> Price:
    if inp_m is not None and out_m is not None:
        return Price(inp_m / 1e6, out_m / 1e6, "config")
    known = None
    for candidate in (litellm_model, name):
        if candidate:
            known = lookup_price(candidate)
            if known is not None:
                break
    if known is None:
        if inp_m is None and out_m is None:
            if not name.startswith(("fake/", "local/")):
                log.warning("no price known for model %s; its calls are counted as free", name)
            return FREE
        return Price((inp_m or 0.0) / 1e6, (out_m or 0.0) / 1e6, "config")
    source = "litellm" if inp_m is None and out_m is None else "config+litellm"
    return Price(
        inp_m / 1e6 if inp_m is not None else known[0],
        out_m / 1e6 if out_m is not None else known[1],
        source,
    )


def price_for(spec: ModelSpec) -> Price:
    """The price that applies to ``spec`` (cached per distinct setting)."""
    return _price(
        spec.name, spec.litellm_model, spec.input_cost_per_million, spec.output_cost_per_million
    )


def cost_usd(spec: ModelSpec, prompt_tokens: int, completion_tokens: int) -> float:
    """USD for a call to ``spec`` that used these token counts."""
    return price_for(spec).cost(prompt_tokens, completion_tokens)
