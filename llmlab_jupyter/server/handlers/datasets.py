"""``/projects/{project}/datasets``: versions, row previews and file uploads."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from ... import datasets as data
from ...exceptions import InvalidInput, LlmLabError
from ...models import Dataset, DatasetVersion
from ..schemas import common as s
from .base import LlmLabHandler, Reply, operation, to_int

#: How the upload operation documents its request body.
UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "description": "The file: a raw body (with ?format=) or multipart/form-data with a `file` "
    "field (the format is then taken from its name unless ?format= is given).",
    "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        "text/csv": {"schema": {"type": "string"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
    },
}


class PayloadTooLarge(LlmLabError):
    """The uploaded file is larger than ``LlmLabApp.max_upload_bytes``."""

    status_code = 413
    error_code = "payload_too_large"


class DatasetsHandler(LlmLabHandler):
    @operation("read", "List datasets", response=s.ListDatasetsResponse, query=s.SearchPageQuery)
    def get(self, project: str, *, query: Any) -> s.ListDatasetsResponse:
        items = self.services.datasets.list(
            self.caller,
            project,
            search=query.search or None,
            limit=query.limit,
            offset=query.offset,
        )
        return s.ListDatasetsResponse(
            items=items, next_offset=s.next_offset(query.offset, query.limit, len(items))
        )


class DatasetHandler(LlmLabHandler):
    @operation("read", "A dataset: latest version number", response=Dataset)
    def get(self, project: str, name: str) -> Dataset:
        return self.services.datasets.info(self.caller, project, name)


class DatasetVersionsHandler(LlmLabHandler):
    @operation(
        "read",
        "Versions of a dataset, newest first",
        response=s.ListDatasetVersionsResponse,
        query=s.PageQuery,
    )
    def get(self, project: str, name: str, *, query: Any) -> s.ListDatasetVersionsResponse:
        items = self.services.datasets.versions(
            self.caller, project, name, limit=query.limit, offset=query.offset
        )
        return s.ListDatasetVersionsResponse(
            items=items, next_offset=s.next_offset(query.offset, query.limit, len(items))
        )

    @operation(
        "write",
        "Upload a CSV, JSONL or Parquet file as a new version (200 if identical to one stored)",
        response=s.SaveDatasetVersionResponse,
        status=201,
        alt_status=(200,),
        query=s.UploadQuery,
        raw_body=UPLOAD_BODY,
        errors=(400, 403, 404, 413),
    )
    def post(self, project: str, name: str, *, query: Any) -> Reply:
        content, fmt = self._upload(query.format)
        version, created = self.services.datasets.import_(
            self.caller,
            project,
            name,
            content,
            format=fmt,
            message=query.message,
            description=query.description,
        )
        reply = s.SaveDatasetVersionResponse(version=version, created=created)
        return Reply(reply, 201 if created else 200)

    def _upload(self, fmt: str | None) -> tuple[bytes, str]:
        cap = self.llmlab.max_upload_bytes
        files = self.request.files.get("file")
        if files:
            content = files[0].body
            if fmt is None:
                suffix = PurePath(files[0].filename or "").suffix.lower().lstrip(".")
                fmt = {"ndjson": "jsonl", "pq": "parquet"}.get(suffix, suffix) or None
        else:
            content = self.request.body
        if len(content) > cap:
            raise PayloadTooLarge(f"the file is larger than the {cap}-byte upload limit")
        if not content:
            raise InvalidInput("the request carries no file", field="file")
        if fmt not in data.FORMATS:
            raise InvalidInput(f"format must be one of {', '.join(data.FORMATS)}", field="format")
        return content, str(fmt)


class DatasetVersionHandler(LlmLabHandler):
    @operation("read", "One version by number", response=DatasetVersion)
    def get(self, project: str, name: str, number: str) -> DatasetVersion:
        return self.services.datasets.get(
            self.caller, project, name, version=to_int(number, "number")
        )


class DatasetRowsHandler(LlmLabHandler):
    @operation(
        "read",
        "A page of the rows of a version",
        response=s.DatasetRowsResponse,
        query=s.PageQuery,
    )
    def get(self, project: str, name: str, number: str, *, query: Any) -> s.DatasetRowsResponse:
        datasets, caller = self.services.datasets, self.caller
        version = datasets.get(caller, project, name, version=to_int(number, "number"))
        rows = datasets.rows(
            caller,
            project,
            name,
            version=version.number,
            offset=query.offset,
            limit=query.limit,
        )
        total = version.row_count
        return s.DatasetRowsResponse(
            items=rows,
            next_offset=s.next_offset(query.offset, query.limit, len(rows), total),
            total=total,
        )
