"""A private PostgreSQL cluster with password (SCRAM) authentication, for the service's DB.

The machine's shared PostgreSQL trusts every local connection, so a password there would
prove nothing; this cluster refuses any connection without the canary password. As root,
``initdb`` and ``postgres`` run as the ``postgres`` OS user (they refuse root), in a
directory of their own under /tmp (pytest's tmp dirs are not traversable by that user).
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import tempfile
from pathlib import Path

from .procs import free_port, run

DB_USER = "llmlab"
DB_NAME = "llmlab"


def find_bin(name: str) -> str | None:
    """``/usr/lib/postgresql/<newest>/bin/<name>``, or on PATH."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


class PrivatePostgres:
    """``initdb --auth=scram-sha-256`` + ``pg_ctl start`` on a free loopback port."""

    def __init__(self) -> None:
        self.initdb, self.pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
        self.pg_dump = find_bin("pg_dump")
        self.password = "pg-canary-" + secrets.token_hex(12)
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="llmlab-hubpg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self._as_root = os.geteuid() == 0
        self.started = False

    def _as_owner(self, *command: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *command] if self._as_root else list(command)

    def start(self) -> PrivatePostgres:
        assert self.initdb and self.pg_ctl
        pwfile = self.dir / "pwfile"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        if self._as_root:
            shutil.chown(self.dir, "postgres", "postgres")
            shutil.chown(pwfile, "postgres", "postgres")
        self.dir.chmod(0o700)
        try:
            run(
                self._as_owner(
                    self.initdb,
                    "-D",
                    str(self.data),
                    "-U",
                    DB_USER,
                    "--auth=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "--encoding=UTF8",
                    "--no-instructions",
                )
            )
        finally:
            pwfile.unlink(missing_ok=True)  # the canary lives only in this process now
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        run(
            self._as_owner(
                self.pg_ctl, "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
            )
        )
        self.started = True
        import psycopg

        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DB_NAME}")
        return self

    def dsn(self, dbname: str = DB_NAME, password: str | None = None) -> str:
        """A libpq connection string (``password`` defaults to the real one)."""
        secret = self.password if password is None else password
        return (
            f"host=127.0.0.1 port={self.port} user={DB_USER} dbname={dbname} "
            f"password='{secret}' connect_timeout=5"
        )

    @property
    def url(self) -> str:
        """The SQLAlchemy URL the llmlab service gets (LLMLAB_DATABASE_URL)."""
        return f"postgresql+psycopg://{DB_USER}:{self.password}@127.0.0.1:{self.port}/{DB_NAME}"

    def dump_data(self) -> str:
        """``pg_dump --data-only`` of the llmlab database, as text."""
        assert self.pg_dump
        env = {"PGPASSWORD": self.password, "PATH": os.environ.get("PATH", "")}
        command = [self.pg_dump, "--data-only", "-h", "127.0.0.1", "-p", str(self.port)]
        return run([*command, "-U", DB_USER, DB_NAME], env=env).stdout

    def stop(self) -> None:
        if self.started and self.pg_ctl:
            run(self._as_owner(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"))
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)
