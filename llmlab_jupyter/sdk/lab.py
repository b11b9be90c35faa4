"""``Lab``: the notebook SDK over the one service layer.

>>> from llmlab_jupyter import Lab
>>> lab = Lab()                                   # embedded SQLite, project "default"
>>> v = lab.prompts.save("greet", "Hello {{ name }}", message="first")
>>> lab.prompts.get("greet", version=1).render(name="Ada")
'Hello Ada'
"""

from __future__ import annotations

import builtins
from typing import Any, cast

from .config import LlmLabConfig, local_user_name
from .models import (
    Dataset,
    DatasetVersion,
    Label,
    LabelEvent,
    Membership,
    Project,
    Prompt,
    PromptVersion,
)
from .services import Caller, Services


def _frame(records: builtins.list[Any]) -> Any:
    import pandas as pd

    return pd.DataFrame([r.model_dump() for r in records])


class _Part:
    def __init__(self, lab: Lab) -> None:
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
                from .exceptions import InvalidInput

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
            from .exceptions import InvalidInput

            raise InvalidInput(f"{pv.ref} has no default model: pass model=", field="model")
        return self._lab.complete(rendered, model=chosen, **pv.params)

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
            self._lab.prompts.get(prompt, fallback_to_latest=True)
            if isinstance(prompt, str)
            else prompt
        )
        self._services.datasets.validate_for(dv, pv)


class ProjectsAPI(_Part):
    """``lab.projects``: projects the caller belongs to, and their members."""

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


class Lab:
    """Entry point of the SDK.

    ``Lab()`` opens the embedded SQLite database under the Jupyter data dir (or
    ``LLMLAB_DATABASE_URL``) in-process, as the operating-system user, in the
    ``default`` project, which is created on first use with that user as owner.
    ``Lab(url=..., token=...)`` talks to a running Jupyter server's REST API instead.
    """

    def __init__(
        self,
        project: str | None = None,
        *,
        database_url: str | None = None,
        data_dir: str | None = None,
        user: str | None = None,
        config: LlmLabConfig | None = None,
        services: Services | None = None,
        url: str | None = None,
        token: str | None = None,
    ) -> None:
        self.config = config or LlmLabConfig.from_overrides(
            database_url=database_url, data_dir=data_dir
        )
        self.caller = Caller(user or local_user_name())
        self._owns_services = services is None
        if services is None and url is not None:
            # the REST API of a running server (same methods; the token names the user)
            from .http_services import HttpServices

            services = cast(Services, HttpServices(url, token))
        self.services = services or Services.from_config(self.config)
        self.project = project or self.config.default_project
        if project is None or project == self.config.default_project:
            self.services.projects.ensure(self.caller, self.project)
        else:
            self.services.projects.get(self.caller, self.project)
        self.prompts = PromptsAPI(self)
        self.datasets = DatasetsAPI(self)
        self.projects = ProjectsAPI(self)
        from .client_experiments import ExperimentsAPI
        from .client_widgets import ChartsAPI

        self.experiments = ExperimentsAPI(self)
        self.charts = ChartsAPI(self)

    def experiment(
        self,
        *,
        dataset: str,
        variants: Any,
        models: list[str] | str | None = None,
        scorers: list[Any] | None = None,
        name: str | None = None,
        description: str = "",
        budget_usd: float | None = None,
        concurrency: int = 16,
        use_cache: bool = True,
        feedback_labels: list[str] | None = None,
    ) -> Any:
        """Plan a prompt × model × dataset experiment; call ``.run()`` on the result.

        ``variants`` are prompt references: ``"summarize@2"``, ``("summarize", {"label":
        "production"})`` or ``{"prompt": ..., "version": ..., "model": ..., "params": ...}``;
        each is crossed with every model in ``models`` (default: the version's own model).
        ``scorers`` are names (``"exact_match"``), specs (``{"type": "regex", "pattern":
        ...}``), scorer objects or Python functions ``fn(output, row)``.
        ``feedback_labels`` is the set of labels people may give results in ``compare()``.
        """
        return self.experiments.create(
            dataset=dataset,
            variants=variants,
            models=models,
            scorers=scorers,
            name=name,
            description=description,
            budget_usd=budget_usd,
            concurrency=concurrency,
            use_cache=use_cache,
            feedback_labels=feedback_labels,
        )

    def compare(
        self, *experiments: Any, baseline: int = 0, other: int | None = None, page_size: int = 20
    ) -> Any:
        """A widget comparing experiments (runs or names) on the same dataset version;
        columns are their variants in order (``baseline``/``other`` index them)."""
        from .client_experiments import ExperimentRun
        from .client_widgets import compare_runs

        runs = [e if isinstance(e, ExperimentRun) else self.experiments.get(e) for e in experiments]
        return compare_runs(self, runs, baseline=baseline, other=other, page_size=page_size)

    def complete(
        self, prompt: Any, *, model: str, use_cache: bool = True, **params: Any
    ) -> dict[str, Any]:
        """Call ``model`` once with a string or chat messages; the call is cached and recorded
        in the usage ledger. Returns text, tokens, cost, latency, attempts and cache hit."""
        return self.services.completions.complete(
            self.caller, self.project, prompt, model=model, params=params, use_cache=use_cache
        )

    def usage(self, *, by: list[str] | tuple[str, ...] = ("model",), **filters: Any) -> Any:
        """The usage ledger (calls, tokens, cost, savings, errors) as a DataFrame."""
        import pandas as pd

        rows = self.services.experiments.usage(self.caller, self.project, by=by, **filters)
        return pd.DataFrame.from_records(rows)

    def export(self, directory: str) -> Any:
        """Write the project's prompts and datasets as a folder of YAML/JSONL files."""
        return self.services.portability.export(self.caller, self.project, directory)

    def import_(self, directory: str) -> Any:
        """Load a folder written by :meth:`export` into this project (identical parts skipped)."""
        return self.services.portability.import_(self.caller, self.project, directory)

    def use(self, project: str) -> Lab:
        """A ``Lab`` on another project, sharing this one's connection."""
        return Lab(project, config=self.config, user=self.caller.user, services=self.services)

    def close(self) -> None:
        if self._owns_services:
            self.services.close()

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Lab(project={self.project!r}, user={self.caller.user!r})"
