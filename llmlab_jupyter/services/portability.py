"""Export a project as a folder of YAML/JSONL files and import such a folder (prompt-as-code).

The folder format is described in :mod:`llmlab_jupyter.portable`. A round trip loses
nothing: exporting, importing into an empty project and exporting again gives byte-identical
folders (version numbers, authors, dates, messages, hashes, parents, labels and every label
move are kept).

Importing into a project that already holds some of the content skips what is identical and
appends what is new. Every file is validated and compared with the project before anything
is written, so a bad file or a conflict (same version number with a different hash, or a label
history that went another way) stores nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..exceptions import Conflict, NotFound
from ..portable.reader import (
    DatasetEntry,
    DatasetVersionEntry,
    LabelMove,
    PromptEntry,
    PromptVersionEntry,
    read_project_folder,
)
from ..portable.writer import FolderWriter
from .access import Caller
from .base import Service

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


@dataclass
class TransferSummary:
    """What an export wrote or an import stored (``skipped``: versions already present)."""

    prompts: int = 0
    prompt_versions: int = 0
    label_moves: int = 0
    datasets: int = 0
    dataset_versions: int = 0
    skipped: int = 0


@dataclass
class _Plan:
    prompts: list[tuple[PromptEntry, list[PromptVersionEntry], list[LabelMove]]] = field(
        default_factory=list
    )
    datasets: list[tuple[DatasetEntry, list[DatasetVersionEntry]]] = field(default_factory=list)
    skipped: int = 0


def _same_move(a: LabelMove, b: Any) -> bool:
    return (a.from_version, a.to_version, a.created_by, a.created_at) == (
        b.from_version,
        b.to_version,
        b.created_by,
        b.created_at,
    )


class PortabilityService(Service):
    """Whole-project export and import (``llmlab export`` / ``llmlab import``)."""

    def _pages(self, fetch: Callable[..., list[Any]], *args: Any) -> Iterator[Any]:
        """Every item of a paged store listing ``fetch(*args, limit=, offset=)``."""
        size, offset = self.config.max_page_size, 0
        while True:
            page = fetch(*args, limit=size, offset=offset)
            yield from page
            if len(page) < size:
                return
            offset += size

    def export(self, caller: Caller, project: str, directory: str | Path) -> TransferSummary:
        """Write every prompt (versions, labels, label history) and dataset (versions, rows)
        of ``project`` into ``directory``; needs read access."""
        self.access.require(caller, project, "read")
        store, summary = self.store, TransferSummary()
        writer = FolderWriter(directory)
        writer.open()
        for prompt in self._pages(store.list_prompts, project):
            versions = list(self._pages(store.list_prompt_versions, project, prompt.name))
            history = store.label_history(project, prompt.name)
            summary.prompts += 1
            summary.label_moves += len(history)
            summary.prompt_versions += writer.write_prompt(prompt, reversed(versions), history)
        for dataset in self._pages(store.list_datasets, project):
            versions = list(self._pages(store.list_dataset_versions, project, dataset.name))
            summary.datasets += 1
            summary.dataset_versions += writer.write_dataset(
                dataset, reversed(versions), partial(store.iter_dataset_rows, project, dataset.name)
            )
        writer.close()
        return summary

    def import_(self, caller: Caller, project: str, directory: str | Path) -> TransferSummary:
        """Store what ``directory`` holds that ``project`` lacks; needs write access.

        Identical versions are skipped. A version with the same number but another content
        hash, or a label whose history in the project differs from the folder's, raises
        :class:`Conflict` naming it; every file is validated and every conflict found
        before anything is stored.
        """
        self.access.require(caller, project, "write")
        folder = read_project_folder(directory)
        plan = _Plan()
        for prompt in folder.prompts:
            new_versions, moves = self._plan_prompt(project, prompt, plan)
            plan.prompts.append((prompt, new_versions, moves))
        for dataset in folder.datasets:
            plan.datasets.append((dataset, self._plan_dataset(project, dataset, plan)))
        return self._apply(project, plan)

    def _plan_prompt(
        self, project: str, prompt: PromptEntry, plan: _Plan
    ) -> tuple[list[PromptVersionEntry], list[LabelMove]]:
        try:
            self.store.get_prompt(project, prompt.name)
        except NotFound:
            return prompt.versions, prompt.history
        existing = {
            v.number: v.content_hash
            for v in self._pages(self.store.list_prompt_versions, project, prompt.name)
        }
        for version in prompt.versions:
            have = existing.get(version.number)
            if have is not None and have != version.content_hash:
                raise Conflict(
                    f"prompt {prompt.name}@{version.number} differs: the project has {have}, "
                    f"the import has {version.content_hash}; nothing was imported",
                    field="prompts",
                )
        new = [v for v in prompt.versions if v.number not in existing]
        plan.skipped += len(prompt.versions) - len(new)
        history = self.store.label_history(project, prompt.name)
        moves: list[LabelMove] = []
        for label in sorted({m.label for m in prompt.history}):
            theirs = [m for m in prompt.history if m.label == label]
            ours = [e for e in history if e.label == label]
            common = min(len(theirs), len(ours))
            if not all(
                _same_move(a, b) for a, b in zip(theirs[:common], ours[:common], strict=True)
            ):
                raise Conflict(
                    f"label {label!r} of prompt {prompt.name!r} was moved differently in the "
                    "project than in the import; nothing was imported",
                    field="labels",
                )
            moves.extend(theirs[common:])
        # replay in the folder's order, which interleaves labels as they happened
        keep = {id(m) for m in moves}
        return new, [m for m in prompt.history if id(m) in keep]

    def _plan_dataset(
        self, project: str, dataset: DatasetEntry, plan: _Plan
    ) -> list[DatasetVersionEntry]:
        try:
            self.store.get_dataset(project, dataset.name)
        except NotFound:
            return dataset.versions
        existing = {
            v.number: v.content_hash
            for v in self._pages(self.store.list_dataset_versions, project, dataset.name)
        }
        for version in dataset.versions:
            have = existing.get(version.number)
            if have is not None and have != version.content_hash:
                raise Conflict(
                    f"dataset {dataset.name}@{version.number} differs: the project has {have}, "
                    f"the import has {version.content_hash}; nothing was imported",
                    field="datasets",
                )
        new = [v for v in dataset.versions if v.number not in existing]
        plan.skipped += len(dataset.versions) - len(new)
        return new

    def _apply(self, project: str, plan: _Plan) -> TransferSummary:
        summary = TransferSummary(skipped=plan.skipped)
        for prompt, versions, moves in plan.prompts:
            summary.prompts += bool(versions or moves)
            for v in versions:
                c = v.content
                self.store.save_prompt_version(
                    project,
                    prompt.name,
                    kind=c.kind,
                    template=c.template,
                    variables=c.variables,
                    declared_variables=c.declared_variables,
                    model=c.model,
                    params=c.params,
                    message=v.message,
                    content_hash=v.content_hash,
                    description=prompt.description,
                    user=v.created_by,
                    number=v.number,
                    created_at=v.created_at,
                    created_by=v.created_by,
                    parent=v.parent,
                )
                summary.prompt_versions += 1
            for move in moves:
                self.store.set_label(
                    project,
                    prompt.name,
                    move.label,
                    move.to_version,
                    move.created_by,
                    at=move.created_at,
                )
                summary.label_moves += 1
        for dataset, dversions in plan.datasets:
            summary.datasets += bool(dversions)
            for dv in dversions:
                self.store.save_dataset_version(
                    project,
                    dataset.name,
                    content_hash=dv.content_hash,
                    columns=dv.columns,
                    rows=dv.rows,
                    source_format=dv.source_format,
                    message=dv.message,
                    description=dataset.description,
                    user=dv.created_by,
                    number=dv.number,
                    created_at=dv.created_at,
                    created_by=dv.created_by,
                )
                summary.dataset_versions += 1
        return summary
