"""Rows of large dataset versions, kept as content-addressed artifacts.

A dataset version with more rows than ``dataset_inline_max_rows`` keeps its rows in the
artifact store instead of the ``dataset_items`` table: one gzip-compressed JSONL file, one
row per line with its keys in column order, under::

    datasets/sha256/<hex>.jsonl.gz        # <hex>: the version's content hash

The key is derived from the content hash alone, so identical content is stored once (across
versions, datasets and projects) and writing it again is a no-op; the bytes are deterministic
(gzip without a timestamp). The database row of the version keeps the metadata (hash,
columns, row count) and the key.

Writers upload the artifact *before* committing the database row: an artifact no row points
at is harmless, a row pointing at nothing is not. Readers check what they read: the first
read of a key in a process downloads it to a private local cache, re-hashes every row and
compares the row count and content hash with the database row; a missing or altered artifact
raises :class:`DatasetArtifactError` naming the version. Later reads (pages, iteration) use
the verified local copy.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import tempfile
import threading
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from ..exceptions import InvalidInput, LlmLabError, NotFound
from .base import ArtifactStore, join_key, validate_key

#: Every dataset artifact key starts with this prefix.
DATASETS_PREFIX = "datasets"
_HASH = re.compile(r"sha256:([0-9a-f]{64})")


class DatasetArtifactError(LlmLabError):
    """The artifact holding a dataset version's rows is missing or does not match the version."""


def dataset_key(content_hash: str) -> str:
    """The artifact key of the rows whose content hash is ``content_hash`` (``sha256:<hex>``)."""
    match = _HASH.fullmatch(content_hash) if isinstance(content_hash, str) else None
    if match is None:
        raise InvalidInput(
            f"dataset content hash must be sha256:<64 hex digits>, not {content_hash!r}",
            field="content_hash",
        )
    return join_key(DATASETS_PREFIX, "sha256", f"{match.group(1)}.jsonl.gz")


