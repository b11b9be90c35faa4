"""Shared pieces of the ``llmlab`` command line: state, error display and output formatting."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from ..config import LlmLabConfig
from ..exceptions import InvalidInput, LlmLabError

if TYPE_CHECKING:
    from ..services import Caller, Services

MAX_CELL = 60


class CliError(click.ClickException):
    """An error shown as ``error: <message>`` on stderr, exit code 1, no traceback."""

    exit_code = 1

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True, file=file)


class LlmLabGroup(click.Group):
    """The top-level group: turns every :class:`LlmLabError` into a :class:`CliError`."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LlmLabError as err:
            raise CliError(err.message) from err


class CliState:
    """Global options; opens the services on first use and closes them at exit."""

    def __init__(
        self, *, database_url: str | None, data_dir: str | None, project: str, user: str
    ) -> None:
        self.database_url = database_url
        self.data_dir = data_dir
        self.project = project
        self.user = user
        self._services: Services | None = None

    @cached_property
    def config(self) -> LlmLabConfig:
        """The configuration: global options over environment variables over defaults."""
        return LlmLabConfig.from_overrides(database_url=self.database_url, data_dir=self.data_dir)

    @cached_property
    def caller(self) -> Caller:
        """The user the command acts for."""
        from ..services import Caller

        return Caller(self.user)

    def services(self, *, write: bool = False) -> Services:
        """The services, with the project created (caller as owner) when a command writes to
        it or when it is the default project, as ``Lab()`` does."""
        from ..services import Services

        if self._services is None:
            self._services = Services.from_config(self.config)
        if write or self.project == self.config.default_project:
            self._services.projects.ensure(self.caller, self.project)
        return self._services

    def close(self) -> None:
        """Close the services (called when the command ends)."""
        if self._services is not None:
            self._services.close()
            self._services = None


pass_state = click.make_pass_decorator(CliState)


@contextmanager
def database_errors() -> Iterator[None]:
    """Report errors of the database driver (bad URL, server down) as ours, without traceback."""
    try:
        yield
    except LlmLabError:
        raise
    except Exception as err:
        if type(err).__module__.split(".")[0] not in ("sqlalchemy", "alembic", "psycopg"):
            raise
        reason = getattr(err, "orig", None) or err
        raise LlmLabError(f"cannot use the database: {reason}".strip()) from err


def parse_pairs(pairs: Iterable[str], option: str, *, json_values: bool) -> dict[str, Any]:
    """``key=value`` options as a dict; with ``json_values`` ``0.2``/``true``/``[1]`` are JSON."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint=option)
        parsed: Any = value
        if json_values:
            try:
                parsed = json.loads(value)
            except json.JSONDecodeError:
                parsed = value
        out[key.strip()] = parsed
    return out


def read_text(path: str) -> tuple[str, str]:
    """(source name, text) of a file, ``-`` meaning standard input."""
    if path == "-":
        return "<stdin>", sys.stdin.read()
    try:
        return Path(path).name, Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InvalidInput(f"cannot read {path}: {err}", field="file") from err


def plural(count: int, word: str) -> str:
    """``1 prompt``, ``2 prompts``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def when(value: datetime) -> str:
    """A short local date and time for tables."""
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def short_hash(value: str) -> str:
    """The first 12 hex digits of a ``sha256:`` content hash."""
    return value.removeprefix("sha256:")[:12]


def cell(value: Any) -> str:
    """A table cell: one line, at most ``MAX_CELL`` characters, ``-`` for ``None``."""
    if value is None:
        return "-"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(text.split())
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain aligned text table (values flattened to one line and shortened)."""
    body = [[cell(v) for v in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)
    ]
    lines = [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
        for row in [list(headers), *body]
    ]
    return "\n".join(lines)


def template_text(template: str | list[dict[str, str]]) -> str:
    """A text prompt as is; a chat prompt as ``[role]`` blocks."""
    if isinstance(template, str):
        return template
    return "\n".join(f"[{m['role']}]\n{m['content'].rstrip(chr(10))}" for m in template) + "\n"


def echo_text(text: str) -> None:
    """Print text exactly, adding a final newline only when it lacks one."""
    click.echo(text, nl=not text.endswith("\n"))
