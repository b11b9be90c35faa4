"""SQLStore: every query of the domain, in short transactions.

The services validate input and check permissions; the store keeps the
invariants that need the database: contiguous version numbers under
concurrency (the parent row is locked with ``FOR UPDATE`` on PostgreSQL;
SQLite writes start with ``BEGIN IMMEDIATE``), idempotent saves (same content
hash as the latest version returns it), and a history row for every label move.

:class:`SQLStore` is a facade composed of one mixin of queries per area (``projects_store``,
``prompts_store``, ``labels_store``, ``datasets_store``, ``experiments_store``, ...); it
owns the engine and the transactions, and the project look-ups every area shares.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.orm import Session

from ..exceptions import InvalidInput, NotFound
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
from .orm.catalog import ProjectRow

# Statements of the hottest reads, built once (bound parameters): building a select() costs
# more than running it on SQLite. Executed on the session's connection (Core, no ORM layer).
_PROJECT_ID = select(ProjectRow.id).where(ProjectRow.slug == bindparam("slug"))


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

    @property
    def dialect(self) -> str:
        return self.tx.dialect

    def upgrade(self, revision: str = "head") -> None:
        """Apply Alembic migrations up to ``revision``."""
        upgrade(self.engine, revision)

    def close(self) -> None:
        self.engine.dispose()

    # -- helpers ---------------------------------------------------------------------------
    def reading(self) -> AbstractContextManager[None]:
        """Share one connection and read transaction among the store reads of this block.

        For a service's read operations: the role check and the fetch cost one pool checkout
        and one transaction. Reads only (a write inside raises ``RuntimeError``).
        """
        return self.tx.pinned()

    @staticmethod
    def _project(s: Session, slug: str) -> ProjectRow:
        cache = s.info.setdefault("llmlab_projects", {})
        row = cache.get(slug)
        if row is None:
            row = s.scalars(select(ProjectRow).where(ProjectRow.slug == slug)).first()
            if row is None:
                raise NotFound(f"project {slug!r} not found", field="project")
            cache[slug] = row
        return row

    @staticmethod
    def _project_id(s: Session, slug: str) -> int:
        """The id of project ``slug`` (remembered for the rest of the session)."""
        ids = s.info.setdefault("llmlab_project_ids", {})
        if slug not in ids:
            found = s.connection().execute(_PROJECT_ID, {"slug": slug}).scalar()
            if found is None:
                raise NotFound(f"project {slug!r} not found", field="project")
            ids[slug] = found
        return int(ids[slug])

    def check_page(self, limit: int, offset: int, cap: int) -> None:
        if limit < 1 or limit > cap:
            raise InvalidInput(f"limit must be between 1 and {cap}", field="limit")
        if offset < 0:
            raise InvalidInput("offset must not be negative", field="offset")
