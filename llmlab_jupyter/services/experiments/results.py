"""Experiment results: result rows, counts, paired comparisons and the usage ledger."""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ...exceptions import InvalidInput
from ...prompts import validate_slug
from ..access import Caller
from ..feedback import feedback_by_result, no_feedback
from .plans import ExperimentPlans


class ExperimentResults(ExperimentPlans):
    """Reads the results of experiments."""

    # -- results ---------------------------------------------------------------------------
    def results(
        self,
        caller: Caller,
        project: str,
        name: str,
        *,
        variant: int | None = None,
        offset: int = 0,
        limit: int | None = None,
        errors_only: bool = False,
        search: str | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """Result rows with provenance, inputs and scores (plain dicts).

        ``errors_only`` keeps failed results; ``search`` keeps outputs containing the text.
        """
        exp = self.get(caller, project, name)
        if limit is not None:
            self.page(limit, offset)
        if search is not None and (not isinstance(search, str) or len(search) > 200):
            raise InvalidInput("search must be a string of at most 200 characters", field="search")
        exp_id, _ = self.store.experiment_id(project, name)
        rows = self.store.results_rows(
            exp_id,
            variant_idx=variant,
            offset=offset,
            limit=limit,
            errors_only=errors_only,
            search=search or None,
        )
        if not rows:
            return []
        lo = min(r["row_idx"] for r in rows)
        hi = max(r["row_idx"] for r in rows)
        span = self.store.dataset_rows(
            project, exp.dataset, exp.dataset_version, offset=lo, limit=hi - lo + 1
        )
        inputs = span
        variants = {v.idx: v for v in exp.variants}
        feedback = feedback_by_result(
            self.store.list_feedback(exp_id, variant_idx=variant, row_lo=lo, row_hi=hi)
        )
        out = []
        for r in rows:
            v = variants[r["variant_idx"]]
            out.append(
                {
                    "row_idx": r["row_idx"],
                    "variant": v.name,
                    "variant_idx": v.idx,
                    "prompt": v.prompt,
                    "prompt_version": v.prompt_version,
                    "prompt_hash": v.prompt_hash,
                    "model": v.model,
                    "params": v.params,
                    "dataset": exp.dataset_ref,
                    "dataset_hash": exp.dataset_hash,
                    "package_version": exp.package_version,
                    "input": inputs[r["row_idx"] - lo],
                    **{
                        k: r[k]
                        for k in (
                            "output",
                            "error",
                            "error_code",
                            "latency_ms",
                            "prompt_tokens",
                            "completion_tokens",
                            "cost_usd",
                            "saved_usd",
                            "cache_hit",
                            "attempts",
                            "input_hash",
                        )
                    },
                    "scores": {k: v2[0] for k, v2 in r["scores"].items()},
                    "reasons": {k: v2[1] for k, v2 in r["scores"].items()},
                    **(feedback.get((r["variant_idx"], r["row_idx"])) or no_feedback()),
                }
            )
        return out

    def count_results(
        self,
        caller: Caller,
        project: str,
        name: str,
        *,
        variant: int | None = None,
        errors_only: bool = False,
        search: str | None = None,
    ) -> int:
        self.get(caller, project, name)
        exp_id, _ = self.store.experiment_id(project, name)
        return self.store.count_results(
            exp_id, variant_idx=variant, errors_only=errors_only, search=search or None
        )

    def compare(
        self,
        caller: Caller,
        project: str,
        name: str,
        *,
        a: int,
        b: int,
        scorer: str,
        confidence: float = 0.95,
        tie_tolerance: float = 0.0,
    ) -> dict[str, Any]:
        """Paired comparison of variant ``b`` against ``a`` on the rows both scored."""
        from ...experiments import stats

        exp = self.get(caller, project, name)
        for field, idx in (("a", a), ("b", b)):
            if (
                isinstance(idx, bool)
                or not isinstance(idx, int)
                or not 0 <= idx < len(exp.variants)
            ):
                raise InvalidInput(
                    f"{field} must be a variant index 0..{len(exp.variants) - 1}", field=field
                )
        names = [s.get("name", s["type"]) for s in exp.scorers]
        if scorer not in names:
            raise InvalidInput(
                f"scorer must be one of {', '.join(names) or '(none)'}", field="scorer"
            )
        if not 0.5 <= confidence < 1:
            raise InvalidInput("confidence must be in [0.5, 1)", field="confidence")
        exp_id, _ = self.store.experiment_id(project, name)
        pairs = self.store.paired_values(exp_id, a, b, scorer)
        # from b's side: a win is a row where b scores above the baseline a
        result = stats.paired_comparison(
            [p[1] for p in pairs],
            [p[0] for p in pairs],
            tie_tolerance=tie_tolerance,
            confidence=confidence,
        )
        result["mean_a"], result["mean_b"] = result["mean_b"], result["mean_a"]
        return {
            "a": exp.variants[a].name,
            "b": exp.variants[b].name,
            "scorer": scorer,
            **{
                k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in result.items()
            },
        }

    def usage(
        self,
        caller: Caller,
        project: str,
        *,
        by: Sequence[str] = ("model",),
        experiment: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """The usage ledger of a project, totalled by the given columns."""
        self.access.require(caller, project, "read")
        exp_id = None
        if experiment is not None:
            exp_id, _ = self.store.experiment_id(project, validate_slug(experiment, "experiment"))
        return self.store.usage_grouped(
            project, by=builtins.list(by), experiment_id=exp_id, since=since, until=until
        )
