"""Base class of the services: the store, access checks and paging rules."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..exceptions import InvalidInput
from .access import Access, Action, Caller

if TYPE_CHECKING:
    from ..config import LlmLabConfig
    from ..store.sql_store import SQLStore


class Service:
    def __init__(self, store: SQLStore, config: LlmLabConfig) -> None:
        self.store = store
        self.config = config
        self.access = Access(store)

    def page(self, limit: int, offset: int) -> None:
        """Reject a page request beyond the configured cap."""
        cap = self.config.max_page_size
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= cap:
            raise InvalidInput(f"limit must be an integer between 1 and {cap}", field="limit")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidInput("offset must be a non-negative integer", field="offset")

    @contextmanager
    def reading(self, caller: Caller, project: str, action: Action = "read") -> Iterator[str]:
        """Check access, then read, in one database transaction; yields the caller's role.

        Only store reads may happen inside (see :meth:`SQLStore.reading`).
        """
        with self.store.reading():
            yield self.access.require(caller, project, action)
