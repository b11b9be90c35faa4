"""A project's whole prompt catalogue in one read, and the one-row check that it is current.

The ``catalog_generations`` counter (migration 0008) is moved on by database triggers whenever
a project's prompts, versions, labels or members (grants to users and to Hub groups alike:
one ``memberships`` table, migration 0010) change, in the writing transaction. A copy of the
catalogue tagged with the ``(project id, generation)`` it was read at is current for as long
as :meth:`CatalogProbe.key` returns the same pair. The same row's ``results_generation``
(migration 0009) moves with every change to the project's experiments or feedback: a cached
summary tagged with all three numbers (:meth:`CatalogProbe.generations`) is current while
they stay put.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import func, select, text

from ... import models
from .. import convert
from ..orm.catalog import LabelRow, MembershipRow, PromptRow, PromptVersionRow

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from ..engine import Transactions

log = logging.getLogger(__name__)
T = TypeVar("T")

CatalogKey = tuple[int, int]
#: ``(project id, catalogue generation, results generation)``
Generations = tuple[int, int, int]

_KEY_SQL = (
    "SELECT p.id, g.generation, g.results_generation FROM projects p "
    "JOIN catalog_generations g ON g.project_id = p.id WHERE p.slug = {mark}"
)
_KEY = text(_KEY_SQL.format(mark=":slug"))
#: PostgreSQL: the rows of several projects at once, by slug (:class:`pg_probe.BatchedReads`)
_BATCH_SQL = (
    "SELECT p.slug, p.id, g.generation, g.results_generation FROM projects p "
    "JOIN catalog_generations g ON g.project_id = p.id WHERE p.slug = ANY($1::text[])"
)


@dataclass(frozen=True)
class CatalogSnapshot:
    """A project's prompts as of ``key``: the roles granted to users (``roles``) and to Hub
    groups (``group_roles``), prompts in the database's name order (its collation), and every
    version unless there are more than the reader wanted."""

    key: CatalogKey
    roles: dict[str, str]
    group_roles: dict[str, str]
    prompts: list[models.Prompt]
    versions: list[models.PromptVersion] | None


def catalog_snapshot(tx: Transactions, project: str, max_versions: int) -> CatalogSnapshot | None:
    """Read the catalogue of ``project`` in one transaction; ``None`` if there is no project.

    The key is read first: anything read after it is at least as new, so a copy tagged with
    it is never newer than its tag claims (a change in between moves the counter past it).
    """
    with tx.read() as s:
        conn = s.connection()
        found = conn.execute(_KEY, {"slug": project}).first()
        if found is None:
            return None
        pid, generation = int(found[0]), int(found[1])
        roles: dict[str, str] = {}
        group_roles: dict[str, str] = {}
        for kind, name, role in conn.execute(
            select(MembershipRow.kind, MembershipRow.name, MembershipRow.role).where(
                MembershipRow.project_id == pid
            )
        ):
            (roles if kind == "user" else group_roles)[name] = role
        rows = list(
            _sharing_the_gil(
                conn.execute(
                    select(*PromptRow.__table__.c)
                    .where(PromptRow.project_id == pid)
                    .order_by(PromptRow.name)
                )
            )
        )
        labels: dict[int, dict[str, int]] = defaultdict(dict)
        for prompt_id, name, version in conn.execute(
            select(LabelRow.prompt_id, LabelRow.name, LabelRow.version)
            .join(PromptRow, PromptRow.id == LabelRow.prompt_id)
            .where(PromptRow.project_id == pid)
            .order_by(LabelRow.prompt_id, LabelRow.name)
        ):
            labels[prompt_id][name] = version
        prompts = [convert.prompt(r, project, labels.get(r.id, {})) for r in _sharing_the_gil(rows)]
        in_project = PromptVersionRow.prompt_id.in_(
            select(PromptRow.id).where(PromptRow.project_id == pid)
        )
        count = conn.execute(select(func.count()).where(in_project)).scalar() or 0
        versions: list[models.PromptVersion] | None = None
        if count <= max_versions:
            names = {r.id: r.name for r in rows}
            versions = []
            query = select(*PromptVersionRow.__table__.c).where(in_project)
            for v in _sharing_the_gil(conn.execute(query)):
                on = labels.get(v.prompt_id, {})
                here = [label for label, number in on.items() if number == v.number]
                versions.append(convert.prompt_version(v, project, names[v.prompt_id], here))
        return CatalogSnapshot((pid, generation), roles, group_roles, prompts, versions)


def generations_now(tx: Transactions, project: str) -> Generations | None:
    """The project's :data:`Generations` read now (any thread), or ``None`` if no project."""
    with tx.read() as s:
        found = s.connection().execute(_KEY, {"slug": project}).first()
    return None if found is None else (int(found[0]), int(found[1]), int(found[2]))


