"""Recording a run's outcomes: results, scores, usage and cache entries, written in batches.

:class:`ResultRecorder` is one of the parts :class:`~.runner.ExperimentRunner` is built from.
Each outcome (a fresh completion, a cache hit, an error) is appended to a
:class:`ResultBuffer`; the buffer is flushed to the store in one transaction when it
reaches ``batch_size`` rows, every ``flush_interval_s``, and when the run ends.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..exceptions import LlmLabError
from ..gateway.base import ChatRequest, Completion

if TYPE_CHECKING:
    from ..gateway.cache import ResponseCache
    from ..gateway.gateway import Gateway
    from ..models import Experiment
    from ..store.sql_store import SQLStore
    from .planning import RunOptions, WorkItem
    from .scorers import Scorer


@dataclass
class ResultBuffer:
    results: list[dict[str, Any]] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)
    usage: list[dict[str, Any]] = field(default_factory=list)
    cache: list[dict[str, Any]] = field(default_factory=list)

    def take(self) -> ResultBuffer:
        out = ResultBuffer(self.results, self.scores, self.usage, self.cache)
        self.results, self.scores, self.usage, self.cache = [], [], [], []
        return out

    def __len__(self) -> int:
        return len(self.results)


class _RecordingGateway:
    """Gives LLM judges the gateway while recording each call in the usage ledger."""

    def __init__(self, gateway: Gateway, record: Callable[[Completion], None]) -> None:
        self._gateway = gateway
        self._record = record

    async def complete(self, request: ChatRequest) -> Completion:
        completion = await self._gateway.complete(request)
        self._record(completion)
        return completion


class ResultRecorder:
    """Buffers a run's outcomes and writes them in batches (a runner part)."""

    store: SQLStore
    gateway: Gateway
    experiment: Experiment
    scorers: list[Scorer]
    user: str
    cache: ResponseCache | None
    options: RunOptions
    runner_id: str
    experiment_id: int
    project_id: int
    _buffer: ResultBuffer
    _flush_lock: asyncio.Lock
    _spent: float
    _progress: Any

    # -- recording -----------------------------------------------------------------------
    def _usage(self, model: str, **values: Any) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "experiment_id": self.experiment_id,
            "user_name": self.user,
            "model": model,
            **values,
        }

    async def _score(self, item: WorkItem, output: str) -> None:
        from .scorers import ScoreInput

        inp = ScoreInput(
            output=output, row=item.row, rendered=item.messages, expected=item.row.get("expected")
        )
        for scorer in self.scorers:
            try:
                if scorer.needs_gateway:
                    score = await scorer.ascore(inp, _RecordingGateway(self.gateway, self._judged))
                else:
                    score = scorer.score(inp)
                value, reason = score.value, score.reason
            except LlmLabError as err:
                value, reason = None, f"scorer failed: {err.message}"
            except Exception as err:  # a user's scorer must not end the run
                value, reason = None, f"scorer failed: {type(err).__name__}: {err}"
            self._buffer.scores.append(
                {
                    "experiment_id": self.experiment_id,
                    "variant_idx": item.variant,
                    "row_idx": item.row_idx,
                    "scorer": scorer.name,
                    "value": value,
                    "reason": reason or "",
                }
            )

    def _judged(self, completion: Completion) -> None:
        self._spent += completion.cost_usd
        self._buffer.usage.append(
            self._usage(
                completion.model,
                purpose="judge",
                prompt_tokens=completion.prompt_tokens,
                completion_tokens=completion.completion_tokens,
                cost_usd=completion.cost_usd,
                latency_ms=completion.latency_ms,
                cache_hit=False,
                status="ok",
                attempts=completion.attempts,
            )
        )

    async def _record_success(self, item: WorkItem, c: Completion) -> None:
        v = self.experiment.variants[item.variant]
        await self._score(item, c.text)
        self._buffer.results.append(
            {
                "experiment_id": self.experiment_id,
                "variant_idx": item.variant,
                "row_idx": item.row_idx,
                "input_hash": item.input_hash,
                "output": c.text,
                "error": None,
                "error_code": None,
                "latency_ms": c.latency_ms,
                "prompt_tokens": c.prompt_tokens,
                "completion_tokens": c.completion_tokens,
                "cost_usd": c.cost_usd,
                "saved_usd": 0.0,
                "cache_hit": False,
                "attempts": c.attempts,
            }
        )
        self._buffer.usage.append(
            self._usage(
                v.model,
                purpose="completion",
                prompt_tokens=c.prompt_tokens,
                completion_tokens=c.completion_tokens,
                cost_usd=c.cost_usd,
                latency_ms=c.latency_ms,
                cache_hit=False,
                status="ok",
                attempts=c.attempts,
            )
        )
        if self.cache is not None:
            self._buffer.cache.append(
                {
                    "key": item.key,
                    "model": v.model,
                    "text": c.text,
                    "prompt_tokens": c.prompt_tokens,
                    "completion_tokens": c.completion_tokens,
                    "cost_usd": c.cost_usd,
                    "finish_reason": c.finish_reason,
                }
            )
        self._progress.update(1)

    async def _record_hit(self, item: WorkItem, hit: dict[str, Any]) -> None:
        v = self.experiment.variants[item.variant]
        await self._score(item, hit["text"])
        saved = float(hit.get("cost_usd") or 0.0)
        self._buffer.results.append(
            {
                "experiment_id": self.experiment_id,
                "variant_idx": item.variant,
                "row_idx": item.row_idx,
                "input_hash": item.input_hash,
                "output": hit["text"],
                "error": None,
                "error_code": None,
                "latency_ms": 0.0,
                "prompt_tokens": int(hit.get("prompt_tokens") or 0),
                "completion_tokens": int(hit.get("completion_tokens") or 0),
                "cost_usd": 0.0,
                "saved_usd": saved,
                "cache_hit": True,
                "attempts": 0,
            }
        )
        self._buffer.usage.append(
            self._usage(
                v.model,
                purpose="completion",
                prompt_tokens=int(hit.get("prompt_tokens") or 0),
                completion_tokens=int(hit.get("completion_tokens") or 0),
                cost_usd=0.0,
                saved_usd=saved,
                latency_ms=0.0,
                cache_hit=True,
                status="ok",
                attempts=0,
            )
        )
        self._progress.update(1)

    def _record_error(
        self, variant: int, row_idx: int, input_hash: str, err: LlmLabError, *, attempts: int
    ) -> None:
        v = self.experiment.variants[variant]
        self._buffer.results.append(
            {
                "experiment_id": self.experiment_id,
                "variant_idx": variant,
                "row_idx": row_idx,
                "input_hash": input_hash,
                "output": None,
                "error": err.message[:2000],
                "error_code": err.error_code,
                "latency_ms": 0.0,
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "cost_usd": 0.0,
                "saved_usd": 0.0,
                "cache_hit": False,
                "attempts": attempts,
            }
        )
        if attempts:
            self._buffer.usage.append(
                self._usage(
                    v.model,
                    purpose="completion",
                    status="error",
                    error_code=err.error_code,
                    attempts=attempts,
                    cache_hit=False,
                )
            )
        if self._progress is not None:
            self._progress.update(1)

    # -- writing -------------------------------------------------------------------------
    async def _maybe_flush(self) -> None:
        if len(self._buffer) >= self.options.batch_size and not self._flush_lock.locked():
            await self._flush()

    async def _periodic_flush(self, done: asyncio.Event) -> None:
        """Flush every ``flush_interval_s`` until ``done``; never cancelled mid-write."""
        while not done.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(done.wait(), self.options.flush_interval_s)
            await self._flush()

    async def _flush(self) -> None:
        async with self._flush_lock:
            batch = self._buffer.take()
            if not batch.results and not batch.usage:
                return
            in_db = self.cache is not None and self.cache.in_database
            await asyncio.to_thread(
                self.store.write_batch,
                self.experiment_id,
                results=batch.results,
                scores=batch.scores,
                usage=batch.usage,
                cache_entries=batch.cache if in_db else [],
                runner_id=self.runner_id,
            )
            if batch.cache and not in_db and self.cache is not None:
                await asyncio.to_thread(self.cache.put_many, batch.cache)