def row_line(row: Mapping[str, Any], names: Sequence[str]) -> bytes:
    """One JSONL line: the row's columns in schema order, then any other keys sorted."""
    known = set(names)
    keys = [n for n in names if n in row] + sorted(k for k in row if k not in known)
    ordered = {k: row[k] for k in keys}
    return json.dumps(ordered, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


@dataclass(frozen=True)
class StoredRows:
    """What the database says about an artifact-backed version: where and what to expect."""

    key: str
    ref: str  # ``name@number``, for messages
    content_hash: str
    columns: list[dict[str, str]]
    row_count: int


class DatasetArtifacts:
    """Writes and reads the row artifacts of large dataset versions (see the module doc).

    ``artifacts`` returns the artifact store on first use (so boto3 is imported only when a
    large dataset is touched). ``inline_max_rows``: versions with more rows go to the
    artifact store; ``0`` keeps every version in the database. ``cache_files``: verified
    local copies kept per process (least recently used ones are removed).
    """

    def __init__(
        self,
        artifacts: Callable[[], ArtifactStore],
        *,
        inline_max_rows: int,
        cache_files: int = 4,
    ) -> None:
        if inline_max_rows < 0:
            raise InvalidInput("dataset_inline_max_rows must be >= 0", field="inline_max_rows")
        self._artifacts = artifacts
        self.inline_max_rows = inline_max_rows
        self.cache_files = max(1, cache_files)
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._cached: OrderedDict[str, Path] = OrderedDict()
        self._cache_dir: Path | None = None

    @property
    def store(self) -> ArtifactStore:
        """The artifact store the rows are written to and read from."""
        return self._artifacts()

    def offloads(self, row_count: int) -> bool:
        """Whether a version of ``row_count`` rows keeps its rows in the artifact store."""
        return 0 < self.inline_max_rows < row_count

    # -- writing ---------------------------------------------------------------------------
    def write(
        self,
        content_hash: str,
        columns: Sequence[Mapping[str, str]],
        rows: Iterable[Mapping[str, Any]],
    ) -> str:
        """Upload ``rows`` as the artifact of ``content_hash`` unless it is already stored;
        returns the key. Call it before committing the database row that names the key."""
        key = dataset_key(content_hash)
        store = self.store
        if store.exists(key):
            return key
        names = [c["name"] for c in columns]
        with tempfile.TemporaryDirectory(prefix="llmlab-dataset-") as tmp:
            path = Path(tmp) / "rows.jsonl.gz"
            with (
                path.open("wb") as raw,
                gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=6) as out,
            ):
                for row in rows:
                    out.write(row_line(row, names))
            store.put_file(key, path, content_type="application/gzip")
        return key

    # -- reading ---------------------------------------------------------------------------
    def rows(
        self, stored: StoredRows, *, offset: int = 0, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Rows ``offset`` … ``offset + limit`` (all from ``offset`` when ``limit`` is None)."""
        stop = None if limit is None else offset + limit
        with closing(self.iter_rows(stored)) as rows:
            return list(islice(rows, offset, stop))

    def iter_rows(self, stored: StoredRows) -> Generator[dict[str, Any], None, None]:
        """Every row in order, streamed from the verified local copy."""
        path = self._local_copy(stored)
        with gzip.open(path, "rb") as lines:
            for line in lines:
                yield json.loads(line)

    def _local_copy(self, stored: StoredRows) -> Path:
        key = self._checked_key(stored)
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                path = self._cached.get(key)
                if path is not None:
                    self._cached.move_to_end(key)
                    return path
                folder = self._folder()
            path = folder / key.rsplit("/", 1)[-1]
            try:
                self.store.get_file(key, path)
            except NotFound as err:
                raise DatasetArtifactError(
                    f"the rows of dataset {stored.ref} are missing from the artifact store "
                    f"({self.store.describe()}, key {key})",
                    field="dataset",
                ) from err
            try:
                _verify(path, stored)
            except BaseException:
                path.unlink(missing_ok=True)
                raise
            with self._lock:
                self._cached[key] = path
                while len(self._cached) > self.cache_files:
                    _, old = self._cached.popitem(last=False)
                    old.unlink(missing_ok=True)  # open readers keep their handle
            return path

    @staticmethod
    def _checked_key(stored: StoredRows) -> str:
        key = validate_key(stored.key)
        if not key.startswith(f"{DATASETS_PREFIX}/"):
            raise DatasetArtifactError(
                f"dataset {stored.ref} names an artifact outside {DATASETS_PREFIX}/: {key!r}",
                field="dataset",
            )
        return key

    def _folder(self) -> Path:
        if self._cache_dir is None:
            folder = Path(tempfile.mkdtemp(prefix="llmlab-dataset-cache-"))
            weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
            self._cache_dir = folder
        return self._cache_dir


def _verify(path: Path, stored: StoredRows) -> None:
    """Re-hash every row of the local copy with :func:`llmlab_jupyter.datasets.rows_hash`."""
    from ..datasets import rows_hash

    count = 0

    def rows(lines: Iterable[bytes]) -> Iterable[Mapping[str, Any]]:
        nonlocal count
        for line in lines:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError(f"line {count + 1} is not a JSON object")
            count += 1
            yield row

    try:
        with gzip.open(path, "rb") as lines:
            content_hash = rows_hash(stored.columns, rows(lines))
    except (OSError, EOFError, zlib.error, ValueError) as err:
        raise DatasetArtifactError(
            f"the rows artifact of dataset {stored.ref} is unreadable ({stored.key}): {err}",
            field="dataset",
        ) from err
    if count != stored.row_count:
        raise DatasetArtifactError(
            f"the rows artifact of dataset {stored.ref} holds {count} rows, the version has "
            f"{stored.row_count} ({stored.key})",
            field="dataset",
        )
    if content_hash != stored.content_hash:
        raise DatasetArtifactError(
            f"the rows artifact of dataset {stored.ref} does not match its content hash "
            f"{stored.content_hash} ({stored.key})",
            field="dataset",
        )
