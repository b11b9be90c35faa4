"""``Lab``: the notebook SDK over the one service layer.

>>> from llmlab_jupyter import Lab
>>> lab = Lab()                                   # embedded SQLite, project "default"
>>> v = lab.prompts.save("greet", "Hello {{ name }}", message="first")
>>> lab.prompts.get("greet", version=1).render(name="Ada")
'Hello Ada'
"""

from __future__ import annotations

from typing import Any, cast

from ..config import LlmLabConfig, local_user_name
from ..services import Caller, Services
from .catalog import DatasetsAPI, ProjectsAPI, PromptsAPI
from .experiments import ExperimentRun, ExperimentsAPI
from .widgets import ChartsAPI, compare_runs


class Lab:
    """Entry point of the SDK.

    ``Lab()`` opens the embedded SQLite database under the Jupyter data dir (or
    ``LLMLAB_DATABASE_URL``) in-process, as the operating-system user, in the
    ``default`` project, which is created on first use with that user as owner.
    ``Lab(url=..., token=...)`` talks to a running Jupyter server's REST API instead.

    On a JupyterHub with the llmlab service (``llmlab serve``), and in a batch job of a team
    deployment, ``Lab()`` finds the service (``LLMLAB_SERVICE_URL``, or the Hub's record of
    it) and talks HTTP with this kernel's own token: the user is whoever the service says
    the token names, and the project defaults to theirs. Nothing in the kernel can open
    the database.
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
        default_project = self.config.default_project
        if services is None and url is None and config is None and database_url is None:
            from ..hub.discovery import find_service

            found = find_service()
            if found is not None:
                url, token = found.url, token or found.token
        if services is None and url is not None:
            # the REST API of a running server (same methods; the token names the user)
            from .http.services import HttpServices

            remote = HttpServices(url, token)
            me = remote.me()
            self.caller = Caller(str(me["user"]))
            default_project = str(me.get("default_project") or default_project)
            services = cast(Services, remote)
        self.services = services or Services.from_config(self.config)
        self.project = project or default_project
        if project is None or project == default_project:
            self.services.projects.ensure(self.caller, self.project)
        else:
            self.services.projects.get(self.caller, self.project)
        self.prompts = PromptsAPI(self)
        self.datasets = DatasetsAPI(self)
        self.projects = ProjectsAPI(self)
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
