"""``llmlab``: the command line over the same configuration and services as the SDK.

::

    llmlab db upgrade                       create or migrate the database schema
    llmlab prompts push greet greet.yaml -m "first"
    llmlab prompts label greet production 1
    llmlab datasets import news news.csv
    llmlab members add --group ml-team editor   a role for every member of a Hub group
    llmlab run -d news --prompt greet@1 --prompt greet@2 --model fake/echo --scorer exact_match
    llmlab export ./llmlab-project          the project as YAML/JSONL files (prompt-as-code)
    llmlab import ./llmlab-project

Global options come before the command: ``llmlab -p research --user ada prompts list``.
Errors of llmlab are printed as ``error: <message>`` with exit code 1 (usage errors: 2).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from .._version import __version__
from ..config import ENV_VARS, local_user_name
from ..exceptions import InvalidInput
from .experiments import experiments, run, usage
from .jobs import jobs, schedules, worker
from .members import members
from .prompts import prompts
from .serve import serve
from .support import (
    CliState,
    LlmLabGroup,
    database_errors,
    echo_json,
    pass_state,
    plural,
    table,
    when,
)

if TYPE_CHECKING:
    from ..services.portability import PortabilityService


@click.group(cls=LlmLabGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="llmlab")
@click.option(
    "--database-url",
    envvar=ENV_VARS["database_url"],
    metavar="URL",
    help="SQLAlchemy database URL [env: LLMLAB_DATABASE_URL; default: SQLite in the data dir].",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="Folder of the embedded database and artifacts [env: LLMLAB_DATA_DIR].",
)
@click.option(
    "-p",
    "--project",
    envvar=ENV_VARS["default_project"],
    default="default",
    show_default=True,
    help="Project to work in [env: LLMLAB_PROJECT].",
)
@click.option("--user", default=None, help="Act as this user [default: the OS account].")
@click.pass_context
def main(
    ctx: click.Context,
    database_url: str | None,
    data_dir: str | None,
    project: str,
    user: str | None,
) -> None:
    """LLM Lab: versioned prompts and datasets for JupyterLab, from the command line."""
    state = CliState(
        database_url=database_url or None,
        data_dir=data_dir,
        project=project,
        user=user or local_user_name(),
    )
    ctx.obj = state
    ctx.call_on_close(state.close)


main.add_command(prompts)
main.add_command(run)
main.add_command(experiments)
main.add_command(usage)
main.add_command(jobs)
main.add_command(schedules)
main.add_command(worker)
main.add_command(serve)
main.add_command(members)


# -- database --------------------------------------------------------------------------------
@main.group("db")
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@pass_state
def db_upgrade(state: CliState, revision: str) -> None:
    """Create the schema or migrate it to REVISION (works on an empty database)."""
    from ..store.engine import current_revision
    from ..store.sql_store import SQLStore

    with database_errors():
        store = SQLStore(state.config.database_url, check_schema=False)
        try:
            before = current_revision(store.engine)
            store.upgrade(revision)
            after = current_revision(store.engine)
        finally:
            store.close()
    if before == after:
        click.echo(f"database already at revision {after}")
    else:
        click.echo(f"database upgraded from {before or 'empty'} to revision {after}")


@db.command("current")
@pass_state
def db_current(state: CliState) -> None:
    """Print the current and the head revision of the schema."""
    from ..store.engine import current_revision, head_revision
    from ..store.sql_store import SQLStore

    with database_errors():
        store = SQLStore(state.config.database_url, check_schema=False)
        try:
            current = current_revision(store.engine)
        finally:
            store.close()
    head = head_revision()
    click.echo(f"current: {current or '(none)'}")
    click.echo(f"head:    {head}")
    click.echo("up to date" if current == head else "out of date: run `llmlab db upgrade`")


# -- datasets --------------------------------------------------------------------------------
@main.group("datasets")
def datasets() -> None:
    """Immutable, versioned datasets of the project."""


@datasets.command("import")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl", "parquet"]),
    help="Format of FILE (default: from its extension; required for stdin).",
)
@click.option("-m", "--message", default="", help="Commit message of the new version.")
@click.option("--description", help="Description of the dataset.")
@pass_state
def datasets_import(
    state: CliState, name: str, file: str, fmt: str | None, message: str, description: str | None
) -> None:
    """Import FILE (CSV, JSONL or Parquet; "-" reads stdin) as a new version of NAME."""
    source: object = file
    if file == "-":
        if fmt is None:
            raise InvalidInput("--format is required when reading standard input", field="format")
        source = sys.stdin.buffer.read()
    version, created = state.services(write=True).datasets.import_(
        state.caller,
        state.project,
        name,
        source,
        format=fmt,
        message=message,
        description=description,
    )
    if created:
        click.echo(
            f"created {version.ref} ({version.row_count} rows, {len(version.columns)} columns)"
        )
    else:
        click.echo(f"unchanged {version.ref} (identical content already stored)")


@datasets.command("list")
@click.option("--search", help="Only datasets whose name contains this.")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def datasets_list(state: CliState, search: str | None, limit: int, as_json: bool) -> None:
    """List the datasets of the project."""
    items = state.services().datasets.list(state.caller, state.project, search=search, limit=limit)
    if as_json:
        echo_json([d.model_dump(mode="json") for d in items])
        return
    if not items:
        click.echo(f"no datasets in project {state.project!r}")
        return
    rows = [[d.name, d.latest_version, when(d.updated_at), d.description] for d in items]
    click.echo(table(["NAME", "LATEST", "UPDATED", "DESCRIPTION"], rows))


@datasets.command("show")
@click.argument("ref", metavar="NAME[@VERSION]")
@click.option(
    "--rows",
    "limit",
    type=click.IntRange(0),
    default=5,
    show_default=True,
    help="How many rows to print.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def datasets_show(state: CliState, ref: str, limit: int, as_json: bool) -> None:
    """Show a version (latest by default): schema, row count, hash and the first rows."""
    svc = state.services().datasets
    dv = svc.get_ref(state.caller, state.project, ref)
    rows = (
        svc.rows(state.caller, state.project, dv.dataset, version=dv.number, limit=limit)
        if limit
        else []
    )
    if as_json:
        echo_json({**dv.model_dump(mode="json"), "rows": rows})
        return
    click.echo(f"version:  {dv.ref}")
    click.echo(f"rows:     {dv.row_count}")
    click.echo(f"columns:  {', '.join(f'{c.name} ({c.type})' for c in dv.columns)}")
    click.echo(f"hash:     {dv.content_hash}")
    click.echo(f"format:   {dv.source_format}")
    click.echo(f"author:   {dv.created_by}")
    click.echo(f"date:     {dv.created_at.isoformat(timespec='seconds')}")
    click.echo(f"message:  {dv.message or '-'}")
    if rows:
        click.echo("")
        names = dv.column_names
        click.echo(table(names, [[row.get(n) for n in names] for row in rows]))
        if dv.row_count > len(rows):
            click.echo(f"… {dv.row_count - len(rows)} more rows")


# -- export / import -------------------------------------------------------------------------
def _portability(state: CliState, *, write: bool) -> PortabilityService:
    from ..services.portability import PortabilityService

    services = state.services(write=write)
    return PortabilityService(services.store, services.config)


@main.command("export")
@click.argument("directory", type=click.Path(file_okay=False))
@pass_state
def export(state: CliState, directory: str) -> None:
    """Write the whole project to DIRECTORY as YAML/JSONL files (git-friendly).

    DIRECTORY must be new, empty, or an earlier export (which is brought up to date).
    """
    s = _portability(state, write=False).export(state.caller, state.project, directory)
    click.echo(
        f"exported {plural(s.prompts, 'prompt')} ({plural(s.prompt_versions, 'version')}, "
        f"{plural(s.label_moves, 'label move')}) and {plural(s.datasets, 'dataset')} "
        f"({plural(s.dataset_versions, 'version')}) of project {state.project!r} "
        f"to {os.fspath(directory)}"
    )


@main.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@pass_state
def import_(state: CliState, directory: str) -> None:
    """Import a folder written by `llmlab export` into the project.

    Versions already present are skipped; a conflicting version stops the import before
    anything is stored.
    """
    s = _portability(state, write=True).import_(state.caller, state.project, directory)
    if not (s.prompt_versions or s.label_moves or s.dataset_versions):
        click.echo(f"nothing to import: all {s.skipped} versions are already in {state.project!r}")
        return
    click.echo(
        f"imported into {state.project!r}: {plural(s.prompt_versions, 'prompt version')}, "
        f"{plural(s.label_moves, 'label move')}, {plural(s.dataset_versions, 'dataset version')} "
        f"({s.skipped} already present)"
    )


__all__ = ["main"]
