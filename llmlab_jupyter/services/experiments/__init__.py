"""Experiments: plan (dataset × variants × scorers), run, resume, results and summaries.

:class:`ExperimentService` is a facade composed of the parts in this package: plans
(:mod:`.plans`), summaries (:mod:`.summaries`), runs (:mod:`.runs`) and results (:mod:`.results`).
"""

from __future__ import annotations

from .results import ExperimentResults
from .runs import ExperimentRuns

__all__ = ["ExperimentService"]


class ExperimentService(ExperimentRuns, ExperimentResults):
    """Runs prompt × model × dataset experiments through the gateway."""
