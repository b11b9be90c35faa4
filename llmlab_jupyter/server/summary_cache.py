"""Finished experiments' summaries, kept serialised and answered from memory while current.

A summary is a function of the experiment's row, its results and scores, the feedback on them
and who may read the project. Database triggers move the project's ``results_generation``
with every change to its experiments or feedback, and its catalogue ``generation`` with every
change to its members (migrations 0008 and 0009); results and scores are only written in the
same transaction as an update of their experiment's row. So a summary body tagged with the
project's :data:`~llmlab_jupyter.store.catalog.generations.Generations` read *before* it was
computed is current for as long as a one-row read returns the same three numbers.

Only finished experiments' summaries are kept (a running one changes with every batch), and
an entry answers only the callers the service already let read it at those generations, so a
non-member or a removed member always takes the service's path (and gets its 404). A caller
is the whole identity -- user name, Hub groups and admin flag -- so a user whose groups or
admin flag changed on the Hub (which moves no generation) is checked by the service again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..services.access import Caller
    from ..store.catalog.generations import CatalogProbe, Generations

#: what a summary depends on besides the project: the route and its parameters
SummaryKey = tuple[Any, ...]


@dataclass
class _Entry:
    generations: Generations
    body: bytes
    readers: set[Caller] = field(default_factory=set)


class SummaryCache:
    """Serialised summaries of finished experiments (at most ``max_entries``, least recently
    used go first), each tagged with the generations it was computed at.

    :meth:`get` runs on the server's event loop (one short indexed read through ``probe``,
    which the loop does not wait for on PostgreSQL);
    :meth:`put` is called from the request threads.
    """

    def __init__(self, probe: CatalogProbe, *, max_entries: int = 256) -> None:
        self.probe = probe
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, SummaryKey], _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.served = 0  # responses answered from memory
        self.stored = 0  # bodies kept

    async def get(self, project: str, key: SummaryKey, caller: Caller) -> bytes | None:
        """The body for ``caller`` if it is current now; ``None`` (compute it) otherwise."""
        entry = self._entries.get((project, key))
        if entry is None or caller not in entry.readers:
            return None
        if await self.probe.read(project) != entry.generations:
            return None
        with self._lock:
            if (project, key) in self._entries:
                self._entries.move_to_end((project, key))
        self.served += 1
        return entry.body

    def put(
        self, project: str, key: SummaryKey, generations: Generations, caller: Caller, body: bytes
    ) -> None:
        """Keep ``body``, computed for ``caller`` from data read after ``generations``."""
        with self._lock:
            entry = self._entries.get((project, key))
            if entry is not None and entry.generations == generations:
                entry.readers.add(caller)  # the service let one more caller read it
                return
            if entry is not None and entry.generations[1:] > generations[1:]:
                return  # a newer body is already kept: never replace it with an older one
            self._entries[(project, key)] = _Entry(generations, body, {caller})
            self._entries.move_to_end((project, key))
            self.stored += 1
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
