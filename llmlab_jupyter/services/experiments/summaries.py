"""Experiment summaries: per-variant statistics, kept in memory and stored once finished."""

from __future__ import annotations

import builtins
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...exceptions import InvalidInput
from ...models import Experiment
from ..access import Caller
from ..feedback import feedback_summary
from .plans import ExperimentPlans

if TYPE_CHECKING:
    from ...gateway.gateway import Gateway

BOOTSTRAP_MAX_N = 20_000
#: Statuses after which results and scores stay as they are until the experiment runs again.
FINAL_STATUSES = ("completed", "failed", "cancelled", "budget_exceeded")
#: Summaries of finished experiments kept per process (each a few kB).
SUMMARY_CACHE_SIZE = 64


def _json_number(value: Any) -> Any:
    """numpy scalars (from the statistics) as plain numbers for ``json.dumps``."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class ExperimentSummaries(ExperimentPlans):
    """Summaries of experiments: score means with CIs, paired comparisons, latency, cost."""

    def __init__(self, store: Any, config: Any, gateway: Callable[[], Gateway]) -> None:
        super().__init__(store, config, gateway)
        self._summaries: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._summary_lock = threading.Lock()

    # -- summaries -------------------------------------------------------------------------
    def summary(
        self,
        caller: Caller,
        project: str,
        name: str,
        *,
        baseline: int = 0,
        confidence: float = 0.95,
        tie_tolerance: float = 0.0,
    ) -> builtins.list[dict[str, Any]]:
        """Per variant: score means with CIs, win/loss/tie vs ``baseline``, latency, cost.

        The result and score statistics of a finished experiment cannot change until it runs
        again (which changes its status), so once computed they are stored in the database
        and kept in this process (see :meth:`_variant_stats`); a run that finishes stores
        them for the default parameters (:meth:`store_summary`). Feedback is always read
        afresh.
        """
        rows, _ = self.summary_and_status(
            caller,
            project,
            name,
            baseline=baseline,
            confidence=confidence,
            tie_tolerance=tie_tolerance,
        )
        return rows

    def summary_and_status(
        self,
        caller: Caller,
        project: str,
        name: str,
        *,
        baseline: int = 0,
        confidence: float = 0.95,
        tie_tolerance: float = 0.0,
    ) -> tuple[builtins.list[dict[str, Any]], str]:
        """:meth:`summary`, and the experiment's status as read for it (one read of the
        experiment: the server keeps the summaries of finished experiments)."""
        with self.reading(caller, project):
            exp = self.get(caller, project, name)
            if not 0 <= baseline < len(exp.variants):
                raise InvalidInput(
                    f"baseline must be a variant index 0..{len(exp.variants) - 1}",
                    field="baseline",
                )
            exp_id, _ = self.store.experiment_id(project, name)  # (the row read by get)
            stats_by_variant, fresh = self._variant_stats(
                exp, exp_id, baseline, confidence, tie_tolerance
            )
            feedback_agg = self.store.feedback_aggregates(exp_id)
        if fresh is not None:  # computed for a finished experiment: store it (outside the read)
            self.store.save_summary_snapshot(exp_id, *fresh)
        rows = [
            {**head, **feedback_summary(feedback_agg.get(v.idx)), **scores}
            for v, (head, scores) in zip(exp.variants, stats_by_variant, strict=True)
        ]
        return rows, exp.status

    def store_summary(self, project: str, name: str) -> bool:
        """Compute and store the default-parameter statistics of a finished experiment.

        Called when a run ends, so that the first person to open the summary of a large
        experiment does not wait for it. Returns ``False`` when the experiment is not finished
        or its statistics were already stored. No caller: runs on behalf of the run's owner.
        """
        with self.store.reading():
            exp = self.store.get_experiment(project, name)
            if exp.status not in FINAL_STATUSES:
                return False
            exp_id, _ = self.store.experiment_id(project, name)
            _, fresh = self._variant_stats(exp, exp_id, 0, 0.95, 0.0)
        if fresh is None:
            return False
        self.store.save_summary_snapshot(exp_id, *fresh)
        return True

    def _variant_stats(
        self,
        exp: Experiment,
        exp_id: int,
        baseline: int,
        confidence: float,
        tie_tolerance: float,
    ) -> tuple[builtins.list[tuple[dict[str, Any], dict[str, Any]]], tuple[str, str, str] | None]:
        """(result columns, score columns) per variant, and what to store if newly computed.

        For a finished experiment they come from this process's memory, else from the stored
        snapshot, else they are computed and the second item is ``(params, fingerprint,
        body)`` for :meth:`SQLStore.save_summary_snapshot`. The fingerprint holds the
        experiment's creation time, status, finish time and counters: a resumed run changes
        the status (and a later finish the time), so a stale entry is never served.
        """
        params = f"b{baseline}:c{confidence!r}:t{tie_tolerance!r}"[:100]
        fingerprint = "|".join(
            str(x)
            for x in (
                exp.created_at.isoformat() if exp.created_at else "",
                exp.status,
                exp.finished_at.isoformat() if exp.finished_at else "",
                exp.completed_items,
                exp.error_items,
            )
        )
        key = (exp_id, params, fingerprint)
        if exp.status not in FINAL_STATUSES:
            return self._compute_variant_stats(
                exp, exp_id, baseline, confidence, tie_tolerance
            ), None
        with self._summary_lock:
            hit = self._summaries.get(key)
            if hit is not None:
                self._summaries.move_to_end(key)
                return hit, None
        fresh: tuple[str, str, str] | None = None
        body = self.store.summary_snapshot(exp_id, params, fingerprint)
        if body is not None:
            computed = [(head, scores) for head, scores in json.loads(body)]
        else:
            computed = self._compute_variant_stats(exp, exp_id, baseline, confidence, tie_tolerance)
            fresh = (params, fingerprint, json.dumps(computed, default=_json_number))
        with self._summary_lock:
            self._summaries[key] = computed
            while len(self._summaries) > SUMMARY_CACHE_SIZE:
                self._summaries.popitem(last=False)
        return computed, fresh

    def _compute_variant_stats(
        self,
        exp: Experiment,
        exp_id: int,
        baseline: int,
        confidence: float,
        tie_tolerance: float,
    ) -> builtins.list[tuple[dict[str, Any], dict[str, Any]]]:
        from ...experiments import stats

        agg = self.store.variant_aggregates(exp_id)
        score_agg = self.store.score_aggregates(exp_id)
        scorer_names = [s.get("name", s["type"]) for s in exp.scorers]
        others = [v.idx for v in exp.variants if v.idx != baseline]
        z = _z(confidence)
        out: builtins.list[tuple[dict[str, Any], dict[str, Any]]] = []
        for v in exp.variants:
            a = agg.get(v.idx, {})
            n_results = a.get("results", 0)
            head: dict[str, Any] = {
                "variant": v.name,
                "variant_idx": v.idx,
                "prompt": f"{v.prompt}@{v.prompt_version}",
                "model": v.model,
                "results": n_results,
                "errors": a.get("errors", 0),
                "error_rate": (a.get("errors", 0) / n_results) if n_results else 0.0,
                "latency_p50_ms": a.get("latency_p50_ms"),
                "latency_p95_ms": a.get("latency_p95_ms"),
                "prompt_tokens": a.get("prompt_tokens", 0),
                "completion_tokens": a.get("completion_tokens", 0),
                "cost_usd": a.get("cost_usd", 0.0),
                "saved_usd": a.get("saved_usd", 0.0),
                "cache_hits": a.get("cache_hits", 0),
                "mean_attempts": a.get("mean_attempts", 0.0),
            }
            out.append((head, {}))
        for scorer in scorer_names:
            paired: dict[int, dict[str, Any]] | None = None
            for v, (_, entry) in zip(exp.variants, out, strict=True):
                sa = score_agg.get((v.idx, scorer))
                if not sa or sa["n"] == 0:
                    entry.update(
                        {
                            f"{scorer}.mean": math.nan,
                            f"{scorer}.ci_low": math.nan,
                            f"{scorer}.ci_high": math.nan,
                        }
                    )
                    continue
                if sa["n"] <= BOOTSTRAP_MAX_N:
                    mean, low, high = stats.mean_ci(
                        self.store.score_values(exp_id, v.idx, scorer), confidence=confidence
                    )
                else:  # normal approximation: bootstrap of a huge sample is the same, slower
                    half = z * sa["std"] / math.sqrt(sa["n"])
                    mean, low, high = sa["mean"], sa["mean"] - half, sa["mean"] + half
                entry.update(
                    {f"{scorer}.mean": mean, f"{scorer}.ci_low": low, f"{scorer}.ci_high": high}
                )
                if v.idx != baseline:
                    if paired is None:  # every variant against the baseline in one query
                        paired = self.store.paired_counts_many(
                            exp_id, baseline, others, scorer, tie_tolerance
                        )
                    entry.update(
                        self._paired(
                            exp_id,
                            baseline,
                            v.idx,
                            scorer,
                            confidence,
                            tie_tolerance,
                            paired[v.idx],
                        )
                    )
        return out

    def _paired(
        self,
        exp_id: int,
        base: int,
        other: int,
        scorer: str,
        confidence: float,
        tie_tolerance: float,
        counts: dict[str, Any],
    ) -> dict[str, Any]:
        from ...experiments import stats

        if counts["n"] <= BOOTSTRAP_MAX_N:
            pairs = self.store.paired_values(exp_id, base, other, scorer)
            res = stats.paired_comparison(
                [p[0] for p in pairs],
                [p[1] for p in pairs],
                tie_tolerance=tie_tolerance,
                confidence=confidence,
            )
            p_value = res["p_value"]
        else:
            from scipy.stats import binomtest

            decided = counts["wins"] + counts["losses"]
            p_value = binomtest(counts["wins"], decided).pvalue if decided else 1.0
        return {
            f"{scorer}.wins": counts["wins"],
            f"{scorer}.losses": counts["losses"],
            f"{scorer}.ties": counts["ties"],
            f"{scorer}.mean_diff": counts["mean_diff"],
            f"{scorer}.p_value": float(p_value),
        }


def _z(confidence: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + confidence / 2)
