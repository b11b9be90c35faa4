"""``llmlab prompts …``: list, show, push, diff, label and render versioned prompts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..exceptions import InvalidInput, NotFound
from ..portable.format import PUSH_KEYS, check_keys, in_file, load_document, prompt_content
from .support import (
    CliState,
    echo_json,
    echo_text,
    parse_pairs,
    pass_state,
    read_text,
    short_hash,
    table,
    template_text,
    when,
)

TEXT_SUFFIXES = (".txt", ".j2", ".jinja", ".jinja2", ".md", ".prompt")
FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}


@click.group("prompts")
def prompts() -> None:
    """Versioned prompts of the project."""


@prompts.command("list")
@click.option("--search", help="Only prompts whose name or description contains this.")
@click.option("--label", help="Only prompts carrying this label.")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def list_prompts(
    state: CliState, search: str | None, label: str | None, limit: int, as_json: bool
) -> None:
    """List the prompts of the project."""
    items = state.services().prompts.list(
        state.caller, state.project, search=search, label=label, limit=limit
    )
    if as_json:
        echo_json([p.model_dump(mode="json") for p in items])
        return
    if not items:
        click.echo(f"no prompts in project {state.project!r}")
        return
    rows = [
        [
            p.name,
            p.kind,
            p.latest_version,
            ", ".join(f"{k}=@{v}" for k, v in sorted(p.labels.items())) or "-",
            when(p.updated_at),
            p.description,
        ]
        for p in items
    ]
    click.echo(table(["NAME", "KIND", "LATEST", "LABELS", "UPDATED", "DESCRIPTION"], rows))


@prompts.command("show")
@click.argument("ref", metavar="NAME[@VERSION|@LABEL]")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def show(state: CliState, ref: str, as_json: bool) -> None:
    """Show one version: NAME alone is the production label, else the latest version."""
    pv = state.services().prompts.get_ref(state.caller, state.project, ref, fallback_to_latest=True)
    if as_json:
        echo_json(pv.model_dump(mode="json"))
        return
    fields = [
        ("version", pv.ref),
        ("labels", ", ".join(pv.labels) or "-"),
        ("kind", pv.kind),
        ("model", pv.model or "-"),
        ("params", ", ".join(f"{k}={v!r}" for k, v in sorted(pv.params.items())) or "-"),
        ("variables", ", ".join(pv.variables) or "-"),
        ("hash", pv.content_hash),
        ("parent", f"@{pv.parent}" if pv.parent else "-"),
        ("author", pv.created_by),
        ("date", pv.created_at.isoformat(timespec="seconds")),
        ("message", pv.message or "-"),
    ]
    for key, value in fields:
        click.echo(f"{key + ':':<11}{value}")
    click.echo("--- template ---")
    echo_text(template_text(pv.template_data()))


@prompts.command("versions")
@click.argument("name")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def versions(state: CliState, name: str, limit: int, as_json: bool) -> None:
    """List the versions of a prompt, newest first."""
    items = state.services().prompts.versions(state.caller, state.project, name, limit=limit)
    if as_json:
        echo_json([v.model_dump(mode="json") for v in items])
        return
    rows = [
        [
            v.number,
            ", ".join(v.labels) or "-",
            short_hash(v.content_hash),
            v.created_by,
            when(v.created_at),
            v.message.splitlines()[0] if v.message else "-",
        ]
        for v in items
    ]
    click.echo(table(["VERSION", "LABELS", "HASH", "AUTHOR", "DATE", "MESSAGE"], rows))


def _prompt_file(path: str, fmt: str | None) -> tuple[str, dict[str, Any]]:
    """(source, document) of a prompt file: text templates become ``{"template": text}``."""
    source, text = read_text(path)
    if fmt is None:
        suffix = Path(path).suffix.lower()
        if path == "-" or suffix in TEXT_SUFFIXES:
            fmt = "text"
        elif suffix in FORMATS:
            fmt = FORMATS[suffix]
        else:
            raise InvalidInput(
                f"cannot tell the format of {source}: use a .txt/.j2 template or a .yaml/.yml/"
                ".json file, or pass --format",
                field="file",
            )
    if fmt == "text":
        return source, {"template": text}
    doc = dict(load_document(text, source, fmt))
    with in_file(source):
        check_keys(doc, PUSH_KEYS)
    return source, doc


@prompts.command("push")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("-m", "--message", help="Commit message of the new version.")
@click.option("--model", help="Default model, e.g. openai/gpt-4o-mini (overrides the file).")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Model parameter (JSON value, e.g. temperature=0.2); repeatable.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "yaml", "json"]),
    help="Format of FILE (default: from its extension; stdin is text).",
)
@pass_state
def push(
    state: CliState,
    name: str,
    file: str,
    message: str | None,
    model: str | None,
    params: tuple[str, ...],
    fmt: str | None,
) -> None:
    """Save FILE as a new version of prompt NAME ("-" reads standard input).

    FILE is a text template (.txt, .j2) or a .yaml/.yml/.json file with `template` (a string)
    or `messages` (a list of role/content), and optionally `variables`, `model`, `params`,
    `description` and `message`.
    """
    extra = parse_pairs(params, "--param", json_values=True)
    source, doc = _prompt_file(file, fmt)
    with in_file(source):
        content = prompt_content(doc)
    result = state.services(write=True).prompts.save(
        state.caller,
        state.project,
        name,
        content.template,
        variables=content.declared_variables,
        model=model or content.model,
        params={**content.params, **extra},
        message=message if message is not None else doc.get("message", ""),
        description=doc.get("description"),
    )
    if result.created:
        click.echo(f"created {result.version.ref}")
    else:
        click.echo(f"unchanged {result.version.ref} (identical to the latest version)")


@prompts.command("diff")
@click.argument("name")
@click.argument("a", type=click.IntRange(1))
@click.argument("b", type=click.IntRange(1))
@pass_state
def diff(state: CliState, name: str, a: int, b: int) -> None:
    """Unified diff of the template, model and params of versions A and B."""
    text = state.services().prompts.diff(state.caller, state.project, name, a, b)
    echo_text(text or f"no differences between {name}@{a} and {name}@{b}")


@prompts.command("label")
@click.argument("name")
@click.argument("label", required=False)
@click.argument("version", type=click.IntRange(1), required=False)
@click.option("--remove", is_flag=True, help="Remove LABEL from the prompt.")
@click.option("--history", is_flag=True, help="Print every move of the labels (or of LABEL).")
@pass_state
def label(
    state: CliState, name: str, label: str | None, version: int | None, remove: bool, history: bool
) -> None:
    """Point LABEL of prompt NAME at VERSION; every move is kept in the label history."""
    svc = state.services(write=not history).prompts
    if history:
        if version is not None or remove:
            raise click.UsageError("--history takes NAME and optionally LABEL")
        events = svc.label_history(state.caller, state.project, name, label)
        rows = [
            [
                when(e.created_at),
                e.label,
                f"@{e.from_version}" if e.from_version else "-",
                f"@{e.to_version}" if e.to_version else "(removed)",
                e.created_by,
            ]
            for e in events
        ]
        click.echo(table(["DATE", "LABEL", "FROM", "TO", "BY"], rows) if rows else "no label moves")
        return
    if label is None:
        raise click.UsageError("missing LABEL")
    if remove:
        if version is not None:
            raise click.UsageError("--remove takes NAME and LABEL, not a version")
        if label not in svc.info(state.caller, state.project, name).labels:
            raise NotFound(f"prompt {name!r} has no label {label!r}", field="label")
        svc.remove_label(state.caller, state.project, name, label)
        click.echo(f"removed {label} from {name}")
        return
    if version is None:
        raise click.UsageError("missing VERSION (or pass --remove or --history)")
    before = svc.info(state.caller, state.project, name).labels.get(label)
    svc.set_label(state.caller, state.project, name, label, version)
    if before == version:
        click.echo(f"{label} already points at {name}@{version}")
    elif before is None:
        click.echo(f"{label} -> {name}@{version}")
    else:
        click.echo(f"{label} -> {name}@{version} (was @{before})")


def _vars_file(path: str) -> dict[str, Any]:
    source, text = read_text(path)
    doc = load_document(text, source, "json" if path.lower().endswith(".json") else "yaml")
    return {str(k): v for k, v in doc.items()}


@prompts.command("render")
@click.argument("ref", metavar="NAME[@VERSION|@LABEL]")
@click.option("--var", "pairs", multiple=True, metavar="KEY=VALUE", help="A variable; repeatable.")
@click.option(
    "--vars-file",
    type=click.Path(exists=True, dir_okay=False),
    help="A .json or .yaml file mapping variable names to values.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (chat prompts: the messages).")
@pass_state
def render(
    state: CliState, ref: str, pairs: tuple[str, ...], vars_file: str | None, as_json: bool
) -> None:
    """Render a version with variables (--var wins over --vars-file).

    NAME alone is the production label, else the latest version.
    """
    values = {
        **(_vars_file(vars_file) if vars_file else {}),
        **parse_pairs(pairs, "--var", json_values=False),
    }
    pv = state.services().prompts.get_ref(state.caller, state.project, ref, fallback_to_latest=True)
    rendered = pv.render(values)
    if as_json:
        echo_json(rendered)
    else:
        echo_text(template_text(rendered))
