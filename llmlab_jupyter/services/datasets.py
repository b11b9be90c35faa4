"""Datasets: immutable versions imported from files or DataFrames."""

from __future__ import annotations

import builtins
from typing import Any

from .. import datasets as data
from ..exceptions import InvalidInput
from ..models import Dataset, DatasetVersion, PromptVersion
from ..prompts import parse_ref, validate_slug
from .access import Caller
from .base import Service


class DatasetService(Service):
    """The versioned datasets of a project."""

    def import_(
        self,
        caller: Caller,
        project: str,
        name: str,
        source: Any,
        *,
        format: str | None = None,
        message: str = "",
        description: str | None = None,
    ) -> tuple[DatasetVersion, bool]:
        """Import ``source`` as a new version; identical content returns the existing one."""
        self.access.require(caller, project, "write")
        validate_slug(name)
        if not isinstance(message, str) or len(message) > 10_000:
            raise InvalidInput("message must be a string", field="message")
        loaded = data.load(source, format=format)
        return self.store.save_dataset_version(
            project,
            name,
            content_hash=loaded.content_hash,
            columns=loaded.columns,
            rows=loaded.rows,
            source_format=loaded.source_format,
            message=message,
            description=description,
            user=caller.user,
        )

    def info(self, caller: Caller, project: str, name: str) -> Dataset:
        self.access.require(caller, project, "read")
        return self.store.get_dataset(project, validate_slug(name))

    def list(
        self,
        caller: Caller,
        project: str,
        *,
        search: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[Dataset]:
        self.access.require(caller, project, "read")
        self.page(limit, offset)
        return self.store.list_datasets(project, search=search, limit=limit, offset=offset)

    def get(
        self, caller: Caller, project: str, name: str, *, version: int | None = None
    ) -> DatasetVersion:
        """One version by number, or the latest."""
        self.access.require(caller, project, "read")
        if version is not None and (
            isinstance(version, bool) or not isinstance(version, int) or version < 1
        ):
            raise InvalidInput("version must be a positive integer", field="version")
        return self.store.get_dataset_version(project, validate_slug(name), version)

    def get_ref(self, caller: Caller, project: str, ref: str) -> DatasetVersion:
        """Resolve ``name`` (latest) or ``name@3``."""
        name, version, label = parse_ref(ref, "dataset")
        if label is not None:
            raise InvalidInput("datasets are referenced as name or name@<number>", field="dataset")
        return self.get(caller, project, name, version=version)

    def versions(
        self, caller: Caller, project: str, name: str, *, limit: int = 100, offset: int = 0
    ) -> builtins.list[DatasetVersion]:
        self.access.require(caller, project, "read")
        self.page(limit, offset)
        return self.store.list_dataset_versions(
            project, validate_slug(name), limit=limit, offset=offset
        )

    def rows(
        self,
        caller: Caller,
        project: str,
        name: str,
        *,
        version: int | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """Rows of a version (all of them, or one page)."""
        dv = self.get(caller, project, name, version=version)
        if limit is not None:
            self.page(limit, offset)
        return self.store.dataset_rows(project, dv.dataset, dv.number, offset=offset, limit=limit)

    def to_pandas(
        self, caller: Caller, project: str, name: str, *, version: int | None = None
    ) -> Any:
        dv = self.get(caller, project, name, version=version)
        rows = self.store.dataset_rows(project, dv.dataset, dv.number)
        return data.to_frame(rows, dv.column_names)

    def validate_for(self, dataset: DatasetVersion, prompt: PromptVersion) -> None:
        """Raise ``InvalidInput`` listing the prompt variables missing from the dataset."""
        missing = data.missing_columns(prompt.variables, dataset.column_names)
        if missing:
            raise InvalidInput(
                f"dataset {dataset.ref} lacks column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)} needed by prompt {prompt.ref}",
                field="dataset",
                missing=missing,
            )
