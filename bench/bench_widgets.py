"""How responsive the comparison widget is with 10,000 rows × 4 variants (no kernel).

Builds the comparison state from 40,000 synthetic results (two scorers, some errors,
outputs of a few dozen words), then times the first render, page changes, filters, a
diff-pair change, a page-size change and a baseline change. Each figure is the median of
several repetitions; the target for every interaction is well under 100 ms (the first
summary computes bootstrap confidence intervals once).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

ROWS = 10_000
VARIANTS = 4
REPEAT = 7
TEXT = "the quick brown fox jumps over a lazy dog while cats watch from the old wall"
WORDS = TEXT.split()


def synthetic_results() -> list[dict[str, Any]]:
    out = []
    for i in range(ROWS):
        base = [WORDS[(i + k) % len(WORDS)] for k in range(40)]
        for v in range(VARIANTS):
            words = list(base)
            if v and i % (v + 2) == 0:
                words[i % 40] = "changed"
            error = "HTTP 500" if v == 3 and i % 50 == 0 else None
            out.append(
                {
                    "row_idx": i,
                    "variant_idx": v,
                    "input": {"article": " ".join(base), "id": str(i)},
                    "output": None if error else " ".join(words),
                    "error": error,
                    "scores": {}
                    if error
                    else {
                        "exact_match": float(words == base),
                        "similarity": (i * 7 + v) % 100 / 99,
                    },
                    "latency_ms": 100.0 + v * 10 + i % 17,
                    "cost_usd": 0.0001 * (v + 1),
                    "prompt_tokens": 60,
                    "completion_tokens": 40,
                }
            )
    return out


def timed(fn: Callable[[], Any], repeat: int = REPEAT) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    from llmlab_jupyter.widgets.compare import CompareWidget
    from llmlab_jupyter.widgets.compare_state import CompareState

    t = time.perf_counter()
    results = synthetic_results()
    variants = [SimpleNamespace(idx=v, name=f"variant {v}") for v in range(VARIANTS)]
    gen_ms = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    state = CompareState.from_results(
        [("bench", variants, results)], ["exact_match", "similarity"], page_size=20
    )
    build_ms = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    state.summary()
    first_summary_ms = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    widget = CompareWidget(state, write_feedback=lambda col, row, fields: dict(fields))
    first_render_ms = (time.perf_counter() - t) * 1000

    def next_page() -> None:
        widget.go((widget.state.page + 1) % widget.state.n_pages)

    def jump() -> None:
        widget.go(widget.state.n_pages // 2 if widget.state.page == 0 else 0)

    def search() -> None:
        widget.search.value = "changed" if widget.search.value != "changed" else "fox jumps"

    def disagree() -> None:
        widget.disagree.value = "scores" if widget.disagree.value != "scores" else ""

    def failing() -> None:
        widget.failing.value = "exact_match" if widget.failing.value != "exact_match" else ""

    def errors() -> None:
        widget.errors.value = not widget.errors.value

    def diff_pair() -> None:
        widget.diff_b.value = 2 if widget.diff_b.value != 2 else 1

    def baseline() -> None:
        widget.baseline.value = 1 if widget.baseline.value != 1 else 0

    def page_size() -> None:
        widget.page_size.value = 50 if widget.page_size.value != 50 else 20

    print(f"comparison of {ROWS:,} rows × {VARIANTS} variants ({ROWS * VARIANTS:,} results)")
    print(f"  synthetic results generated       {gen_ms:8.1f} ms (not the widget)")
    print(f"  state built (from_results)        {build_ms:8.1f} ms")
    print(f"  first summary (CIs, W/L/T)       {first_summary_ms:8.1f} ms")
    print(f"  widget built + first page (20)    {first_render_ms:8.1f} ms")
    for label, fn in [
        ("next page", next_page),
        ("jump to a far page", jump),
        ("text search (filter + render)", search),
        ("'scores differ' filter", disagree),
        ("failing-scorer filter", failing),
        ("errors-only filter", errors),
        ("change diff pair (re-render)", diff_pair),
        ("change baseline (summary W/L/T)", baseline),
        ("page size 20 ↔ 50", page_size),
    ]:
        print(f"  {label:<34}{timed(fn):8.1f} ms (median of {REPEAT})")


if __name__ == "__main__":
    main()
