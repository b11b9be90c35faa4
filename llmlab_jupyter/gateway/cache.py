"""Response cache: successful completions keyed by what determines them.

The key is project + provider kind + model + rendered messages + parameters, so
a hit can only return what the same call in the same project returned before.
Errors are never cached. The database cache is the default; Redis is an option
for teams (``cache_url = "redis://…"``).
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..store.sql_store import SQLStore


def input_hash(messages: Sequence[Mapping[str, Any]]) -> str:
    """sha256 of the rendered messages (what a result records as its input)."""
    encoded = json.dumps(messages, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(encoded.encode()).hexdigest()


def key_prefix(project_id: int, provider: str, model: str, params: Mapping[str, Any]) -> str:
    """The part of a cache key fixed for one variant (computed once per run)."""
    return json.dumps(
        [project_id, provider, model, params],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def cache_key(prefix: str, messages_hash: str) -> str:
    """Key = sha256 over project + provider + model + parameters + rendered messages."""
    return hashlib.sha256(f"{prefix}|{messages_hash}".encode()).hexdigest()


class ResponseCache(ABC):
    """Where cached completions live. Entries are dicts with ``key``, ``model``, ``text``,
    ``prompt_tokens``, ``completion_tokens``, ``cost_usd`` and ``finish_reason``."""

    #: ``True`` when entries can be written in the runner's own result transaction.
    in_database: bool = False

    @abstractmethod
    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The cached entries among ``keys`` (missing keys are absent)."""

    @abstractmethod
    def put_many(self, entries: Sequence[dict[str, Any]]) -> None:
        """Store successful completions; an existing key is left as it is."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


class DatabaseCache(ResponseCache):
    """The default cache: a table in the llmlab database."""

    in_database = True

    def __init__(self, store: SQLStore) -> None:
        self.store = store

    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        return self.store.cache_get_many(keys)

    def put_many(self, entries: Sequence[dict[str, Any]]) -> None:
        self.store.cache_put_many(entries)


class RedisCache(ResponseCache):
    """A Redis-backed cache (``redis://host:6379/0``) with an optional time-to-live."""

    def __init__(
        self, url: str, *, ttl_s: int | None = None, prefix: str = "llmlab:cache:"
    ) -> None:
        try:
            import redis
        except ImportError as err:  # pragma: no cover - redis is a test dependency
            from ..exceptions import MissingDependency

            raise MissingDependency(
                "the Redis cache needs the redis package: pip install redis"
            ) from err
        self.client = redis.Redis.from_url(url)
        self.ttl_s = ttl_s
        self.prefix = prefix

    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        values = self.client.mget([self.prefix + k for k in wanted])
        return {k: json.loads(v) for k, v in zip(wanted, values, strict=True) if v is not None}

    def put_many(self, entries: Sequence[dict[str, Any]]) -> None:
        if not entries:
            return
        pipe = self.client.pipeline(transaction=False)
        for entry in entries:
            value = json.dumps({k: v for k, v in entry.items() if k not in ("key", "created_at")})
            pipe.set(self.prefix + entry["key"], value, ex=self.ttl_s, nx=True)
        pipe.execute()

    def close(self) -> None:
        self.client.close()
