"""Experiment runs: start, resume, cancel and dry-run a stored experiment."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...exceptions import Conflict, InvalidInput
from ...models import Experiment
from ..access import Caller
from .summaries import ExperimentSummaries

if TYPE_CHECKING:
    from ...experiments.planning import RunOptions
    from ...experiments.scorers import Scorer
    from ...gateway.gateway import Gateway

DEFAULT_MAX_TOKENS_ESTIMATE = 256


class ExperimentRuns(ExperimentSummaries):
    """Runs experiments through the gateway (a finished run stores its summary)."""

    # -- running ---------------------------------------------------------------------------
    def _scorers(self, exp: Experiment, given: Sequence[Any] | None) -> builtins.list[Scorer]:
        from ...experiments.scorers import build_scorer

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
        from ...experiments.planning import RunOptions
        from ...experiments.runner import ExperimentRunner
        from ...gateway.cache import DatabaseCache

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
        from ...experiments.runner import run_in_thread

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
        from ...experiments.planning import RunOptions

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
