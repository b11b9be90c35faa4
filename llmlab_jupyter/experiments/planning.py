"""Planning a run: its options and the (variant, dataset row) work items still to do.

:class:`RunPlanner` is one of the parts :class:`~.runner.ExperimentRunner` is built from:
it compiles each variant's prompt once, then streams the dataset rows in batches of
rendered, cache-keyed :class:`WorkItem` s, skipping the items already done.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..exceptions import LlmLabError, TemplateError
from ..gateway.cache import cache_key, input_hash, key_prefix
from ..prompts import CompiledPrompt

if TYPE_CHECKING:
    from ..gateway.gateway import Gateway
    from ..models import Experiment
    from ..store.sql_store import SQLStore


@dataclass
class RunOptions:
    concurrency: int = 16
    batch_size: int = 500
    flush_interval_s: float = 0.5
    use_cache: bool = True
    budget_usd: float | None = None
    retry_errors: bool = True
    progress: bool = True


@dataclass
class WorkItem:
    variant: int
    row_idx: int
    row: dict[str, Any]
    messages: list[dict[str, str]]
    input_hash: str
    key: str


class RunPlanner:
    """Compiles the variants' prompts and yields the work items of a run (a runner part)."""

    store: SQLStore
    gateway: Gateway
    experiment: Experiment
    options: RunOptions
    project_id: int
    _prompts: list[CompiledPrompt]
    _providers: list[str]

    if TYPE_CHECKING:  # provided by ResultRecorder

        def _record_error(
            self, variant: int, row_idx: int, input_hash: str, err: LlmLabError, *, attempts: int
        ) -> None: ...

    def prepare(self) -> None:
        """Compile each variant's prompt and resolve its provider (once per run)."""
        for v in self.experiment.variants:
            pv = self._prompt_version(v.prompt, v.prompt_version)
            self._prompts.append(CompiledPrompt(pv.kind, pv.template_data()))
            self._providers.append(self.gateway.resolve(v.model).provider)

    def _prompt_version(self, name: str, number: int) -> Any:
        return self.store.get_prompt_version(self.experiment.project, name, number=number)

    def plan(self, done: set[tuple[int, int]]) -> Iterator[list[WorkItem]]:
        """Batches of the (variant, row) items not in ``done``, rendered and keyed for the cache.

        A row whose prompt cannot be rendered is recorded as an error, not yielded."""
        exp = self.experiment
        batch: list[WorkItem] = []
        rows = self.store.iter_dataset_rows(exp.project, exp.dataset, exp.dataset_version)
        prefixes = [
            key_prefix(self.project_id, self._providers[v.idx], v.model, v.params)
            for v in exp.variants
        ]
        for row_idx, row in enumerate(rows):
            for v in exp.variants:
                if (v.idx, row_idx) in done:
                    continue
                try:
                    messages = self._prompts[v.idx].messages(row)
                except TemplateError as err:
                    self._record_error(v.idx, row_idx, "", err, attempts=0)
                    continue
                digest = input_hash(messages)
                key = cache_key(prefixes[v.idx], digest)
                batch.append(WorkItem(v.idx, row_idx, row, messages, digest, key))
            if len(batch) >= self.options.batch_size:
                yield batch
                batch = []
        if batch:
            yield batch
