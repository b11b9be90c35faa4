"""The services over HTTP: what ``Lab(url=..., token=...)`` uses instead of the in-process ones.

:class:`HttpServices` has ``projects``, ``prompts`` and ``datasets`` with the same method
signatures as :class:`~llmlab_jupyter.services.Services`, returning the same pydantic records
and raising the same exceptions (rebuilt from the ``error_code`` of each error body). The
``caller`` argument is accepted and ignored: the server knows the user from the token.

Differences: a DataFrame or list of dicts is uploaded as Parquet (JSONL if Parquet cannot hold
it), so the stored ``source_format`` is that of the upload; content hashes are the same.
"""

from __future__ import annotations

import builtins
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ... import datasets as data
from ... import exceptions as exc
from ...models import (
    Dataset,
    DatasetVersion,
    Label,
    LabelEvent,
    Membership,
    Project,
    Prompt,
    PromptVersion,
    SaveResult,
)
from ...prompts import parse_ref
from ...services.access import Caller
from .experiments import HttpCompletions, HttpExperiments, HttpFeedback
from .transport import HttpClient, segment

ROWS_PAGE = 500


class _Remote:
    def __init__(self, client: HttpClient) -> None:
        self.http = client


class HttpProjects(_Remote):
    """``ProjectService`` over HTTP."""

    def create(self, caller: Caller, slug: str, title: str = "") -> Project:
        return Project(**self.http.call("POST", "projects", body={"slug": slug, "title": title}))

    def ensure(self, caller: Caller, slug: str, title: str = "") -> Project:
        try:
            return self.get(caller, slug)
        except exc.NotFound:
            pass
        try:
            return self.create(caller, slug, title)
        except exc.Conflict as err:  # exists, and the caller is not a member
            raise exc.NotFound(f"project {slug!r} not found", field="project") from err

    def get(self, caller: Caller, slug: str) -> Project:
        return Project(**self.http.call("GET", f"projects/{segment(slug, 'project')}"))

    def list(self, caller: Caller, *, limit: int = 100, offset: int = 0) -> builtins.list[Project]:
        page = self.http.call("GET", "projects", params={"limit": limit, "offset": offset})
        return [Project(**p) for p in page["items"]]

    def members(self, caller: Caller, slug: str) -> builtins.list[Membership]:
        page = self.http.call("GET", f"projects/{segment(slug, 'project')}/members")
        return [Membership(**m) for m in page["items"]]

    def set_member(self, caller: Caller, slug: str, user: str, role: str) -> Membership:
        path = f"projects/{segment(slug, 'project')}/members/{segment(user, 'user')}"
        return Membership(**self.http.call("PUT", path, body={"role": role}))

    def remove_member(self, caller: Caller, slug: str, user: str) -> None:
        path = f"projects/{segment(slug, 'project')}/members/{segment(user, 'user')}"
        self.http.call("DELETE", path)

    def set_group(self, caller: Caller, slug: str, group: str, role: str) -> Membership:
        path = f"projects/{segment(slug, 'project')}/groups/{segment(group, 'group')}"
        return Membership(**self.http.call("PUT", path, body={"role": role}))

    def remove_group(self, caller: Caller, slug: str, group: str) -> None:
        path = f"projects/{segment(slug, 'project')}/groups/{segment(group, 'group')}"
        self.http.call("DELETE", path)


