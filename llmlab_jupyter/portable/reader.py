"""Reading and validating a project folder (the format is in :mod:`llmlab_jupyter.portable`).

Every problem raises :class:`InvalidInput` (or :class:`TemplateError`) whose message starts
with the file it was found in. Nothing here touches the database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import prompts as tpl
from ..datasets import rows_hash
from ..exceptions import InvalidInput
from .format import (
    CONTENT_KEYS,
    DATASET_FILE,
    MARKER,
    PROMPT_FILE,
    VERSION_FILE,
    PromptContent,
    check_keys,
    in_file,
    load_document,
    prompt_content,
)

_VERSION_META = ("number", "created_at", "created_by", "parent", "message", "content_hash")
_DATASET_META = (
    "number",
    "created_at",
    "created_by",
    "message",
    "source_format",
    "row_count",
    "columns",
    "content_hash",
)
_EVENT_KEYS = ("label", "from_version", "to_version", "created_at", "created_by")
_COLUMN_TYPES = ("string", "integer", "number", "boolean", "datetime", "json")


@dataclass(frozen=True)
class PromptVersionEntry:
    """One validated prompt version file."""

    number: int
    content: PromptContent
    content_hash: str
    message: str
    parent: int | None
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class LabelMove:
    """One move of a label, as recorded in ``label_history``."""

    label: str
    from_version: int | None
    to_version: int | None
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class PromptEntry:
    """A validated ``prompts/<name>/`` folder."""

    name: str
    description: str
    versions: list[PromptVersionEntry]
    history: list[LabelMove]


@dataclass(frozen=True)
class DatasetVersionEntry:
    """One validated dataset version: metadata and rows."""

    number: int
    content_hash: str
    columns: list[dict[str, str]]
    rows: list[dict[str, Any]]
    source_format: str
    message: str
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class DatasetEntry:
    """A validated ``datasets/<name>/`` folder."""

    name: str
    description: str
    versions: list[DatasetVersionEntry]


@dataclass(frozen=True)
class ProjectFolder:
    """A whole validated export folder, ready to import."""

    prompts: list[PromptEntry]
    datasets: list[DatasetEntry]


def _text(
    doc: Mapping[str, Any], key: str, *, default: str | None = None, limit: int = 10_000
) -> str:
    value = doc.get(key, default)
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInput(f"{key} must be a string of at most {limit} characters", field=key)
    return value


def _user(doc: Mapping[str, Any], key: str) -> str:
    value = _text(doc, key, limit=200)
    if not value.strip():
        raise InvalidInput(f"{key} must be a non-empty user name", field=key)
    return value


def _int(doc: Mapping[str, Any], key: str, *, optional: bool = False) -> int | None:
    value = doc.get(key)
    if value is None and optional:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < (0 if key == "row_count" else 1)
    ):
        raise InvalidInput(f"{key} must be a positive integer; got {value!r}", field=key)
    return value


def _time(doc: Mapping[str, Any], key: str) -> datetime:
    value = doc.get(key)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            value = None
    if not isinstance(value, datetime):
        raise InvalidInput(f"{key} must be an ISO 8601 date and time", field=key)
    return (
        value.replace(tzinfo=timezone.utc)
        if value.tzinfo is None
        else value.astimezone(timezone.utc)
    )


def _hash(doc: Mapping[str, Any], computed: str, what: str) -> str:
    given = doc.get("content_hash", computed)
    if given != computed:
        raise InvalidInput(
            f"content_hash {given!r} does not match the {what} ({computed}); the file was "
            "edited after export: remove content_hash to accept the new content",
            field="content_hash",
        )
    return computed


def _versioned_files(folder: Path, suffix: str) -> list[tuple[int, Path]]:
    found = []
    for path in folder.iterdir():
        match = VERSION_FILE.match(path.name)
        if match and match.group(2) == suffix and path.is_file():
            found.append((int(match.group(1)), path))
    found.sort()
    numbers = [n for n, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise InvalidInput(
            f"{folder.name}: version files must be numbered 1, 2, 3 … without gaps; found "
            f"{', '.join(map(str, numbers)) or 'none'}",
            field="number",
        )
    return found


def _read(path: Path, root: Path) -> tuple[str, Mapping[str, Any]]:
    source = path.relative_to(root).as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InvalidInput(f"{source}: cannot read: {err}", field="file") from err
    return source, load_document(text, source, "yaml")


def _prompt_version(doc: Mapping[str, Any], number: int) -> PromptVersionEntry:
    check_keys(doc, CONTENT_KEYS + _VERSION_META, ("number", "created_at", "created_by"))
    if _int(doc, "number") != number:
        raise InvalidInput(f"number must be {number}, as in the file name", field="number")
    parent = _int(doc, "parent", optional=True)
    if parent is not None and parent >= number:
        raise InvalidInput("parent must be an earlier version", field="parent")
    content = prompt_content(doc)
    return PromptVersionEntry(
        number=number,
        content=content,
        content_hash=_hash(doc, content.content_hash, "template, variables, model and params"),
        message=_text(doc, "message", default=""),
        parent=parent,
        created_at=_time(doc, "created_at"),
        created_by=_user(doc, "created_by"),
    )


def _label_history(doc: Mapping[str, Any], latest: int) -> list[LabelMove]:
    raw = doc.get("label_history") or []
    if not isinstance(raw, list):
        raise InvalidInput("label_history must be a list of moves", field="label_history")
    moves: list[LabelMove] = []
    state: dict[str, int] = {}
    for i, item in enumerate(raw):
        with in_file(f"label_history[{i}]"):
            if not isinstance(item, Mapping):
                raise InvalidInput("must be a mapping", field="label_history")
            check_keys(item, _EVENT_KEYS, _EVENT_KEYS)
            label = tpl.validate_slug(item["label"], "label")
            source = _int(item, "from_version", optional=True)
            target = _int(item, "to_version", optional=True)
            if source != state.get(label) or source == target:
                raise InvalidInput(
                    f"moves {label!r} from {source} but it pointed at {state.get(label)}",
                    field="from_version",
                )
            if target is not None and target > latest:
                raise InvalidInput(f"there is no version {target}", field="to_version")
            moves.append(
                LabelMove(
                    label, source, target, _time(item, "created_at"), _user(item, "created_by")
                )
            )
        if target is None:
            state.pop(label)
        else:
            state[label] = target
    labels = doc.get("labels", state)
    if not isinstance(labels, Mapping) or dict(labels) != state:
        raise InvalidInput(
            f"labels {dict(labels) if isinstance(labels, Mapping) else labels!r} do not match "
            f"the end of label_history {state}",
            field="labels",
        )
    return moves


def read_prompt_folder(folder: Path, root: Path) -> PromptEntry:
    """Read ``prompts/<name>/``: its ``prompt.yaml`` and every version file."""
    versions = []
    for number, path in _versioned_files(folder, "yaml"):
        source, doc = _read(path, root)
        with in_file(source):
            versions.append(_prompt_version(doc, number))
    if not versions:
        raise InvalidInput(f"prompts/{folder.name}: has no version files", field="number")
    source, doc = _read(folder / PROMPT_FILE, root)
    with in_file(source):
        check_keys(doc, ("name", "description", "labels", "label_history"), ("name",))
        if doc["name"] != folder.name:
            raise InvalidInput(f"name must be {folder.name!r}, the folder name", field="name")
        tpl.validate_slug(folder.name)
        return PromptEntry(
            name=folder.name,
            description=_text(doc, "description", default=""),
            versions=versions,
            history=_label_history(doc, len(versions)),
        )


def _rows(path: Path, source: str) -> list[dict[str, Any]]:
    rows = []
    try:
        with path.open(encoding="utf-8") as lines:
            for lineno, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as err:
                    raise InvalidInput(
                        f"{source}, line {lineno}: not valid JSON: {err.msg}"
                    ) from err
                if not isinstance(row, dict):
                    raise InvalidInput(f"{source}, line {lineno}: must be a JSON object")
                rows.append(row)
    except (OSError, UnicodeDecodeError) as err:
        raise InvalidInput(f"{source}: cannot read: {err}", field="file") from err
    return rows


def _columns(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise InvalidInput("columns must be a non-empty list of {name, type}", field="columns")
    columns = []
    for item in value:
        if (
            not isinstance(item, Mapping)
            or set(item) != {"name", "type"}
            or not isinstance(item["name"], str)
            or item["type"] not in _COLUMN_TYPES
        ):
            raise InvalidInput(
                f"each column needs a name and a type ({', '.join(_COLUMN_TYPES)}); got {item!r}",
                field="columns",
            )
        columns.append({"name": item["name"], "type": item["type"]})
    return columns


def read_dataset_folder(folder: Path, root: Path) -> DatasetEntry:
    """Read ``datasets/<name>/``: ``dataset.yaml`` and each version's YAML and JSONL."""
    versions = []
    for number, path in _versioned_files(folder, "yaml"):
        source, doc = _read(path, root)
        rows_path = path.with_suffix(".jsonl")
        with in_file(source):
            check_keys(doc, _DATASET_META, ("number", "created_at", "created_by", "columns"))
            if _int(doc, "number") != number:
                raise InvalidInput(f"number must be {number}, as in the file name", field="number")
            if not rows_path.is_file():
                raise InvalidInput(f"the rows file {rows_path.name} is missing", field="file")
            columns = _columns(doc["columns"])
            rows = _rows(rows_path, rows_path.relative_to(root).as_posix())
            count = _int(doc, "row_count", optional=True)
            if count is not None and count != len(rows):
                raise InvalidInput(
                    f"row_count is {count} but {rows_path.name} holds {len(rows)} rows",
                    field="row_count",
                )
            versions.append(
                DatasetVersionEntry(
                    number=number,
                    content_hash=_hash(doc, rows_hash(columns, rows), f"rows of {rows_path.name}"),
                    columns=columns,
                    rows=rows,
                    source_format=_text(doc, "source_format", default="jsonl", limit=20),
                    message=_text(doc, "message", default=""),
                    created_at=_time(doc, "created_at"),
                    created_by=_user(doc, "created_by"),
                )
            )
    if not versions:
        raise InvalidInput(f"datasets/{folder.name}: has no version files", field="number")
    source, doc = _read(folder / DATASET_FILE, root)
    with in_file(source):
        check_keys(doc, ("name", "description"), ("name",))
        if doc["name"] != folder.name:
            raise InvalidInput(f"name must be {folder.name!r}, the folder name", field="name")
        tpl.validate_slug(folder.name)
        return DatasetEntry(folder.name, _text(doc, "description", default=""), versions)


def read_project_folder(directory: str | Path) -> ProjectFolder:
    """Read and validate a whole export folder; raises before anything could be stored."""
    root = Path(directory).expanduser()
    if not (root / MARKER).is_file():
        raise InvalidInput(
            f"{str(root)!r} is not an llmlab project folder (no {MARKER}); "
            "create one with `llmlab export`",
            field="directory",
        )
    source, marker = _read(root / MARKER, root)
    if marker.get("format") != "llmlab-project" or marker.get("version") != 1:
        raise InvalidInput(
            f"{source}: unsupported format {marker.get('format')!r} version "
            f"{marker.get('version')!r}; this llmlab reads llmlab-project version 1",
            field="version",
        )

    def folders(section: str) -> list[Path]:
        top = root / section
        return sorted(p for p in top.iterdir() if p.is_dir()) if top.is_dir() else []

    return ProjectFolder(
        prompts=[read_prompt_folder(f, root) for f in folders("prompts")],
        datasets=[read_dataset_folder(f, root) for f in folders("datasets")],
    )