def _sharing_the_gil(items: Iterable[T], every: int = 100) -> Iterator[T]:
    """``items``, letting other threads take the GIL every ``every`` of them: a snapshot is
    read on a background thread, and a request thread back from its own database call must
    not wait a whole switch interval (5 ms) each time for the GIL. A real sleep (0.1 ms), not
    ``sleep(0)``, which would take the GIL straight back; about 30 ms per 20,000 rows."""
    for i, item in enumerate(items):
        if i % every == 0:
            time.sleep(0.0001)
        yield item


class CatalogProbe:
    """Reads a project's catalogue key on one raw connection of its own (one short query).

    Meant for one thread (the server's event loop). A database error closes the connection
    and answers ``None`` (the caller then takes its ordinary path); it reconnects at most
    once every ``retry_after_s`` so an unreachable database is not dialled on every request.

    :meth:`read` is the event loop's way: on SQLite it is :meth:`generations` (a local read of
    microseconds); on PostgreSQL the loop never waits for the round trip, and the reads asked
    for meanwhile share the next one (:class:`~llmlab_jupyter.store.pg_probe.BatchedReads`,
    on a second connection).
    """

    def __init__(self, engine: Engine, *, retry_after_s: float = 5.0) -> None:
        self.engine = engine
        self.retry_after_s = retry_after_s
        self._conn: Any = None
        self._read: Callable[[str], list[Any]] | None = None
        self._failed_at = float("-inf")
        self._owner: int | None = None
        self._batched: Any = None

    async def read(self, project: str) -> Generations | None:
        """:meth:`generations`, for a coroutine on the event loop (see the class docstring)."""
        if self.engine.dialect.name != "postgresql":
            return self.generations(project)
        if self._batched is None:
            from ..pg_probe import BatchedReads

            self._batched = BatchedReads(
                self._new_connection, _BATCH_SQL, retry_after_s=self.retry_after_s
            )
        found: Generations | None = await self._batched.read(project)
        return found

    def _new_connection(self) -> Any:
        fairy = self.engine.raw_connection()
        conn = fairy.driver_connection
        fairy.detach()  # its own connection from now on: never handed back to the pool
        return conn

    def key(self, project: str) -> CatalogKey | None:
        """``(project id, generation)`` now, or ``None`` (no such project, or no answer)."""
        found = self.generations(project)
        return None if found is None else found[:2]

    def generations(self, project: str) -> Generations | None:
        """The project's :data:`Generations` now, or ``None`` (no such project, or no
        answer)."""
        if self._owner is not None and self._owner != threading.get_ident():
            return None  # one connection, one thread
        if self._conn is None and time.monotonic() - self._failed_at < self.retry_after_s:
            return None  # failed a moment ago: do not dial the database on every request
        try:
            if self._read is None:
                self._connect()
            assert self._read is not None
            rows = self._read(project)
        except Exception as err:  # any failure: not known now, take the ordinary path
            self._drop(err)
            return None
        return (int(rows[0][0]), int(rows[0][1]), int(rows[0][2])) if rows else None

    def _connect(self) -> None:
        conn = self._new_connection()
        self._conn, self._owner = conn, threading.get_ident()
        if self.engine.dialect.name == "postgresql":
            from ..pg_probe import prepared_read

            self._read = prepared_read(conn, _KEY_SQL.format(mark="$1"))
            return
        sql = _KEY_SQL.format(mark=":slug")

        def read(project: str) -> list[Any]:
            cur = conn.cursor()
            try:
                cur.execute(sql, {"slug": project})
                return cur.fetchall()  # to the end: SQLite ends the read transaction there
            finally:
                cur.close()

        self._read = read

    def _drop(self, err: BaseException) -> None:
        log.warning("llmlab: catalogue check failed (%s); reads take the database path", err)
        self._failed_at = time.monotonic()
        self._close_blocking()

    def close(self) -> None:
        """Close the connections (the batched one from its event loop's thread only)."""
        if self._batched is not None:
            self._batched.close()
            self._batched = None
        self._close_blocking()

    def _close_blocking(self) -> None:
        conn, self._conn, self._owner, self._read = self._conn, None, None, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # already broken
                log.debug("llmlab: closing the probe connection failed", exc_info=True)
