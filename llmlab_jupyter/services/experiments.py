"""Experiments: plan (dataset × variants × scorers), run, resume, results and summaries."""

from __future__ import annotations

import builtins
import json
import math
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..exceptions import Conflict, InvalidInput
from ..models import Experiment, PromptVersion
from ..prompts import validate_slug
from .access import Caller
from .base import Service
from .feedback import check_feedback_labels, feedback_by_result, feedback_summary, no_feedback

if TYPE_CHECKING:
    from ..experiments.planning import RunOptions
    from ..experiments.scorers import Scorer
    from ..gateway.gateway import Gateway

DEFAULT_MAX_TOKENS_ESTIMATE = 256
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


def _as_list(value: Any, field: str) -> builtins.list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        return [value]
    return builtins.list(value)


class ExperimentService(Service):
    """Runs prompt × model × dataset experiments through the gateway."""

    gateway_factory: Callable[[], Gateway]

    def __init__(self, store: Any, config: Any, gateway: Callable[[], Gateway]) -> None:
        super().__init__(store, config)
        self.gateway_factory = gateway
        self._summaries: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._summary_lock = threading.Lock()

    # -- planning --------------------------------------------------------------------------
    def _resolve_variant(
        self, caller: Caller, project: str, spec: Any, i: int
    ) -> tuple[PromptVersion, str | None, dict[str, Any]]:
        from .prompts import PromptService

        prompts = PromptService(self.store, self.config)
        field = f"variants[{i}]"
        model: str | None = None
        params: dict[str, Any] = {}
        if isinstance(spec, PromptVersion):
            return spec, None, {}
        if isinstance(spec, str):
            return prompts.get_ref(caller, project, spec, fallback_to_latest=True), None, {}
        if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], Mapping):
            name, opts = spec
            spec = {"prompt": name, **opts}
        if not isinstance(spec, Mapping) or "prompt" not in spec:
            raise InvalidInput(
                f"{field} must be 'name@version', (name, {{'version': n}}) or "
                "{'prompt': name, 'version'|'label': ..., 'model': ..., 'params': {...}}",
                field=field,
            )
        unknown = set(spec) - {"prompt", "version", "label", "model", "params"}
        if unknown:
            raise InvalidInput(
                f"{field} has unknown keys: {', '.join(sorted(unknown))}", field=field
            )
        prompt = spec["prompt"]
        if isinstance(prompt, PromptVersion):
            pv = prompt
        elif "@" in str(prompt):
            pv = prompts.get_ref(caller, project, str(prompt), fallback_to_latest=True)
        else:
            pv = prompts.get(
                caller,
                project,
                str(prompt),
                version=spec.get("version"),
                label=spec.get("label"),
                fallback_to_latest=spec.get("version") is None and spec.get("label") is None,
            )
        model = spec.get("model")
        params = spec.get("params") or {}
        if not isinstance(params, Mapping):
            raise InvalidInput(f"{field}.params must be an object", field=f"{field}.params")
        return pv, model, dict(params)

    def create(
        self,
        caller: Caller,
        project: str,
        *,
        dataset: str,
        variants: Any,
        models: Sequence[str] | str | None = None,
        scorers: Sequence[Any] | None = None,
        name: str | None = None,
        description: str = "",
        budget_usd: float | None = None,
        concurrency: int = 16,
        use_cache: bool = True,
        feedback_labels: Sequence[str] | None = None,
    ) -> Experiment:
        """Validate and store an experiment plan; nothing is called yet.

        ``feedback_labels`` restricts the labels people may give results (free when unset).
        """
        from ..experiments.scorers import build_scorer
        from .datasets import DatasetService

        self.access.require(caller, project, "write")
        if name is not None:
            validate_slug(name)
        if not isinstance(description, str):
            raise InvalidInput("description must be a string", field="description")
        _check_budget(budget_usd)
        _check_concurrency(concurrency)
        labels = check_feedback_labels(feedback_labels)
        dv = DatasetService(self.store, self.config).get_ref(caller, project, dataset)
        variant_specs = _as_list(variants, "variants")
        if not variant_specs:
            raise InvalidInput("give at least one variant", field="variants")
        model_list = [m for m in _as_list(models, "models") if m is not None]
        gateway = self.gateway_factory()
        planned: builtins.list[dict[str, Any]] = []
        seen_names: set[str] = set()
        for i, spec in enumerate(variant_specs):
            pv, model, params = self._resolve_variant(caller, project, spec, i)
            missing = sorted(set(pv.variables) - set(dv.column_names))
            if missing:
                raise InvalidInput(
                    f"dataset {dv.ref} lacks column{'s' if len(missing) > 1 else ''} "
                    f"{', '.join(missing)} needed by prompt {pv.ref}",
                    field="dataset",
                    missing=missing,
                )
            for m in ([model] if model else model_list) or [pv.model]:
                if not m:
                    raise InvalidInput(
                        f"variants[{i}] ({pv.ref}) has no model: pass models=[...]",
                        field="models",
                    )
                gateway.resolve(m)  # InvalidInput for an unknown or malformed model
                merged = {**pv.params, **params}
                label = f"{pv.ref} · {m}"
                if merged != pv.params:
                    label += " · " + ", ".join(f"{k}={merged[k]}" for k in sorted(params))
                base, n = label, 2
                while label in seen_names:
                    label, n = f"{base} #{n}", n + 1
                seen_names.add(label)
                planned.append(
                    {
                        "idx": len(planned),
                        "name": label,
                        "prompt": pv.prompt,
                        "prompt_version": pv.number,
                        "model": m,
                        "params": merged,
                    }
                )
        built = [build_scorer(s) for s in (scorers or [])]
        names = [s.name for s in built]
        if len(set(names)) != len(names):
            raise InvalidInput(
                "scorer names must be unique; pass name=... to tell them apart", field="scorers"
            )
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        exp_name = name or f"{planned[0]['prompt']}-{stamp}-{secrets.token_hex(2)}"[:100]
        return self.store.create_experiment(
            project,
            exp_name,
            description=description,
            dataset=dv.dataset,
            dataset_version=dv.number,
            variants=planned,
            scorers=[s.describe() for s in built],
            settings={
                "concurrency": concurrency,
                "use_cache": use_cache,
                **({"feedback_labels": labels} if labels else {}),
            },
            budget_usd=budget_usd,
            total_items=dv.row_count * len(planned),
            package_version=__version__,
            user=caller.user,
        )

    # -- reading ---------------------------------------------------------------------------
    def get(self, caller: Caller, project: str, name: str) -> Experiment:
        with self.reading(caller, project):
            return self.store.get_experiment(project, validate_slug(name, "experiment"))

    def list(
        self,
        caller: Caller,
        project: str,
        *,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[Experiment]:
        with self.reading(caller, project):
            self.page(limit, offset)
            return self.store.list_experiments(project, status=status, limit=limit, offset=offset)

    # -- running ---------------------------------------------------------------------------
    def _scorers(self, exp: Experiment, given: Sequence[Any] | None) -> builtins.list[Scorer]:
        from ..experiments.scorers import build_scorer

        extra = {s.name: s for s in (build_scorer(x) for x in (given or []))}
        out = []
        for spec in exp.scorers:
            scorer_name = spec.get("name", spec["type"])
            if scorer_name in extra:
                out.append(extra[scorer_name])
            elif spec["type"] == "callable":
                raise InvalidInput(
                    f"scorer {scorer_name!r} is a Python function: pass it again with "
                    "run(scorers=[...]) to resume",
                    field="scorers",
                )
            else:
                out.append(build_scorer(spec))
        return out

    def runner(
        self,
        caller: Caller,
        project: str,
        name: str,
        *,
        scorers: Sequence[Any] | None = None,
        options: RunOptions | None = None,
        gateway: Gateway | None = None,
        cache: Any = None,
    ) -> Any:
        """An :class:`ExperimentRunner` for a stored experiment (not started)."""
        from ..experiments.planning import RunOptions
        from ..experiments.runner import ExperimentRunner
        from ..gateway.cache import DatabaseCache

        self.access.require(caller, project, "write")
        exp = self.get(caller, project, name)
        if exp.status == "completed":
            raise Conflict(f"experiment {name!r} is already completed", field="experiment")
        opts = options or RunOptions(
            concurrency=int(exp.settings.get("concurrency", 16)),
            use_cache=bool(exp.settings.get("use_cache", True)),
            budget_usd=exp.budget_usd,
        )
        return ExperimentRunner(
            self.store,
            gateway or self.gateway_factory(),
            exp,
            scorers=self._scorers(exp, scorers),
            user=caller.user,
            cache=cache if cache is not None else DatabaseCache(self.store),
            options=opts,
            on_finished=lambda status: self.store_summary(project, name),
        )

    def run(self, caller: Caller, project: str, name: str, **kwargs: Any) -> Experiment:
        """Run (or resume) an experiment in this process; blocks until it stops."""
        from ..experiments.runner import run_in_thread

        run_in_thread(self.runner(caller, project, name, **kwargs))
        return self.store.get_experiment(project, name)

    def cancel(self, caller: Caller, project: str, name: str) -> Experiment:
        """Cancel: a running experiment stops after the calls in flight."""
        self.access.require(caller, project, "write")
        exp = self.get(caller, project, name)
        if exp.status in ("completed", "cancelled", "failed"):
            raise Conflict(f"experiment {name!r} is already {exp.status}", field="experiment")
        self.store.set_experiment_status(project, name, "cancelled", "cancelled by " + caller.user)
        return self.store.get_experiment(project, name)

    def dry_run(self, caller: Caller, project: str, name: str) -> dict[str, Any]:
        """Calls still to make, how many the cache answers, and their estimated cost."""
        from ..experiments.planning import RunOptions

        runner = self.runner(caller, project, name, options=RunOptions(progress=False))
        runner.prepare()
        exp = runner.experiment
        done = self.store.completed_keys(runner.experiment_id)
        gateway = runner.gateway
        per_variant = {
            v.idx: {
                "variant": v.name,
                "calls": 0,
                "cached": 0,
                "est_prompt_tokens": 0,
                "est_completion_tokens": 0,
                "est_cost_usd": 0.0,
            }
            for v in exp.variants
        }
        for batch in runner.plan(done):
            cached = runner.cache.get_many([i.key for i in batch]) if runner.cache else {}
            for item in batch:
                entry = per_variant[item.variant]
                if item.key in cached:
                    entry["cached"] += 1
                    continue
                v = exp.variants[item.variant]
                p_tok = max(1, sum(len(m["content"]) for m in item.messages) // 4)
                c_tok = int(v.params.get("max_tokens") or DEFAULT_MAX_TOKENS_ESTIMATE)
                entry["calls"] += 1
                entry["est_prompt_tokens"] += p_tok
                entry["est_completion_tokens"] += c_tok
                entry["est_cost_usd"] += gateway.estimate_cost(v.model, p_tok, c_tok)
        variants = builtins.list(per_variant.values())
        return {
            "experiment": exp.name,
            "calls": sum(v["calls"] for v in variants),
            "cached": sum(v["cached"] for v in variants),
            "already_done": len(done),
            "est_cost_usd": sum(v["est_cost_usd"] for v in variants),
            "variants": variants,
        }

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
        from ..experiments import stats

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
        from ..experiments import stats

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
        from ..experiments import stats

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


def _z(confidence: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + confidence / 2)


def _check_budget(budget: Any) -> None:
    if budget is None:
        return
    if (
        isinstance(budget, bool)
        or not isinstance(budget, (int, float))
        or not (math.isfinite(budget) and budget > 0)
    ):
        raise InvalidInput("budget_usd must be a positive number", field="budget_usd")


def _check_concurrency(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise InvalidInput("concurrency must be an integer between 1 and 1000", field="concurrency")
