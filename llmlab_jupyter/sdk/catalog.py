"""The catalogue parts of the SDK: ``lab.prompts``, ``lab.datasets`` and ``lab.projects``.

Each part calls the services as the session's caller, in the session's project (or the
``project`` given), and returns records or DataFrames.
"""

from __future__ import annotations

import builtins
from typing import Any

from ..models import (
    Dataset,
    DatasetVersion,
    Label,
    LabelEvent,
    Membership,
    Project,
    Prompt,
    PromptVersion,
)
from ..services import Caller, Services
from .session import Session


def _frame(records: builtins.list[Any]) -> Any:
    import pandas as pd

    return pd.DataFrame([r.model_dump() for r in records])


class _Part:
    def __init__(self, lab: Session) -> None:
        self._lab = lab

    @property
    def _services(self) -> Services:
        return self._lab.services

    @property
    def _caller(self) -> Caller:
        return self._lab.caller

    @property
    def _project(self) -> str:
        return self._lab.project


class PromptsAPI(_Part):
    """``lab.prompts``: the versioned prompt library of the current project."""

    def save(
        self,
        name: str,
        template: Any,
        *,
        variables: builtins.list[str] | None = None,
        model: str | None = None,
        params: dict[str, Any] | None = None,
        message: str = "",
        description: str | None = None,
        kind: str | None = None,
    ) -> PromptVersion:
        """Save a new version (a ``str`` for text, a list of ``{"role", "content"}`` for chat).

        Saving content identical to the latest version returns that version.
        """
        return self._services.prompts.save(
            self._caller,
            self._project,
            name,
            template,
            kind=kind,
            variables=variables,
            model=model,
            params=params,
            message=message,
            description=description,
        ).version

    create = save
    push = save

    def get(
        self,
        name: str,
        *,
        version: int | None = None,
        label: str | None = None,
        fallback_to_latest: bool = False,
    ) -> PromptVersion:
        """A version by ``version`` or ``label`` (never both); ``production`` by default.

        ``name`` may also be a reference such as ``"greet@3"`` or ``"greet@staging"``.
        """
        if "@" in name:
            if version is not None or label is not None:
                from ..exceptions import InvalidInput

                raise InvalidInput("a reference with @ cannot be combined with version or label")
            return self._services.prompts.get_ref(
                self._caller, self._project, name, fallback_to_latest=fallback_to_latest
            )
        return self._services.prompts.get(
            self._caller,
            self._project,
            name,
            version=version,
            label=label,
            fallback_to_latest=fallback_to_latest,
        )

    def latest(self, name: str) -> PromptVersion:
        return self._services.prompts.latest(self._caller, self._project, name)

    def info(self, name: str) -> Prompt:
        return self._services.prompts.info(self._caller, self._project, name)

    def list(
        self,
        *,
        search: str | None = None,
        label: str | None = None,
        limit: int = 100,
        offset: int = 0,
        as_frame: bool = False,
    ) -> Any:
        """Prompts of the project (a list, or a DataFrame with ``as_frame=True``)."""
        items = self._services.prompts.list(
            self._caller, self._project, search=search, label=label, limit=limit, offset=offset
        )
        return _frame(items) if as_frame else items

    def versions(self, name: str, *, limit: int = 100, as_frame: bool = False) -> Any:
        """Versions of a prompt, newest first."""
        items = self._services.prompts.versions(self._caller, self._project, name, limit=limit)
        return _frame(items) if as_frame else items

    def run(
        self,
        name: str,
        variables: dict[str, Any] | None = None,
        /,
        *,
        version: int | None = None,
        label: str | None = None,
        model: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Render a stored version and call its model (or ``model``) once."""
        pv = self.get(name, version=version, label=label, fallback_to_latest=True)
        rendered = pv.render({**(variables or {}), **kwargs})
        chosen = model or pv.model
        if not chosen:
            from ..exceptions import InvalidInput

            raise InvalidInput(f"{pv.ref} has no default model: pass model=", field="model")
        return self._services.completions.complete(
            self._caller, self._project, rendered, model=chosen, params=pv.params
        )

    def label(self, name: str, label: str, version: int) -> Label:
        """Move ``label`` to ``version`` (kept in the label history)."""
        return self._services.prompts.set_label(self._caller, self._project, name, label, version)

    def unlabel(self, name: str, label: str) -> None:
        self._services.prompts.remove_label(self._caller, self._project, name, label)

    def label_history(self, name: str, label: str | None = None) -> builtins.list[LabelEvent]:
        return self._services.prompts.label_history(self._caller, self._project, name, label)

    def diff(self, name: str, a: int, b: int) -> str:
        """Unified diff of messages and parameters between two versions."""
        return self._services.prompts.diff(self._caller, self._project, name, a, b)

    def render(
        self,
        name: str,
        variables: dict[str, Any] | None = None,
        /,
        *,
        version: int | None = None,
        label: str | None = None,
        fallback_to_latest: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Render a stored version: a string for text prompts, messages for chat prompts."""
        pv = self.get(name, version=version, label=label, fallback_to_latest=fallback_to_latest)
        return pv.render({**(variables or {}), **kwargs})


class DatasetsAPI(_Part):
    """``lab.datasets``: immutable, versioned datasets of the current project."""

    def import_(
        self,
        name: str,
        source: Any,
        *,
        format: str | None = None,
        message: str = "",
        description: str | None = None,
    ) -> DatasetVersion:
        """Import a CSV/JSONL/Parquet file, bytes, a DataFrame or a list of dicts.

        Identical content returns the existing version.
        """
        version, _ = self._services.datasets.import_(
            self._caller,
            self._project,
            name,
            source,
            format=format,
            message=message,
            description=description,
        )
        return version

    create = import_

    def get(self, name: str, *, version: int | None = None) -> DatasetVersion:
        """A version (latest by default); ``name`` may be ``"news@3"``."""
        if "@" in name:
            return self._services.datasets.get_ref(self._caller, self._project, name)
        return self._services.datasets.get(self._caller, self._project, name, version=version)

    def info(self, name: str) -> Dataset:
        return self._services.datasets.info(self._caller, self._project, name)

    def list(
        self,
        *,
        search: str | None = None,
        limit: int = 100,
        offset: int = 0,
        as_frame: bool = False,
    ) -> Any:
        items = self._services.datasets.list(
            self._caller, self._project, search=search, limit=limit, offset=offset
        )
        return _frame(items) if as_frame else items

    def versions(self, name: str, *, limit: int = 100, as_frame: bool = False) -> Any:
        items = self._services.datasets.versions(self._caller, self._project, name, limit=limit)
        return _frame(items) if as_frame else items

    def rows(
        self, name: str, *, version: int | None = None, offset: int = 0, limit: int | None = None
    ) -> builtins.list[dict[str, Any]]:
        dv = self.get(name, version=version)
        return self._services.datasets.rows(
            self._caller, self._project, dv.dataset, version=dv.number, offset=offset, limit=limit
        )

    def to_pandas(self, name: str, *, version: int | None = None) -> Any:
        """The rows of a version as a DataFrame, columns in stored order."""
        dv = self.get(name, version=version)
        return self._services.datasets.to_pandas(
            self._caller, self._project, dv.dataset, version=dv.number
        )

    def validate(self, dataset: str | DatasetVersion, prompt: str | PromptVersion) -> None:
        """Raise ``InvalidInput`` naming the prompt variables the dataset lacks."""
        dv = self.get(dataset) if isinstance(dataset, str) else dataset
        pv = (
            PromptsAPI(self._lab).get(prompt, fallback_to_latest=True)
            if isinstance(prompt, str)
            else prompt
        )
        self._services.datasets.validate_for(dv, pv)


class ProjectsAPI(_Part):
    """``lab.projects``: projects the caller belongs to, and their members: users
    (``set_member``) and JupyterHub groups (``set_group``)."""

    def create(self, slug: str, title: str = "") -> Project:
        return self._services.projects.create(self._caller, slug, title)

    def get(self, slug: str | None = None) -> Project:
        return self._services.projects.get(self._caller, slug or self._project)

    def list(self, *, limit: int = 100, offset: int = 0) -> builtins.list[Project]:
        return self._services.projects.list(self._caller, limit=limit, offset=offset)

    def members(self, slug: str | None = None) -> builtins.list[Membership]:
        return self._services.projects.members(self._caller, slug or self._project)

    def set_member(self, user: str, role: str, *, project: str | None = None) -> Membership:
        return self._services.projects.set_member(
            self._caller, project or self._project, user, role
        )

    def remove_member(self, user: str, *, project: str | None = None) -> None:
        self._services.projects.remove_member(self._caller, project or self._project, user)

    def set_group(self, group: str, role: str, *, project: str | None = None) -> Membership:
        """Grant ``role`` to every member of the JupyterHub group ``group`` (owners only).
        A user's role is the highest of their own and their groups'."""
        return self._services.projects.set_group(
            self._caller, project or self._project, group, role
        )

    def remove_group(self, group: str, *, project: str | None = None) -> None:
        """Revoke the role of the Hub group ``group`` (owners only)."""
        self._services.projects.remove_group(self._caller, project or self._project, group)
