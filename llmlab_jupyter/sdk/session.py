"""What every part of the SDK works with: the services, the caller, the project, the config.

``Lab`` is one; the parts (prompts, experiments, charts, compare) are written against this
protocol, so they never import ``Lab`` and ``Lab`` can import them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..config import LlmLabConfig
    from ..models import Experiment
    from ..services import Caller, Services


class Session(Protocol):
    """The services (in-process or over HTTP) a notebook uses, as whom and in which project."""

    services: Services
    caller: Caller
    project: str
    config: LlmLabConfig


class ExperimentHandle(Protocol):
    """A stored experiment that can read its latest state (``ExperimentRun`` is one)."""

    def refresh(self) -> Experiment: ...
