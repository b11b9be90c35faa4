"""Statistics for experiment results: bootstrap means, paired comparisons, percentiles.

Every function takes plain sequences (lists, numpy arrays, pandas Series) in which
``None`` and NaN mean "no score" and are ignored, and returns plain Python floats, so
results can go straight into JSON. Bootstraps are seeded and therefore reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ..exceptions import InvalidInput

__all__ = ["mean_ci", "paired_comparison", "percentiles"]

#: Resampled values per chunk when resampling by index (bounds memory to ~16 MB).
_CHUNK_CELLS = 2_000_000
#: At most this many distinct values are resampled as multinomial counts instead.
_MAX_LEVELS = 64
#: Below this many pairs the exact sign test is used instead of Wilcoxon signed-rank.
_MIN_WILCOXON = 10

FloatArray = npt.NDArray[np.float64]


def _as_array(values: Iterable[Any], field: str) -> FloatArray:
    """``values`` as a float array (``None`` becomes NaN); raises for non-numbers."""
    if not isinstance(values, (np.ndarray, Sequence)) or isinstance(values, (str, bytes)):
        values = list(values)
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InvalidInput(f"{field} must be numbers (or None); {err}", field=field) from err
    if array.ndim != 1:
        raise InvalidInput(f"{field} must be a flat sequence of numbers", field=field)
    return array


def _check(confidence: float, n_boot: int) -> None:
    if not 0 < confidence < 1:
        raise InvalidInput("confidence must be between 0 and 1", field="confidence")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise InvalidInput("n_boot must be a positive integer", field="n_boot")


def _bootstrap_means(values: FloatArray, n_boot: int, seed: int) -> FloatArray:
    """Means of ``n_boot`` resamples (with replacement) of ``values``."""
    rng = np.random.default_rng(seed)
    n = values.size
    levels, counts = np.unique(values, return_counts=True)
    if levels.size <= _MAX_LEVELS:
        # Resampling n values from few distinct ones is a multinomial draw of their counts:
        # exact, and O(n_boot * levels) instead of O(n_boot * n) (0/1 and 1-5 scores).
        draws = rng.multinomial(n, counts / n, size=n_boot)
        return np.asarray(draws @ levels / n, dtype=np.float64)
    means = np.empty(n_boot, dtype=np.float64)
    step = max(1, _CHUNK_CELLS // n)
    for start in range(0, n_boot, step):
        stop = min(n_boot, start + step)
        index = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = values[index].mean(axis=1)
    return means


def _mean_ci(clean: FloatArray, confidence: float, n_boot: int, seed: int) -> tuple[float, ...]:
    if clean.size == 0:
        return (math.nan, math.nan, math.nan)
    mean = float(clean.mean())
    if clean.size == 1 or bool(np.all(clean == clean[0])):
        return (mean, mean, mean)
    alpha = 1.0 - confidence
    boot = _bootstrap_means(clean, n_boot, seed)
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return (mean, float(low), float(high))


def mean_ci(
    values: Iterable[Any], *, confidence: float = 0.95, n_boot: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean of ``values`` and its percentile-bootstrap CI.

    ``None`` and NaN are ignored. No values gives ``(nan, nan, nan)``; one value ``v``
    (or all values equal) gives ``(v, v, v)``. The same ``seed`` gives the same interval.
    """
    _check(confidence, n_boot)
    array = _as_array(values, "values")
    mean, low, high = _mean_ci(array[~np.isnan(array)], confidence, n_boot, seed)
    return mean, low, high


def _p_value(nontied: FloatArray, n: int, wins: int, losses: int) -> tuple[float, str | None]:
    """Two-sided p-value of a paired test on ``n`` pairs, and the name of the test used."""
    from scipy import stats

    if n == 0:
        return math.nan, None
    if wins + losses == 0:
        return 1.0, None
    if n >= _MIN_WILCOXON:
        result = stats.wilcoxon(nontied, zero_method="wilcox", alternative="two-sided")
        return float(result.pvalue), "wilcoxon"
    return float(stats.binomtest(wins, wins + losses, 0.5).pvalue), "sign"


def paired_comparison(
    a: Iterable[Any],
    b: Iterable[Any],
    *,
    tie_tolerance: float = 0.0,
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Compare two variants' scores on the same rows (``a[i]`` and ``b[i]`` share a row).

    Pairs where either score is missing are dropped. A pair is a *win* for ``a`` when
    ``a - b > tie_tolerance``, a *loss* when ``b - a > tie_tolerance``, else a tie.
    Returns plain data::

        {"n", "wins", "losses", "ties", "mean_a", "mean_b",
         "mean_diff", "ci_low", "ci_high",          # a - b, percentile bootstrap
         "p_value", "test", "significant", "confidence"}

    ``test`` is ``"wilcoxon"`` (signed-rank, ties dropped) when there are at least 10
    pairs and not all are ties, ``"sign"`` (exact binomial) otherwise, ``None`` when
    every pair ties (p = 1) or there are no pairs (p = NaN). ``significant`` is
    ``p_value < 1 - confidence``.
    """
    _check(confidence, n_boot)
    if isinstance(tie_tolerance, bool) or not isinstance(tie_tolerance, (int, float)):
        raise InvalidInput("tie_tolerance must be a number", field="tie_tolerance")
    if tie_tolerance < 0:
        raise InvalidInput("tie_tolerance must not be negative", field="tie_tolerance")
    x, y = _as_array(a, "a"), _as_array(b, "b")
    if x.size != y.size:
        raise InvalidInput(
            f"a and b must score the same rows; got {x.size} and {y.size} values", field="b"
        )
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    diffs = x - y
    wins = int(np.count_nonzero(diffs > tie_tolerance))
    losses = int(np.count_nonzero(diffs < -tie_tolerance))
    mean_diff, low, high = _mean_ci(diffs, confidence, n_boot, seed)
    nontied = diffs[np.abs(diffs) > tie_tolerance]
    p_value, test = _p_value(nontied, int(x.size), wins, losses)
    return {
        "n": int(x.size),
        "wins": wins,
        "losses": losses,
        "ties": int(x.size) - wins - losses,
        "mean_a": float(x.mean()) if x.size else math.nan,
        "mean_b": float(y.mean()) if y.size else math.nan,
        "mean_diff": mean_diff,
        "ci_low": low,
        "ci_high": high,
        "p_value": p_value,
        "test": test,
        "significant": bool(p_value < 1 - confidence),
        "confidence": confidence,
    }


def _label(q: float) -> str:
    return f"p{int(q)}" if float(q).is_integer() else f"p{q:g}"


def percentiles(values: Iterable[Any], qs: Iterable[float] = (50, 95)) -> dict[str, float]:
    """``{"p50": ..., "p95": ...}`` for ``qs`` in 0-100 (linear interpolation).

    ``None`` and NaN are ignored; with no values every percentile is NaN.
    """
    qs = list(qs)
    if any(isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 <= q <= 100 for q in qs):
        raise InvalidInput("percentiles must be numbers between 0 and 100", field="qs")
    array = _as_array(values, "values")
    array = array[~np.isnan(array)]
    if array.size == 0:
        return {_label(q): math.nan for q in qs}
    found = np.percentile(array, qs) if qs else np.empty(0)
    return {_label(q): float(v) for q, v in zip(qs, found, strict=True)}
