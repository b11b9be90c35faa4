"""The artifact store contract, key rules, and an in-memory fake for tests.

An artifact is an immutable blob (an executed notebook, an HTML report, a result JSON, a
large dataset file) named by a *key*: a relative, ``/``-separated path such as
``projects/default/jobs/12/attempt-1/output.ipynb``. Every store is rooted at a prefix and
no key can name anything outside it: :func:`validate_key` refuses absolute paths,
backslashes, ``.``/``..`` and empty segments, control characters and over-long keys.
"""

from __future__ import annotations

import builtins
import shutil
from abc import ABC, abstractmethod
from pathlib import Path

from ..exceptions import InvalidInput, NotFound

MAX_KEY_LENGTH = 512


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe relative key; raise :class:`InvalidInput` otherwise."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(f"artifact key must be 1-{MAX_KEY_LENGTH} characters", field="key")
    if key.startswith("/") or "\\" in key or ":" in key.split("/", 1)[0]:
        raise InvalidInput(f"artifact key {key!r} must be a relative path", field="key")
    if any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise InvalidInput("artifact key contains control characters", field="key")
    parts = key.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise InvalidInput(f"artifact key {key!r} has an empty, '.' or '..' segment", field="key")
    return key


def join_key(*parts: str) -> str:
    """Join key segments with ``/`` and validate the result."""
    return validate_key("/".join(p.strip("/") for p in parts if p))


class ArtifactStore(ABC):
    """Where executed notebooks, reports and large files live (local folder or S3).

    Contract, for every implementation:

    * keys go through :func:`validate_key` first; an invalid key raises ``InvalidInput``
      and touches nothing; a valid key never reaches outside the store's root/prefix;
    * ``put_*`` replaces an existing artifact atomically (readers see the old or the new
      content, never a partial one) and returns the key;
    * ``get_*`` of a missing key raises ``NotFound``;
    * ``delete`` of a missing key is not an error;
    * ``list(prefix)`` returns the keys under ``prefix`` (a key prefix, validated), sorted.
    """

    @abstractmethod
    def put_bytes(self, key: str, data: bytes, *, content_type: str = "") -> str:
        """Store ``data`` under ``key``."""

    @abstractmethod
    def put_file(self, key: str, path: str | Path, *, content_type: str = "") -> str:
        """Store a local file under ``key``, streaming it (large datasets)."""

    @abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """The content of ``key``."""

    @abstractmethod
    def get_file(self, key: str, path: str | Path) -> Path:
        """Copy ``key`` into the local file ``path``, streaming it; returns the path."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key`` if it exists."""

    @abstractmethod
    def list(self, prefix: str = "") -> builtins.list[str]:
        """Keys under ``prefix``, sorted."""

    def describe(self) -> str:
        """Where this store keeps artifacts (for logs; no credentials)."""
        return type(self).__name__


class MemoryArtifactStore(ArtifactStore):
    """The fake: artifacts in a dict (tests and examples)."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put_bytes(self, key: str, data: bytes, *, content_type: str = "") -> str:
        self.blobs[validate_key(key)] = bytes(data)
        return key

    def put_file(self, key: str, path: str | Path, *, content_type: str = "") -> str:
        return self.put_bytes(key, Path(path).read_bytes(), content_type=content_type)

    def get_bytes(self, key: str) -> bytes:
        try:
            return self.blobs[validate_key(key)]
        except KeyError as err:
            raise NotFound(f"artifact {key!r} not found", field="key") from err

    def get_file(self, key: str, path: str | Path) -> Path:
        target = Path(path)
        with target.open("wb") as out:
            shutil.copyfileobj(_BytesReader(self.get_bytes(key)), out)
        return target

    def exists(self, key: str) -> bool:
        return validate_key(key) in self.blobs

    def delete(self, key: str) -> None:
        self.blobs.pop(validate_key(key), None)

    def list(self, prefix: str = "") -> builtins.list[str]:
        if prefix:
            validate_key(prefix.rstrip("/"))
        return sorted(k for k in self.blobs if k.startswith(prefix))


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self._data, self._pos = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else self._pos + size
        chunk = self._data[self._pos : end]
        self._pos += len(chunk)
        return chunk
