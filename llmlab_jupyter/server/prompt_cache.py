"""Serve the hottest prompt reads from memory, and never from a stale copy.

The sidebar, ``Lab(url=...)`` and every batch job that resolves ``name@production`` read the
prompt catalogue far more often than anyone changes it. The server keeps, per project, a copy
of the catalogue with every response already serialised: the prompt list (sorted, searched,
filtered by label and paged in memory), each prompt, and each version. The copy is tagged with
the project's ``(id, generation)`` key (see ``store/catalog/generations.py``): database
triggers move the generation on in every transaction that changes the project's prompts,
versions, labels or members, whichever process writes. Each request reads the key (one
indexed row) and uses the copy only when the key still matches, so a request never sees
older data than the database would have given it at that moment.

When the copy is missing or stale, the request takes the ordinary path (services, database)
and a rebuild is queued on a background thread; requests keep taking the ordinary path until
it is ready. Anything the copy cannot answer exactly -- an unknown name, a caller without a
role, a value the service would reject, a search string or catalogue that is not ASCII (SQL's
case folding differs between databases there) -- also takes the ordinary path, which gives
the same answer or error as without the cache.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..services.prompts import SORTS
from ..store.catalog.generations import CatalogKey, CatalogProbe, CatalogSnapshot, catalog_snapshot
from .schemas.common import next_offset

if TYPE_CHECKING:
    from ..services.access import Caller
    from ..store.sql_store import SQLStore

log = logging.getLogger(__name__)

_SEPARATORS = ("\x00", "\x01")


@dataclass
class CatalogView:
    """One project's catalogue as of ``key``, with its responses serialised (JSON bytes)."""

    key: CatalogKey
    roles: dict[str, str]  # user -> role
    group_roles: dict[str, str]  # Hub group -> role
    items: list[bytes]  # the serialised prompts, in the database's name order
    labels: list[dict[str, int]]
    latest: list[int]
    index: dict[str, int]
    versions: dict[tuple[str, int], bytes] | None
    orders: dict[str, list[int]]
    haystack: str | None  # lower-cased "name\x01description" entries joined by "\x00"
    starts: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # the same entries, one per prompt
    trigrams: dict[str, list[int]] | None = None  # trigram -> indexes whose text has it
    _label_cache: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    @classmethod
    def build(cls, snap: CatalogSnapshot) -> CatalogView:
        prompts = snap.prompts
        names = [p.name for p in prompts]
        n = len(prompts)
        stamps = [p.updated_at for p in prompts]
        by_updated = sorted(range(n), key=lambda i: (stamps[i], i))
        orders = {
            "name": list(range(n)),
            "-name": list(range(n - 1, -1, -1)),
            "updated_at": by_updated,
            # newest first; equal times stay in name order, as ORDER BY updated_at DESC, name
            "-updated_at": sorted(range(n), key=lambda i: (stamps[i], -i), reverse=True),
        }
        texts = [f"{p.name}\x01{p.description}" for p in prompts]
        haystack: str | None = None
        starts: list[int] = []
        if all(t.isascii() and "\x00" not in t for t in texts):
            pos = 0
            for t in texts:
                starts.append(pos)
                pos += len(t) + 1
            texts = [t.lower() for t in texts]
            haystack = "\x00".join(texts)
        else:
            texts = []
        trigrams = None
        if haystack is not None and len(haystack) <= TRIGRAM_MAX_CHARS:
            trigrams = _trigram_index(texts)
        versions = None
        if snap.versions is not None:
            versions = {(v.prompt, v.number): v.model_dump_json().encode() for v in snap.versions}
        return cls(
            key=snap.key,
            roles=snap.roles,
            group_roles=snap.group_roles,
            items=[p.model_dump_json().encode() for p in prompts],
            labels=[p.labels for p in prompts],
            latest=[p.latest_version for p in prompts],
            index={name: i for i, name in enumerate(names)},
            versions=versions,
            orders=orders,
            haystack=haystack,
            starts=starts,
            texts=texts,
            trigrams=trigrams,
        )

    def can_read(self, caller: Caller) -> bool:
        """Whether ``caller`` has a role here (every role may read), by the services' rule:
        their own, their Hub groups', or a Hub admin's."""
        return caller.role_in(self.roles, self.group_roles) is not None

    def prompt(self, name: str) -> bytes | None:
        i = self.index.get(name)
        return None if i is None else self.items[i]

    def version(self, name: str, number: int) -> bytes | None:
        return None if self.versions is None else self.versions.get((name, number))

    def resolve(
        self, name: str, *, version: int | None, label: str | None, fallback_to_latest: bool
    ) -> bytes | None:
        """The version ``PromptService.get`` would return, or ``None`` to let it answer."""
        i = self.index.get(name)
        if i is None or (version is not None and label is not None):
            return None
        if version is not None:
            return self.version(name, version)
        number = self.labels[i].get(label or "production")
        if number is None and label is None and fallback_to_latest:
            number = self.latest[i]
        return None if number is None else self.version(name, number)

    def page(
        self, *, sort: str, search: str | None, label: str | None, limit: int, offset: int
    ) -> bytes | None:
        """The ``ListPromptsResponse`` body, or ``None`` when the copy cannot answer exactly."""
        if sort not in SORTS:
            return None
        if search:
            # in name order already: with no other filter, the first offset + limit will do
            enough = offset + limit if sort == "name" and label is None else None
            found = self._search(search, enough)
            if found is None:
                return None
            if label is not None:
                found = [i for i in found if label in self.labels[i]]
            if sort != "name":
                rank = {i: r for r, i in enumerate(self.orders[sort])}
                found.sort(key=rank.__getitem__)
            chosen = found[offset : offset + limit]
        elif label is not None:
            chosen = self._labelled(label, sort)[offset : offset + limit]
        else:
            chosen = self.orders[sort][offset : offset + limit]
        nxt = next_offset(offset, limit, len(chosen))
        return b"".join(
            (
                b'{"items":[',
                b",".join(self.items[i] for i in chosen),
                b'],"next_offset":',
                b"null" if nxt is None else str(nxt).encode(),
                b"}",
            )
        )

    def _labelled(self, label: str, sort: str) -> list[int]:
        hit = self._label_cache.get((label, sort))
        if hit is None:
            hit = [i for i in self.orders[sort] if label in self.labels[i]]
            if len(self._label_cache) < 256:
                self._label_cache[(label, sort)] = hit
        return hit

    def _search(self, needle: str, enough: int | None = None) -> list[int] | None:
        """Indexes (name order) whose name or description contains ``needle``, ignoring
        ASCII case, as SQL's ``lower(x) LIKE '%needle%'``; ``None`` when not exactly so.
        Stops after ``enough`` matches when given."""
        hay = self.haystack
        if hay is None or not needle.isascii() or any(c in needle for c in _SEPARATORS):
            return None
        needle = needle.lower()
        if self.trigrams is not None and len(needle) >= 3:
            return self._search_trigrams(needle, enough)
        found: list[int] = []
        starts, n = self.starts, len(self.starts)
        pos = hay.find(needle)
        while pos >= 0:
            i = bisect.bisect_right(starts, pos) - 1
            found.append(i)
            if i + 1 >= n or (enough is not None and len(found) >= enough):
                break
            pos = hay.find(needle, starts[i + 1])
        return found

    def _search_trigrams(self, needle: str, enough: int | None) -> list[int]:
        """The prompts having the needle's rarest trigram, in name order, each checked by a
        substring test (stopping after ``enough`` matches)."""
        assert self.trigrams is not None
        grams = {needle[k : k + 3] for k in range(len(needle) - 2)}
        rarest = min((self.trigrams.get(g, []) for g in grams), key=len)
        found = []
        texts = self.texts
        for i in rarest:  # ascending: built in name order
            if needle in texts[i]:
                found.append(i)
                if enough is not None and len(found) >= enough:
                    break
        return found


