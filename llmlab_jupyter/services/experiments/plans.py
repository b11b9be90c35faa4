"""Experiment plans: validate and store (dataset × variants × scorers), and read them back."""

from __future__ import annotations

import builtins
import math
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..._version import __version__
from ...exceptions import InvalidInput
from ...models import Experiment, PromptVersion
from ...prompts import validate_slug
from ..access import Caller
from ..base import Service
from ..feedback import check_feedback_labels

if TYPE_CHECKING:
    from ...gateway.gateway import Gateway


def _as_list(value: Any, field: str) -> builtins.list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        return [value]
    return builtins.list(value)


class ExperimentPlans(Service):
    """Plans experiments and reads them; the base of the other experiment service parts."""

    gateway_factory: Callable[[], Gateway]

    def __init__(self, store: Any, config: Any, gateway: Callable[[], Gateway]) -> None:
        super().__init__(store, config)
        self.gateway_factory = gateway

    # -- planning --------------------------------------------------------------------------
    def _resolve_variant(
        self, caller: Caller, project: str, spec: Any, i: int
    ) -> tuple[PromptVersion, str | None, dict[str, Any]]:
        from ..prompts import PromptService

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
        from ...experiments.scorers import build_scorer
        from ..datasets import DatasetService

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
