"""Writing a project folder: deterministic YAML/JSONL files that diff well in git.

Fixed key order, block-style multi-line strings and UTC times with microseconds, so the same
content always gives byte-identical files. The layout is in :mod:`.format`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from ..exceptions import InvalidInput
from ..models import Dataset, DatasetVersion, LabelEvent, Prompt, PromptVersion
from .format import DATASET_FILE, FORMAT_VERSION, MARKER, PROMPT_FILE, VERSION_FILE


class _Dumper(yaml.SafeDumper):
    """Safe YAML with block-style (``|``) multi-line strings."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # indent list items under their key: easier to read and to edit
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # PyYAML falls back to a quoted style by itself when a block scalar cannot hold the text
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(data: Any) -> str:
    """YAML text of ``data`` keeping dict order, with block-style multi-line strings."""
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1 << 30,
    )


def format_time(value: datetime) -> str:
    """``2024-05-01T10:00:00.123456Z``: UTC, always with microseconds."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    text = value.astimezone(timezone.utc).isoformat(timespec="microseconds")
    return text.replace("+00:00", "Z")


def _sorted_keys(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _sorted_keys(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted_keys(v) for v in value]
    return value


def prompt_version_document(version: PromptVersion) -> dict[str, Any]:
    """The content of one version file (also a valid ``llmlab prompts push`` file, minus meta)."""
    doc: dict[str, Any] = {
        "number": version.number,
        "created_at": format_time(version.created_at),
        "created_by": version.created_by,
        "parent": version.parent,
        "message": version.message,
        "model": version.model,
        "params": _sorted_keys(version.params),
        "variables": list(version.declared_variables),
    }
    data = version.template_data()
    if isinstance(data, str):
        doc["template"] = data
    else:
        doc["messages"] = [{"role": m["role"], "content": m["content"]} for m in data]
    doc["content_hash"] = version.content_hash
    return doc


def _row_line(row: Mapping[str, Any], columns: list[str]) -> str:
    keys = [c for c in columns if c in row] + sorted(k for k in row if k not in columns)
    parts = [
        f"{json.dumps(k, ensure_ascii=False)}: "
        f"{json.dumps(row[k], ensure_ascii=False, sort_keys=True, allow_nan=False)}"
        for k in keys
    ]
    return "{" + ", ".join(parts) + "}\n"


class FolderWriter:
    """Writes one project export into ``directory``.

    The directory must not exist, be empty, or hold an earlier export; in the last case
    the files of the earlier export that are not written again are removed (and only
    those: other files are left alone), so re-exporting into a git checkout shows exactly
    what changed.
    """

    def __init__(self, directory: str | Path) -> None:
        self.root = Path(directory).expanduser()
        self._written: set[Path] = set()
        self._stale: set[Path] = set()

    def open(self) -> None:
        """Check the target directory, note the files of an earlier export, write the marker."""
        if self.root.exists() and not self.root.is_dir():
            raise InvalidInput(f"{str(self.root)!r} is not a directory", field="directory")
        if self.root.is_dir() and any(self.root.iterdir()):
            if not (self.root / MARKER).is_file():
                raise InvalidInput(
                    f"{str(self.root)!r} is not empty and holds no earlier llmlab export "
                    f"({MARKER}); export into a new or empty directory",
                    field="directory",
                )
            self._stale = set(managed_files(self.root))
        self._write(MARKER, dump_yaml({"format": "llmlab-project", "version": FORMAT_VERSION}))

    def _write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        self._written.add(path)

    def write_prompt(
        self, prompt: Prompt, versions: Iterable[PromptVersion], history: list[LabelEvent]
    ) -> int:
        """Write ``prompt.yaml`` and one file per version; returns the number of versions."""
        base = f"prompts/{prompt.name}"
        doc = {
            "name": prompt.name,
            "description": prompt.description,
            "labels": dict(sorted(prompt.labels.items())),
            "label_history": [
                {
                    "label": e.label,
                    "from_version": e.from_version,
                    "to_version": e.to_version,
                    "created_at": format_time(e.created_at),
                    "created_by": e.created_by,
                }
                for e in history
            ],
        }
        self._write(f"{base}/{PROMPT_FILE}", dump_yaml(doc))
        count = 0
        for version in versions:
            doc = prompt_version_document(version)
            self._write(f"{base}/v{version.number:04d}.yaml", dump_yaml(doc))
            count += 1
        return count

    def write_dataset(
        self,
        dataset: Dataset,
        versions: Iterable[DatasetVersion],
        rows: Callable[[int], Iterable[Mapping[str, Any]]],
    ) -> int:
        """Write ``dataset.yaml`` and, per version, its metadata and its rows as JSONL."""
        base = f"datasets/{dataset.name}"
        self._write(
            f"{base}/{DATASET_FILE}",
            dump_yaml({"name": dataset.name, "description": dataset.description}),
        )
        count = 0
        for version in versions:
            stem = f"{base}/v{version.number:04d}"
            doc = {
                "number": version.number,
                "created_at": format_time(version.created_at),
                "created_by": version.created_by,
                "message": version.message,
                "source_format": version.source_format,
                "row_count": version.row_count,
                "columns": [{"name": c.name, "type": c.type} for c in version.columns],
                "content_hash": version.content_hash,
            }
            self._write(f"{stem}.yaml", dump_yaml(doc))
            path = self.root / f"{stem}.jsonl"
            names = version.column_names
            with path.open("w", encoding="utf-8", newline="\n") as out:
                for row in rows(version.number):
                    out.write(_row_line(row, names))
            self._written.add(path)
            count += 1
        return count

    def close(self) -> None:
        """Remove the files of an earlier export that were not written again."""
        for path in sorted(self._stale - self._written):
            path.unlink(missing_ok=True)
            folder = path.parent
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()


def managed_files(root: Path) -> Iterable[Path]:
    """Files of an export under ``root`` (never other files a user put there)."""
    for section, meta in (("prompts", PROMPT_FILE), ("datasets", DATASET_FILE)):
        top = root / section
        if not top.is_dir():
            continue
        for folder in top.iterdir():
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                if path.is_file() and (path.name == meta or VERSION_FILE.match(path.name)):
                    yield path
