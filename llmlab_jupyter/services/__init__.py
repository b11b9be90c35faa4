"""The one service layer: handlers, SDK, CLI, widgets and jobs all call these."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from .access import Caller

if TYPE_CHECKING:
    from ..config import LlmLabConfig
    from ..gateway.gateway import Gateway
    from ..store.sql_store import SQLStore
    from .datasets import DatasetService
    from .experiments import ExperimentService
    from .portability import PortabilityService
    from .projects import ProjectService
    from .prompts import PromptService

__all__ = ["Caller", "Services"]


class Services:
    """All services over one store, one gateway and one configuration."""

    def __init__(self, store: SQLStore, config: LlmLabConfig) -> None:
        self.store = store
        self.config = config

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
    def experiments(self) -> ExperimentService:
        from .experiments import ExperimentService

        return ExperimentService(self.store, self.config, lambda: self.gateway)

    @cached_property
    def portability(self) -> PortabilityService:
        from .portability import PortabilityService

        return PortabilityService(self.store, self.config)

    def close(self) -> None:
        if "gateway" in self.__dict__:
            self.gateway.close()
        self.store.close()
