"""The one service layer: handlers, SDK, CLI, widgets and jobs all call these.

Services check callers and roles, then use the store, gateway, artifacts and executors;
they never import the server, the SDK or the CLI.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from .access import Caller

if TYPE_CHECKING:
    from ..artifacts import ArtifactStore
    from ..config import LlmLabConfig
    from ..executors.base import Executor
    from ..gateway.gateway import Gateway
    from ..store.sql_store import SQLStore
    from .completions import CompletionService
    from .datasets import DatasetService
    from .experiments import ExperimentService
    from .feedback import FeedbackService
    from .jobs import JobService
    from .portability import PortabilityService
    from .projects import ProjectService
    from .prompts import PromptService
    from .schedules import ScheduleService

__all__ = ["Caller", "Services"]


class Services:
    """All services over one store, one gateway and one configuration."""

    def __init__(self, store: SQLStore, config: LlmLabConfig) -> None:
        from ..artifacts.datasets import DatasetArtifacts

        self.store = store
        self.config = config
        # large dataset versions keep their rows in the artifact store (opened on first use)
        store.dataset_artifacts = DatasetArtifacts(
            lambda: self.artifacts, inline_max_rows=config.dataset_inline_max_rows
        )

    @classmethod
    def from_config(cls, config: LlmLabConfig) -> Services:
        from ..store.sql_store import SQLStore

        return cls(SQLStore(config.database_url, auto_migrate=config.auto_migrate), config)

    @cached_property
    def projects(self) -> ProjectService:
        from .projects import ProjectService

        return ProjectService(self.store, self.config)

    @cached_property
    def prompts(self) -> PromptService:
        from .prompts import PromptService

        return PromptService(self.store, self.config)

    @cached_property
    def datasets(self) -> DatasetService:
        from .datasets import DatasetService

        return DatasetService(self.store, self.config)

    @cached_property
    def gateway(self) -> Gateway:
        """The model gateway, configured from ``models_file`` when one is set."""
        from ..gateway.config import ModelRegistry
        from ..gateway.gateway import Gateway

        path = self.config.models_file
        return Gateway(ModelRegistry.from_yaml(path) if path else ModelRegistry())

    @cached_property
    def completions(self) -> CompletionService:
        from .completions import CompletionService

        return CompletionService(self.store, self.config, lambda: self.gateway)

    @cached_property
    def experiments(self) -> ExperimentService:
        from .experiments import ExperimentService

        return ExperimentService(self.store, self.config, lambda: self.gateway)

    @cached_property
    def feedback(self) -> FeedbackService:
        from .feedback import FeedbackService

        return FeedbackService(self.store, self.config)

    @cached_property
    def portability(self) -> PortabilityService:
        from .portability import PortabilityService

        return PortabilityService(self.store, self.config)

    @cached_property
    def artifacts(self) -> ArtifactStore:
        """The artifact store of ``artifacts_url`` (a local folder by default, or S3)."""
        from ..artifacts import open_artifact_store

        return open_artifact_store(
            self.config.artifacts_url,
            endpoint_url=self.config.s3_endpoint_url or None,
            region=self.config.s3_region or None,
        )

    @cached_property
    def executor(self) -> Executor:
        """The executor of ``executor_class`` (workers are started by the server or CLI)."""
        return self.config.executor_class(self)

    @cached_property
    def jobs(self) -> JobService:
        from .jobs import JobService

        return JobService(self.store, self.config, lambda: self.executor, lambda: self.artifacts)

    @cached_property
    def schedules(self) -> ScheduleService:
        from .schedules import ScheduleService

        return ScheduleService(self.store, self.config, self.jobs)

    def close(self) -> None:
        if "gateway" in self.__dict__:
            self.gateway.close()
        self.store.close()
