"""The project folder of ``llmlab export`` / ``llmlab import``: prompts and datasets as code.

Layout (every name is the slug of the prompt or dataset)::

    DIR/llmlab-project.yaml            format marker
    DIR/prompts/<name>/prompt.yaml     description, current labels, full label history
    DIR/prompts/<name>/v0001.yaml      one file per version: template or messages, variables,
                                       model, params, message, author, date, parent, hash
    DIR/datasets/<name>/dataset.yaml   description
    DIR/datasets/<name>/v0001.yaml     columns, row count, source format, message, author, date,
                                       hash
    DIR/datasets/<name>/v0001.jsonl    the rows, one JSON object per line, keys in column order

Writing is deterministic (fixed key order, block-style multi-line strings, UTC times with
microseconds), so the same content always gives byte-identical files that diff well in git.
Reading checks everything and raises :class:`InvalidInput` naming the file and the field.
This module also parses single prompt documents (``llmlab prompts push`` files); reading a
whole folder is in :mod:`.reader`, writing one in :mod:`.writer`. Nothing here touches the database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import yaml

from .. import prompts as tpl
from ..exceptions import InvalidInput

MARKER = "llmlab-project.yaml"
FORMAT_VERSION = 1
PROMPT_FILE = "prompt.yaml"
DATASET_FILE = "dataset.yaml"
VERSION_FILE = re.compile(r"^v(\d+)\.(yaml|jsonl)$")


#: Keys of a prompt file accepted by ``llmlab prompts push``.
PUSH_KEYS = ("template", "messages", "variables", "model", "params", "description", "message")
CONTENT_KEYS = ("template", "messages", "variables", "model", "params")


@dataclass(frozen=True)
class PromptContent:
    """Validated content of a prompt version (what its content hash covers)."""

    kind: str
    template: str | list[dict[str, str]]
    declared_variables: list[str]
    variables: list[str]
    model: str | None
    params: dict[str, Any]

    @property
    def content_hash(self) -> str:
        """The hash a version with this content gets (see :func:`prompts.content_hash`)."""
        return tpl.content_hash(
            self.kind, self.template, self.declared_variables, self.model, self.params
        )


@contextmanager
def in_file(source: str) -> Iterator[None]:
    """Prefix the message of an ``InvalidInput`` raised inside with ``source``."""
    try:
        yield
    except InvalidInput as err:
        if err.message.startswith(f"{source}: "):
            raise
        raise type(err)(f"{source}: {err.message}", field=err.field, **err.details) from err


def load_document(text: str, source: str, fmt: str) -> Mapping[str, Any]:
    """Parse YAML or JSON text that must hold a mapping."""
    try:
        data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as err:
        raise InvalidInput(f"{source}: not valid {fmt.upper()}: {err}", field="file") from err
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{source}: must hold a mapping of keys to values", field="file")
    return data


def check_keys(
    doc: Mapping[str, Any], allowed: tuple[str, ...], required: tuple[str, ...] = ()
) -> None:
    """Raise ``InvalidInput`` naming unknown keys or the first missing required key."""
    unknown = sorted(str(k) for k in doc if k not in allowed)
    if unknown:
        raise InvalidInput(
            f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
            f"(allowed: {', '.join(allowed)})",
            field=unknown[0],
        )
    missing = [k for k in required if k not in doc]
    if missing:
        raise InvalidInput(f"missing key {missing[0]!r}", field=missing[0])


def prompt_content(doc: Mapping[str, Any]) -> PromptContent:
    """Validate the content keys: ``template`` (text or messages) or ``messages``, ``variables``,
    ``model``, ``params``."""
    if ("template" in doc) == ("messages" in doc):
        raise InvalidInput("give exactly one of 'template' or 'messages'", field="template")
    if "messages" in doc and not isinstance(doc["messages"], list):
        raise InvalidInput("messages must be a list of {role, content}", field="messages")
    kind, data = tpl.normalize_template(doc["template"] if "template" in doc else doc["messages"])
    declared = tpl.check_declared(doc.get("variables"))
    return PromptContent(
        kind=kind,
        template=data,
        declared_variables=declared,
        variables=sorted(set(tpl.detect_variables(kind, data)) | set(declared)),
        model=tpl.check_model(doc.get("model")),
        params=tpl.check_params(doc.get("params")),
    )
