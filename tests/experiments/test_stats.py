"""Bootstrap means, paired comparisons and percentiles, as a user reading a report sees them."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from llmlab_jupyter.exceptions import InvalidInput
from llmlab_jupyter.experiments.stats import mean_ci, paired_comparison, percentiles


def test_mean_ci_contains_the_true_mean_with_a_sensible_width() -> None:
    values = np.random.default_rng(4).normal(10.0, 2.0, size=500)
    mean, low, high = mean_ci(values)
    assert low < 10.0 < high
    assert low < mean < high
    # Normal theory: half-width ~ 1.96 * 2 / sqrt(500) ~ 0.175.
    assert 0.25 < high - low < 0.45


def test_mean_ci_covers_the_true_mean_about_as_often_as_promised() -> None:
    rng = np.random.default_rng(11)
    hits = 0
    for i in range(100):
        sample = rng.exponential(1.0, size=80)
        _, low, high = mean_ci(sample, confidence=0.9, n_boot=400, seed=i)
        hits += low <= 1.0 <= high
    assert 78 <= hits <= 98


def test_mean_ci_is_reproducible_with_the_seed() -> None:
    values = np.random.default_rng(3).uniform(size=200)
    assert mean_ci(values, seed=5) == mean_ci(values, seed=5)
    assert mean_ci(values, seed=5) != mean_ci(values, seed=6)


def test_mean_ci_ignores_missing_values() -> None:
    assert mean_ci([1.0, None, 3.0, float("nan"), 2.0])[0] == 2.0
    assert all(math.isnan(v) for v in mean_ci([]))
    assert all(math.isnan(v) for v in mean_ci([None, float("nan")]))
    assert mean_ci([4.5]) == (4.5, 4.5, 4.5)
    assert mean_ci([None, 4.5]) == (4.5, 4.5, 4.5)


def test_mean_ci_of_pass_fail_scores() -> None:
    values = [1.0] * 70 + [0.0] * 30
    mean, low, high = mean_ci(values)
    assert mean == pytest.approx(0.7)
    assert 0.58 < low < 0.65 and 0.75 < high < 0.82  # about +-0.09


def test_mean_ci_is_fast_for_ten_thousand_values() -> None:
    values = np.random.default_rng(0).normal(size=10_000)
    started = time.perf_counter()
    mean, low, high = mean_ci(values)
    assert time.perf_counter() - started < 2.0
    assert low < mean < high


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"confidence": 1.5}, "confidence"), ({"n_boot": 0}, "n_boot")],
)
def test_mean_ci_rejects_bad_settings(kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        mean_ci([1, 2, 3], **kwargs)
    assert info.value.field == field


def test_mean_ci_rejects_text() -> None:
    with pytest.raises(InvalidInput):
        mean_ci(["a", "b"])


def test_paired_comparison_detects_a_real_difference() -> None:
    rng = np.random.default_rng(1)
    base = rng.uniform(0.3, 0.9, size=60)
    a = base + 0.08 + rng.normal(0, 0.05, size=60)
    result = paired_comparison(a, base)
    assert result["test"] == "wilcoxon"
    assert result["significant"] is True
    assert result["p_value"] < 0.001
    assert result["wins"] > result["losses"]
    assert result["n"] == 60
    assert 0 < result["ci_low"] < 0.08 < result["ci_high"]
    assert result["mean_diff"] == pytest.approx(result["mean_a"] - result["mean_b"])


def test_paired_comparison_does_not_invent_a_difference() -> None:
    rng = np.random.default_rng(2)
    base = rng.uniform(size=80)
    a = base + rng.normal(0, 0.1, size=80)
    b = base + rng.normal(0, 0.1, size=80)
    result = paired_comparison(a, b)
    assert result["significant"] is False
    assert result["p_value"] > 0.05
    assert result["ci_low"] < 0 < result["ci_high"]


def test_paired_comparison_uses_exact_sign_test_for_few_pairs() -> None:
    result = paired_comparison([1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0])
    assert result["test"] == "sign"
    assert result["p_value"] == pytest.approx(2 * 0.5**7)
    assert result["significant"] is True
    assert (result["wins"], result["losses"], result["ties"]) == (7, 0, 0)


def test_paired_comparison_all_ties() -> None:
    result = paired_comparison([1, 0, 1] * 5, [1, 0, 1] * 5)
    assert result["ties"] == 15
    assert result["p_value"] == 1.0
    assert result["test"] is None
    assert result["significant"] is False
    assert result["mean_diff"] == 0.0


def test_paired_comparison_drops_pairs_with_a_missing_score() -> None:
    result = paired_comparison([1.0, None, 0.5, float("nan")], [0.0, 1.0, None, 0.2])
    assert result["n"] == 1
    assert result["wins"] == 1


def test_paired_comparison_tie_tolerance() -> None:
    a = [0.80, 0.50, 0.90, 0.40]
    b = [0.79, 0.52, 0.70, 0.60]
    strict = paired_comparison(a, b)
    loose = paired_comparison(a, b, tie_tolerance=0.05)
    assert (strict["wins"], strict["losses"], strict["ties"]) == (2, 2, 0)
    assert (loose["wins"], loose["losses"], loose["ties"]) == (1, 1, 2)


def test_paired_comparison_without_pairs() -> None:
    result = paired_comparison([], [])
    assert result["n"] == 0
    assert math.isnan(result["p_value"])
    assert result["significant"] is False


def test_paired_comparison_needs_aligned_rows() -> None:
    with pytest.raises(InvalidInput, match="same rows"):
        paired_comparison([1, 2, 3], [1, 2])
    with pytest.raises(InvalidInput):
        paired_comparison([1, 2], [1, 2], tie_tolerance=-1)


def test_percentiles() -> None:
    latencies = list(range(1, 101))
    assert percentiles(latencies) == {"p50": 50.5, "p95": pytest.approx(95.05)}
    assert percentiles([3.0, None, 1.0, 2.0], qs=(0, 100, 99.9)) == {
        "p0": 1.0,
        "p100": 3.0,
        "p99.9": pytest.approx(2.998),
    }
    empty = percentiles([])
    assert set(empty) == {"p50", "p95"} and all(math.isnan(v) for v in empty.values())
    with pytest.raises(InvalidInput):
        percentiles([1, 2], qs=(101,))
