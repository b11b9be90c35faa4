"""Artifacts in an S3 bucket (AWS, MinIO, any S3-protocol server). The only boto3 importer.

Credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``,
a profile, an instance role); they are never settings of llmlab. Every key is stored under
``prefix`` in the bucket, so a store never reads or writes outside it.
"""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

from ..exceptions import LlmLabError, MissingDependency, NotFound
from .base import ArtifactStore, validate_key


class S3ArtifactStore(ArtifactStore):
    """Keys live at ``s3://<bucket>/<prefix>/<key>``."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any = None,
    ) -> None:
        if not bucket or "/" in bucket:
            raise LlmLabError(f"invalid S3 bucket name {bucket!r}")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if self.prefix:
            validate_key(self.prefix)
        self.endpoint_url = endpoint_url or None
        self.region = region or None
        self._client = client

    def describe(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"s3://{self.bucket}/{self.prefix}{where}"

    @property
    def client(self) -> Any:
        if self._client is None:
            try:
                import boto3
            except ImportError as err:  # pragma: no cover - optional extra
                raise MissingDependency(
                    "S3 artifacts need boto3: pip install 'llmlab-jupyter[s3]'"
                ) from err
            self._client = boto3.client(
                "s3", endpoint_url=self.endpoint_url, region_name=self.region
            )
        return self._client

    def _full(self, key: str) -> str:
        key = validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _call(self, key: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(*args, **kwargs)
        except Boto3Error as err:  # e.g. S3UploadFailedError from upload_file
            raise LlmLabError(f"S3 error on {key!r}: {err}") from err
        except ClientError as err:
            code = str(err.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                raise NotFound(f"artifact {key!r} not found", field="key") from err
            raise LlmLabError(f"S3 error on {key!r}: {code or err}") from err
        except BotoCoreError as err:
            raise LlmLabError(f"S3 error on {key!r}: {err}") from err

    def put_bytes(self, key: str, data: bytes, *, content_type: str = "") -> str:
        extra = {"ContentType": content_type} if content_type else {}
        self._call(
            key,
            self.client.put_object,
            Bucket=self.bucket,
            Key=self._full(key),
            Body=bytes(data),
            **extra,
        )
        return key

    def put_file(self, key: str, path: str | Path, *, content_type: str = "") -> str:
        extra = {"ContentType": content_type} if content_type else {}
        self._call(
            key,
            self.client.upload_file,
            str(path),
            self.bucket,
            self._full(key),
            ExtraArgs=extra or None,
        )
        return key

    def get_bytes(self, key: str) -> bytes:
        response = self._call(key, self.client.get_object, Bucket=self.bucket, Key=self._full(key))
        return bytes(response["Body"].read())

    def get_file(self, key: str, path: str | Path) -> Path:
        self._call(key, self.client.download_file, self.bucket, self._full(key), str(path))
        return Path(path)

    def exists(self, key: str) -> bool:
        try:
            self._call(key, self.client.head_object, Bucket=self.bucket, Key=self._full(key))
        except NotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        self._call(key, self.client.delete_object, Bucket=self.bucket, Key=self._full(key))

    def list(self, prefix: str = "") -> builtins.list[str]:
        if prefix:
            validate_key(prefix.rstrip("/"))
        root = f"{self.prefix}/" if self.prefix else ""
        keys: builtins.list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        pages = self._call(
            prefix or "/", paginator.paginate, Bucket=self.bucket, Prefix=root + prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                keys.append(str(item["Key"])[len(root) :])
        return sorted(keys)
