"""Artifacts in a local folder (the embedded default)."""

from __future__ import annotations

import builtins
import os
import shutil
import tempfile
from pathlib import Path

from ..exceptions import InvalidInput, NotFound
from .base import ArtifactStore, validate_key


class LocalArtifactStore(ArtifactStore):
    """Files under ``root``; writes go to a temporary file renamed into place (atomic)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def describe(self) -> str:
        return f"local folder {self.root}"

    def _path(self, key: str) -> Path:
        path = (self.root / validate_key(key)).resolve()
        if path != self.root and self.root not in path.parents:  # a symlink pointing out
            raise InvalidInput(f"artifact key {key!r} leaves the artifact folder", field="key")
        return path

    def _write(self, key: str, fill: object) -> str:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(fill, bytes):
                    out.write(fill)
                else:
                    with Path(str(fill)).open("rb") as src:
                        shutil.copyfileobj(src, out, 1024 * 1024)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def put_bytes(self, key: str, data: bytes, *, content_type: str = "") -> str:
        return self._write(key, bytes(data))

    def put_file(self, key: str, path: str | Path, *, content_type: str = "") -> str:
        return self._write(key, Path(path))

    def get_bytes(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError) as err:
            raise NotFound(f"artifact {key!r} not found", field="key") from err

    def get_file(self, key: str, path: str | Path) -> Path:
        source = self._path(key)
        if not source.is_file():
            raise NotFound(f"artifact {key!r} not found", field="key")
        target = Path(path)
        shutil.copyfile(source, target)
        return target

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list(self, prefix: str = "") -> builtins.list[str]:
        base = self.root
        if prefix:
            validate_key(prefix.rstrip("/"))
        keys = []
        for dirpath, _dirs, files in os.walk(base):
            for name in files:
                if name.startswith(".tmp-"):
                    continue
                key = Path(dirpath, name).relative_to(base).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)
