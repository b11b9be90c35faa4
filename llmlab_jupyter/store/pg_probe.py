"""The generations check on PostgreSQL, straight on libpq (the only psycopg importer).

Two ways to read the ``catalog_generations`` row of a project on a connection of one's own:

* :func:`prepared_read` blocks for one round trip (a statement prepared once; a third of a
  cursor's CPU per call);
* :class:`BatchedReads` never blocks the event loop: a read sends the query and waits for the
  socket, and every read asked for while one is in flight is answered by the *next* query,
  which names all their projects at once. That query starts after each of them was asked, so
  each sees every commit made before it asked; and there is at most one round trip in flight
  however many requests arrive.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from psycopg import pq

log = logging.getLogger(__name__)

Row = tuple[int, int, int]


def _setup(conn: Any, name: bytes, sql: str) -> Any:
    """Autocommit (each read sees the latest commit), a 2 s statement timeout, ``sql``
    prepared as ``name``; the libpq connection."""
    conn.autocommit = True
    conn.execute("SET statement_timeout = 2000")
    pgconn = conn.pgconn
    done = pgconn.prepare(name, sql.encode())
    if done.status != pq.ExecStatus.COMMAND_OK:
        raise RuntimeError(done.error_message.decode(errors="replace"))
    return pgconn


def prepared_read(conn: Any, sql: str) -> Callable[[str], list[Any]]:
    """``read(project)``: the rows of ``sql`` (one ``$1`` parameter), one blocking round trip."""
    name = b"llmlab_catalog_key"
    pgconn = _setup(conn, name, sql)

    def read(project: str) -> list[Any]:
        res = pgconn.exec_prepared(name, [project.encode()])
        if res.status != pq.ExecStatus.TUPLES_OK:
            raise RuntimeError(res.error_message.decode(errors="replace"))
        return [tuple(res.get_value(i, c) for c in range(3)) for i in range(res.ntuples)]

    return read


def _text_array(values: set[str]) -> bytes:
    """A PostgreSQL ``text[]`` literal of ``values``, each quoted."""
    quoted = (v.replace("\\", "\\\\").replace('"', '\\"') for v in sorted(values))
    return ("{" + ",".join(f'"{v}"' for v in quoted) + "}").encode()


@dataclass
class _Batch:
    future: asyncio.Future[dict[str, Row] | None]
    projects: set[str] = field(default_factory=set)


class BatchedReads:
    """Reads of ``(project id, generation, results generation)`` by project slug, batched as
    the module docstring says. ``sql`` selects slug, id and the two counters for the slugs in
    ``$1`` (a ``text[]``). A failure or a reply slower than ``timeout_s`` closes the
    connection and answers ``None`` to every waiting read; no new connection is dialled for
    ``retry_after_s``. For one event loop."""

    _NAME = b"llmlab_catalog_keys"

    def __init__(
        self,
        connect: Callable[[], Any],
        sql: str,
        *,
        retry_after_s: float = 5.0,
        timeout_s: float = 3.0,
    ) -> None:
        self._connect = connect
        self._sql = sql
        self.retry_after_s = retry_after_s
        self.timeout_s = timeout_s
        self._conn: Any = None
        self._pg: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._current: _Batch | None = None
        self._next: _Batch | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._failed_at = float("-inf")
        self.queries = 0  # round trips made (each answers every read of its batch)

    async def read(self, project: str) -> Row | None:
        """The project's row as of a query sent after this call; ``None`` if there is no
        such project or no answer."""
        loop = asyncio.get_running_loop()
        if self._pg is None and loop.time() - self._failed_at < self.retry_after_s:
            return None  # failed a moment ago: do not dial the database on every request
        if self._next is None:
            self._next = _Batch(loop.create_future())
        batch = self._next
        batch.projects.add(project)
        if self._current is None:
            self._launch(loop)
        rows = await asyncio.shield(batch.future)  # one cancelled waiter cancels no other
        return None if rows is None else rows.get(project)

    def _launch(self, loop: asyncio.AbstractEventLoop) -> None:
        batch, self._next = self._next, None
        assert batch is not None
        self._current = batch
        try:
            if self._pg is None:
                self._open(loop)
            pg = self._pg
            pg.send_query_prepared(self._NAME, [_text_array(batch.projects)])
            if pg.flush() != 0:  # a few bytes: the socket buffer takes them at once
                raise RuntimeError("the query could not be sent in one go")
            loop.add_reader(pg.socket, self._on_readable)
            self._timer = loop.call_later(self.timeout_s, self._on_timeout)
            self.queries += 1
        except Exception as err:  # any failure: not known now, the reads take their path
            self._fail(err)

    def _open(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._conn = self._connect()
        self._pg = _setup(self._conn, self._NAME, self._sql)
        self._pg.nonblocking = 1

    def _on_readable(self) -> None:
        pg = self._pg
        try:
            pg.consume_input()
            if pg.is_busy():
                return  # the rest of the reply is still on its way
            rows: dict[str, Row] = {}
            while (res := pg.get_result()) is not None:
                if res.status != pq.ExecStatus.TUPLES_OK:
                    raise RuntimeError(res.error_message.decode(errors="replace"))
                for i in range(res.ntuples):
                    slug = res.get_value(i, 0).decode()
                    rows[slug] = (
                        int(res.get_value(i, 1)),
                        int(res.get_value(i, 2)),
                        int(res.get_value(i, 3)),
                    )
        except Exception as err:
            self._fail(err)
            return
        self._settle(rows)

    def _on_timeout(self) -> None:
        self._timer = None
        self._fail(TimeoutError(f"no reply within {self.timeout_s:g} s"))

    def _settle(self, rows: dict[str, Row] | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._loop is not None and self._pg is not None:
            self._loop.remove_reader(self._pg.socket)
        batch, self._current = self._current, None
        if batch is not None and not batch.future.done():
            batch.future.set_result(rows)
        if self._next is not None and self._loop is not None:
            self._launch(self._loop)

    def _fail(self, err: BaseException) -> None:
        log.warning("llmlab: generations check failed (%s); reads take the database path", err)
        if self._loop is not None:
            self._failed_at = self._loop.time()
        self._abort()

    def _abort(self) -> None:
        """Close the connection; the batch in flight and the one waiting get ``None``."""
        self._drop()
        waiting, self._next = self._next, None
        self._settle(None)
        if waiting is not None and not waiting.future.done():
            waiting.future.set_result(None)

    def _drop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._loop is not None and self._pg is not None:
            try:
                self._loop.remove_reader(self._pg.socket)
            except Exception:  # the socket is already gone
                log.debug("llmlab: removing the probe reader failed", exc_info=True)
        conn, self._conn, self._pg = self._conn, None, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # already broken
                log.debug("llmlab: closing the probe connection failed", exc_info=True)

    def close(self) -> None:
        """Close the connection; reads waiting get ``None``."""
        self._abort()