class HttpPrompts(_Remote):
    """``PromptService`` over HTTP."""

    def _path(self, project: str, name: str, tail: str = "") -> str:
        return f"projects/{segment(project, 'project')}/prompts/{segment(name, 'name')}{tail}"

    def save(
        self,
        caller: Caller,
        project: str,
        name: str,
        template: Any,
        *,
        kind: str | None = None,
        variables: builtins.list[str] | None = None,
        model: str | None = None,
        params: dict[str, Any] | None = None,
        message: str = "",
        description: str | None = None,
    ) -> SaveResult:
        if hasattr(template, "model_dump"):
            template = template.model_dump()
        if isinstance(template, (list, tuple)):
            template = [m.model_dump() if hasattr(m, "model_dump") else m for m in template]
        body = {
            "template": template,
            "kind": kind,
            "variables": variables,
            "model": model,
            "params": params if params is not None else {},
            "message": message,
            "description": description,
        }
        reply = self.http.call("POST", self._path(project, name, "/versions"), body=body)
        return SaveResult(version=PromptVersion(**reply["version"]), created=reply["created"])

    def get(
        self,
        caller: Caller,
        project: str,
        name: str,
        *,
        version: int | None = None,
        label: str | None = None,
        fallback_to_latest: bool = False,
    ) -> PromptVersion:
        params = {"version": version, "label": label, "fallback_to_latest": fallback_to_latest}
        return PromptVersion(
            **self.http.call("GET", self._path(project, name, "/resolve"), params=params)
        )

    def get_ref(
        self, caller: Caller, project: str, ref: str, *, fallback_to_latest: bool = False
    ) -> PromptVersion:
        name, version, label = parse_ref(ref, "prompt")
        return self.get(
            caller,
            project,
            name,
            version=version,
            label=label,
            fallback_to_latest=fallback_to_latest,
        )

    def latest(self, caller: Caller, project: str, name: str) -> PromptVersion:
        return self.versions(caller, project, name, limit=1)[0]

    def info(self, caller: Caller, project: str, name: str) -> Prompt:
        return Prompt(**self.http.call("GET", self._path(project, name)))

    def list(
        self,
        caller: Caller,
        project: str,
        *,
        search: str | None = None,
        label: str | None = None,
        limit: int = 100,
        offset: int = 0,
        sort: str = "name",
    ) -> builtins.list[Prompt]:
        params = {"search": search, "label": label, "limit": limit, "offset": offset, "sort": sort}
        page = self.http.call(
            "GET", f"projects/{segment(project, 'project')}/prompts", params=params
        )
        return [Prompt(**p) for p in page["items"]]

    def versions(
        self, caller: Caller, project: str, name: str, *, limit: int = 100, offset: int = 0
    ) -> builtins.list[PromptVersion]:
        params = {"limit": limit, "offset": offset}
        page = self.http.call("GET", self._path(project, name, "/versions"), params=params)
        return [PromptVersion(**v) for v in page["items"]]

    def set_label(self, caller: Caller, project: str, name: str, label: str, version: int) -> Label:
        path = self._path(project, name, f"/labels/{segment(label, 'label')}")
        return Label(**self.http.call("PUT", path, body={"version": version}))

    def remove_label(self, caller: Caller, project: str, name: str, label: str) -> None:
        self.http.call("DELETE", self._path(project, name, f"/labels/{segment(label, 'label')}"))

    def label_history(
        self, caller: Caller, project: str, name: str, label: str | None = None
    ) -> builtins.list[LabelEvent]:
        path = self._path(project, name, "/labels/history")
        page = self.http.call("GET", path, params={"label": label})
        return [LabelEvent(**e) for e in page["items"]]

    def diff(self, caller: Caller, project: str, name: str, a: int, b: int) -> str:
        reply = self.http.call("GET", self._path(project, name, "/diff"), params={"a": a, "b": b})
        return str(reply["diff"])

    def render(
        self,
        caller: Caller,
        project: str,
        name: str,
        variables: dict[str, Any],
        *,
        version: int | None = None,
        label: str | None = None,
        fallback_to_latest: bool = False,
    ) -> Any:
        body = {
            "variables": variables,
            "version": version,
            "label": label,
            "fallback_to_latest": fallback_to_latest,
        }
        return self.http.call("POST", self._path(project, name, "/render"), body=body)["rendered"]


