"""Artifact stores: a local folder (default) or S3; :func:`open_artifact_store` picks one.

>>> store = open_artifact_store("/tmp/llmlab-artifacts")
>>> store.put_bytes("projects/default/hello.txt", b"hi")
'projects/default/hello.txt'
"""

from __future__ import annotations

from urllib.parse import urlparse

from ..exceptions import InvalidInput
from .base import ArtifactStore, MemoryArtifactStore, join_key, validate_key

__all__ = [
    "ArtifactStore",
    "MemoryArtifactStore",
    "join_key",
    "open_artifact_store",
    "validate_key",
]


def open_artifact_store(
    url: str, *, endpoint_url: str | None = None, region: str | None = None
) -> ArtifactStore:
    """The store for ``url``: ``s3://bucket/prefix``, ``file:///path``, ``memory://`` or a path."""
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        from .s3 import S3ArtifactStore

        return S3ArtifactStore(parsed.netloc, parsed.path, endpoint_url=endpoint_url, region=region)
    if parsed.scheme == "memory":
        return MemoryArtifactStore()
    if parsed.scheme in ("", "file"):
        from .local import LocalArtifactStore

        return LocalArtifactStore(parsed.path if parsed.scheme == "file" else url)
    raise InvalidInput(
        f"artifacts_url must be a folder, file:// or s3:// URL, not {parsed.scheme}://",
        field="artifacts_url",
    )
