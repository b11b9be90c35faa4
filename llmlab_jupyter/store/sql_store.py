"""SQLStore: every query of the domain, in short transactions.

The services validate input and check permissions; the store keeps the
invariants that need the database: contiguous version numbers under
concurrency (the parent row is locked with ``FOR UPDATE`` on PostgreSQL;
SQLite writes start with ``BEGIN IMMEDIATE``), idempotent saves (same content
hash as the latest version returns it), and a history row for every label move.

:class:`SQLStore` is a facade composed of one mixin of queries per resource, grouped by area
(``catalog/``, ``experiments/``, ``jobs/``); it opens the engine and the transactions. What
every mixin shares (the project look-ups, read pinning) is :class:`~.queries.Queries`.
"""

from __future__ import annotations

from sqlalchemy import Engine

from .catalog.datasets import DatasetQueries
from .catalog.labels import LabelQueries
from .catalog.projects import ProjectQueries
from .catalog.prompts import PromptQueries
from .engine import Transactions, ensure_schema, make_engine, upgrade
from .experiments.aggregates import AggregateQueries
from .experiments.feedback import FeedbackQueries
from .experiments.plans import ExperimentQueries
from .experiments.results import ResultQueries
from .experiments.runs import ExperimentRunQueries
from .experiments.summaries import SummaryQueries
from .jobs.dispatch import JobDispatchQueries
from .jobs.leases import JobLeaseQueries
from .jobs.queue import JobQueries
from .jobs.schedules import ScheduleQueries
from .metrics import MetricQueries


class SQLStore(
    ProjectQueries,
    PromptQueries,
    LabelQueries,  # after PromptQueries, whose _prompt it uses
    DatasetQueries,
    ExperimentQueries,
    ExperimentRunQueries,  # after ExperimentQueries, whose _experiment_row it uses
    ResultQueries,
    AggregateQueries,
    FeedbackQueries,
    JobQueries,
    JobLeaseQueries,
    JobDispatchQueries,
    ScheduleQueries,
    MetricQueries,
    SummaryQueries,
):
    """The store over SQLAlchemy (SQLite or PostgreSQL)."""

    def __init__(self, url: str, *, auto_migrate: bool = True, check_schema: bool = True) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self.tx = Transactions(self.engine)
        if check_schema:
            ensure_schema(self.engine, auto_migrate=auto_migrate)

    def upgrade(self, revision: str = "head") -> None:
        """Apply Alembic migrations up to ``revision``."""
        upgrade(self.engine, revision)

    def close(self) -> None:
        self.engine.dispose()