#: a trigram index is built when the lower-cased names and descriptions total at most this
TRIGRAM_MAX_CHARS = 500_000


def _trigram_index(texts: list[str]) -> dict[str, list[int]]:
    index: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        for gram in {text[k : k + 3] for k in range(len(text) - 2)}:
            index.setdefault(gram, []).append(i)
    return index


class PromptCatalogCache:
    """The views of the projects recently read, checked against the database on every use.

    :meth:`current` runs on the server's event loop (one short indexed query); rebuilds run on
    one background thread, and a project is rebuilt again only ``min_rebuild_interval_s`` (or
    twice its last build time) after its last build, so a stream of writes does not keep the
    server rebuilding: reads go to the database meanwhile. At most ``max_projects`` views are
    kept (the oldest go first); a project with more than ``max_versions`` versions is not
    copied at all.
    """

    def __init__(
        self,
        store: SQLStore,
        *,
        max_versions: int,
        max_projects: int = 8,
        min_rebuild_interval_s: float = 0.5,
        probe: CatalogProbe | None = None,
    ) -> None:
        self.store = store
        self.min_rebuild_interval_s = min_rebuild_interval_s
        self.max_versions = max_versions
        self.max_projects = max_projects
        self._owns_probe = probe is None  # else shared with others on the same loop
        self._probe = probe if probe is not None else CatalogProbe(store.engine)
        self._views: dict[str, CatalogView] = {}
        self._building: set[str] = set()
        self._too_big: dict[str, CatalogKey] = {}
        self._rest: dict[str, float] = {}  # no rebuild of the project before this time
        self._lock = threading.Lock()
        self._builder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llmlab-catalog")
        self.builds = 0  # views built
        self.served = 0  # responses answered from a view

    async def current(self, project: str) -> CatalogView | None:
        """The view of ``project`` if it is current now; else ``None`` (and a rebuild queued)."""
        found = await self._probe.read(project)
        if found is None:
            return None
        key = found[:2]
        view = self._views.get(project)
        if view is not None and view.key == key:
            return view
        if self._too_big.get(project) != key and time.monotonic() >= self._rest.get(project, 0):
            self._schedule(project)
        return None

    def _schedule(self, project: str) -> None:
        with self._lock:
            if project in self._building:
                return
            self._building.add(project)
        try:
            self._builder.submit(self._build, project)
        except RuntimeError:  # shut down
            with self._lock:
                self._building.discard(project)

    def _build(self, project: str) -> None:
        started = time.monotonic()
        try:
            snap = catalog_snapshot(self.store.tx, project, self.max_versions)
            if snap is None:
                self._views.pop(project, None)
                return
            if snap.versions is None:
                self._too_big[project] = snap.key
                self._views.pop(project, None)
                return
            view = CatalogView.build(snap)
            self.builds += 1
            with self._lock:
                self._views.pop(project, None)
                self._views[project] = view
                while len(self._views) > self.max_projects:
                    self._views.pop(next(iter(self._views)))
        except Exception:  # a failed rebuild only means the ordinary path keeps serving
            log.exception("llmlab: rebuilding the prompt catalogue of %r failed", project)
        finally:
            # while writes keep coming, rebuild at most about a third of the time
            took = time.monotonic() - started
            self._rest[project] = time.monotonic() + max(self.min_rebuild_interval_s, 2 * took)
            with self._lock:
                self._building.discard(project)

    def warm(self, project: str) -> None:
        """Build the view of ``project`` now (in the background), before anyone asks."""
        self._schedule(project)

    def close(self) -> None:
        """Stop building (waits for a build under way) and forget every view."""
        self._builder.shutdown(wait=True, cancel_futures=True)
        if self._owns_probe:
            self._probe.close()
        self._views.clear()