class HttpDatasets(_Remote):
    """``DatasetService`` over HTTP."""

    def _path(self, project: str, name: str, tail: str = "") -> str:
        return f"projects/{segment(project, 'project')}/datasets/{segment(name, 'name')}{tail}"

    def import_(
        self,
        caller: Caller,
        project: str,
        name: str,
        source: Any,
        *,
        format: str | None = None,
        message: str = "",
        description: str | None = None,
    ) -> tuple[DatasetVersion, bool]:
        content, fmt = _encode_source(source, format)
        params = {"format": fmt, "message": message, "description": description}
        reply = self.http.call(
            "POST", self._path(project, name, "/versions"), params=params, content=content
        )
        return DatasetVersion(**reply["version"]), bool(reply["created"])

    def info(self, caller: Caller, project: str, name: str) -> Dataset:
        return Dataset(**self.http.call("GET", self._path(project, name)))

    def list(
        self,
        caller: Caller,
        project: str,
        *,
        search: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[Dataset]:
        params = {"search": search, "limit": limit, "offset": offset}
        page = self.http.call(
            "GET", f"projects/{segment(project, 'project')}/datasets", params=params
        )
        return [Dataset(**d) for d in page["items"]]

    def get(
        self, caller: Caller, project: str, name: str, *, version: int | None = None
    ) -> DatasetVersion:
        if version is None:
            items = self.versions(caller, project, name, limit=1)
            if not items:
                raise exc.NotFound(f"dataset {name!r} has no versions", field="version")
            return items[0]
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise exc.InvalidInput("version must be a positive integer", field="version")
        return DatasetVersion(
            **self.http.call("GET", self._path(project, name, f"/versions/{version}"))
        )

    def get_ref(self, caller: Caller, project: str, ref: str) -> DatasetVersion:
        name, version, label = parse_ref(ref, "dataset")
        if label is not None:
            raise exc.InvalidInput(
                "datasets are referenced as name or name@<number>", field="dataset"
            )
        return self.get(caller, project, name, version=version)

    def versions(
        self, caller: Caller, project: str, name: str, *, limit: int = 100, offset: int = 0
    ) -> builtins.list[DatasetVersion]:
        params = {"limit": limit, "offset": offset}
        page = self.http.call("GET", self._path(project, name, "/versions"), params=params)
        return [DatasetVersion(**v) for v in page["items"]]

    def rows(
        self,
        caller: Caller,
        project: str,
        name: str,
        *,
        version: int | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> builtins.list[dict[str, Any]]:
        dv = self.get(caller, project, name, version=version)
        path = self._path(project, dv.dataset, f"/versions/{dv.number}/rows")
        if limit is not None:
            return list(
                self.http.call("GET", path, params={"offset": offset, "limit": limit})["items"]
            )
        out: builtins.list[dict[str, Any]] = []
        position: int | None = offset
        while position is not None:
            page = self.http.call("GET", path, params={"offset": position, "limit": ROWS_PAGE})
            out.extend(page["items"])
            position = page["next_offset"]
        return out

    def to_pandas(
        self, caller: Caller, project: str, name: str, *, version: int | None = None
    ) -> Any:
        dv = self.get(caller, project, name, version=version)
        return data.to_frame(
            self.rows(caller, project, dv.dataset, version=dv.number), dv.column_names
        )

    def validate_for(self, dataset: DatasetVersion, prompt: PromptVersion) -> None:
        """Raise ``InvalidInput`` listing the prompt variables missing from the dataset."""
        from ...services.datasets import DatasetService

        DatasetService.validate_for(self, dataset, prompt)  # type: ignore[arg-type]


def _encode_source(source: Any, fmt: str | None) -> tuple[bytes, str]:
    """The bytes and format to upload for anything ``datasets.load`` accepts."""
    if isinstance(source, (bytes, bytearray)):
        if fmt is None:
            raise exc.InvalidInput("format is required when importing bytes", field="format")
        if fmt not in data.FORMATS:
            raise exc.InvalidInput(
                f"format must be one of {', '.join(data.FORMATS)}", field="format"
            )
        return bytes(source), fmt
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        if not path.is_file():
            raise exc.InvalidInput(f"no such file: {str(path)!r}", field="source")
        return path.read_bytes(), data._format_of(path, fmt)
    import io

    import pandas as pd

    if isinstance(source, pd.DataFrame):
        frame = source
    elif isinstance(source, Sequence) and all(isinstance(r, Mapping) for r in source):
        frame = pd.DataFrame.from_records([dict(r) for r in source])
    else:
        data.load(source)  # raises the InvalidInput the services would
        raise exc.InvalidInput("unsupported dataset source", field="source")
    buffer = io.BytesIO()
    try:
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue(), "parquet"
    except (ValueError, TypeError, ImportError, OSError, ArithmeticError):
        rows = data.load(frame).rows
        lines = "".join(json.dumps(r, allow_nan=False) + "\n" for r in rows)
        return lines.encode(), "jsonl"


class HttpServices:
    """``Services`` over HTTP: projects, prompts, datasets, experiments, feedback, ``close()``."""

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 60.0) -> None:
        self.url = url
        self.client = HttpClient(url, token, timeout=timeout)
        self.projects = HttpProjects(self.client)
        self.prompts = HttpPrompts(self.client)
        self.datasets = HttpDatasets(self.client)
        self.completions = HttpCompletions(self.client)
        self.experiments = HttpExperiments(self.client)
        self.feedback = HttpFeedback(self.client)

    def me(self) -> dict[str, Any]:
        """Who the server says this token is, and the project they start in."""
        return dict(self.client.call("GET", "me"))

    def close(self) -> None:
        self.client.close()

    def __repr__(self) -> str:
        return f"HttpServices({self.url!r})"
