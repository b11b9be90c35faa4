"""What every area's queries share: the transactions, the dialect and the project look-ups.

Each area's mixin (``catalog/``, ``experiments/``, ``jobs/``) subclasses :class:`Queries`;
:class:`~.sql_store.SQLStore` composes them and opens the engine.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..exceptions import InvalidInput, NotFound
from .engine import Transactions
from .orm.catalog import ProjectRow

# Statements of the hottest reads, built once (bound parameters): building a select() costs
# more than running it on SQLite. Executed on the session's connection (Core, no ORM layer).
_PROJECT_ID = select(ProjectRow.id).where(ProjectRow.slug == bindparam("slug"))


class Queries:
    """Base of the store's query mixins."""

    tx: Transactions

    @property
    def dialect(self) -> str:
        return self.tx.dialect

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
