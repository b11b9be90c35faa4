"""Engine creation, transactions and migrations for SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session

from ..exceptions import InvalidInput, LlmLabError

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class SchemaOutOfDate(LlmLabError):
    """The database schema is older than this package; run ``llmlab db upgrade``."""

    error_code = "schema_out_of_date"


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs."""
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise InvalidInput(
            "database_url is not a valid database URL", field="database_url"
        ) from err
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """Create an engine: SQLite gets WAL, foreign keys and ``BEGIN IMMEDIATE`` for writes.

    The pool keeps ``pool_size`` connections and opens up to as many more under load: enough
    for the server's request threads (``LlmLabApp.api_threads``, 8 by default), background
    experiment runs and job workers, each of which holds one connection at a time.
    """
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": 60, "check_same_thread": False},
            pool_pre_ping=False,
            **(
                {"pool_size": pool_size, "max_overflow": pool_size}
                if parsed.database and parsed.database != ":memory:"
                else {}
            ),
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            write = conn.get_execution_options().get("llmlab_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size)
    _ping_when_idle(engine)
    return engine


#: A pooled connection idle for longer than this is checked before use (a server restart or a
#: dropped TCP connection is noticed then, not by a failed query).
PING_AFTER_IDLE_S = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Pessimistic disconnect handling without a round trip on every checkout.

    ``pool_pre_ping`` would ping before every use: one extra round trip per request. Here a
    connection is pinged only when it has been idle in the pool for ``PING_AFTER_IDLE_S``; a
    dead one raises ``DisconnectionError``, so the pool discards it and connects anew.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["llmlab_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("llmlab_idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception as err:
            raise exc.DisconnectionError("pooled connection is gone") from err
        if not alive:
            raise exc.DisconnectionError("pooled connection is gone")


class Transactions:
    """Read and write units of work over one engine.

    :meth:`pinned` makes every :meth:`read` of the current thread share one connection and
    one read transaction until the block ends: a service checks the caller's role and fetches
    the record with one pool checkout and one ``BEGIN``/``COMMIT`` instead of two.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._local = threading.local()

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """Share one read transaction among the reads of this block (reads only; nestable)."""
        if getattr(self._local, "session", None) is not None:
            yield
            return
        with self.engine.connect() as conn, conn.begin(), Session(bind=conn) as session:
            self._local.session = session
            try:
                yield
            finally:
                self._local.session = None

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any error."""
        if getattr(self._local, "session", None) is not None:
            # a pinned SQLite snapshot would not see this write: pinned blocks only read
            raise RuntimeError("a write inside Transactions.pinned() (reads only)")
        with (
            self.engine.connect().execution_options(llmlab_write=True) as conn,
            conn.begin(),
            Session(bind=conn, expire_on_commit=False, autoflush=True) as session,
        ):
            yield session
            session.flush()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work (the pinned one when inside :meth:`pinned`)."""
        session = getattr(self._local, "session", None)
        if session is not None:
            yield session
            return
        with self.engine.connect() as conn, conn.begin(), Session(bind=conn) as session:
            yield session


def alembic_config(connection: Any = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` inside one transaction."""
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def downgrade_to(engine: Engine, revision: str) -> None:
    """Revert migrations down to ``revision`` inside one transaction (``llmlab db`` and tests)."""
    from alembic import command

    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def ensure_schema(engine: Engine, *, auto_migrate: bool) -> None:
    """Upgrade an embedded SQLite database, or check that another one is current."""
    try:
        current = current_revision(engine)
    except OperationalError as err:
        raise LlmLabError(f"cannot open the database: {err.orig}") from err
    head = head_revision()
    if current == head:
        return
    if auto_migrate and engine.dialect.name == "sqlite":
        log.info("upgrading the llmlab database schema from %s to %s", current, head)
        upgrade(engine)
        return
    raise SchemaOutOfDate(
        f"the database schema is at revision {current or 'none'} but this version of "
        f"llmlab-jupyter needs {head}; run `llmlab db upgrade`"
    )
