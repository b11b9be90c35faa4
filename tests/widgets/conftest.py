"""Fixtures for widget tests: synthetic comparison states and a stored experiment."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

XSS = ["<img src=x onerror=alert(1)>", "<script>alert(1)</script>"]


def synthetic_sources(
    n_rows: int = 30, n_variants: int = 3, *, scorer: str = "exact_match"
) -> list[tuple[str, list[Any], list[dict[str, Any]]]]:
    """One experiment: variant 0 says ``answer i``; variant k>0 differs on every (k+2)-th row,
    fails on every 7th row of variant 2, and scores 1.0 when it says ``answer i``."""
    variants = [SimpleNamespace(idx=v, name=f"v{v}") for v in range(n_variants)]
    results = []
    for i in range(n_rows):
        for v in range(n_variants):
            differs = v > 0 and i % (v + 2) == 0
            error = "HTTP 500" if v == 2 and i % 7 == 0 else None
            output = None if error else (f"other {i} text" if differs else f"answer {i} text")
            results.append(
                {
                    "row_idx": i,
                    "variant_idx": v,
                    "input": {"question": f"question {i}", "topic": "cats" if i % 5 else "dogs"},
                    "output": output,
                    "error": error,
                    "scores": {} if error else {scorer: 0.0 if differs else 1.0},
                    "latency_ms": 10.0 * (v + 1),
                    "cost_usd": 0.001 * (v + 1),
                    "prompt_tokens": 5,
                    "completion_tokens": 3,
                }
            )
    return [("exp", variants, results)]


@pytest.fixture
def state():
    from llmlab_jupyter.widgets.compare_state import CompareState

    return CompareState.from_results(synthetic_sources(), ["exact_match"], page_size=10)


@pytest.fixture
def news_run(lab):
    """A completed two-variant experiment (fake/echo) on 25 rows, labels good/bad."""
    lab.prompts.save("summarize", "Summarize: {{ article }}", model="fake/echo")
    lab.prompts.save("summarize", "Short: {{ article }}", model="fake/echo")
    lab.datasets.import_(
        "news",
        [{"article": f"story {i}", "expected": f"Short: story {i}"} for i in range(25)],
    )
    return lab.experiment(
        dataset="news",
        variants=["summarize@1", "summarize@2"],
        scorers=["exact_match"],
        name="cmp",
        feedback_labels=["good", "bad"],
    ).run(progress=False)
