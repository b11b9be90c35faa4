"""The experiment runner: plan → execute → record.

Work items are (variant, dataset row) pairs. Rows stream from the store in
batches; each batch is rendered, looked up in the cache in one query, and the
misses are called concurrently through the gateway. Results, scores, usage
records and cache entries are written in batches as they arrive, each batch in
one transaction, with idempotent inserts. A run that is interrupted (kernel
restart, KeyboardInterrupt, crash) resumes on the next ``run()``: completed
items are skipped, failed ones are tried again. The lease (runner id +
heartbeat) keeps two runners off one experiment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..exceptions import Conflict, LlmLabError, ProviderError, TemplateError
from ..gateway.base import ChatRequest, Completion
from ..gateway.cache import ResponseCache, cache_key, input_hash, key_prefix
from ..leases import holder_is_dead, new_lease_token
from ..models import Experiment
from ..prompts import CompiledPrompt

if TYPE_CHECKING:
    from ..gateway.gateway import Gateway
    from ..store.sql_store import SQLStore
    from .scorers import Scorer

log = logging.getLogger(__name__)
HEARTBEAT_S = 1.0
STALE_AFTER_S = 30.0


@dataclass
class RunOptions:
    concurrency: int = 16
    batch_size: int = 500
    flush_interval_s: float = 0.5
    use_cache: bool = True
    budget_usd: float | None = None
    retry_errors: bool = True
    progress: bool = True


@dataclass
class _Item:
    variant: int
    row_idx: int
    row: dict[str, Any]
    messages: list[dict[str, str]]
    input_hash: str
    key: str


@dataclass
class _Buffer:
    results: list[dict[str, Any]] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)
    usage: list[dict[str, Any]] = field(default_factory=list)
    cache: list[dict[str, Any]] = field(default_factory=list)

    def take(self) -> _Buffer:
        out = _Buffer(self.results, self.scores, self.usage, self.cache)
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


class ExperimentRunner:
    """Runs one stored experiment to completion (or to its budget, or until stopped)."""

    def __init__(
        self,
        store: SQLStore,
        gateway: Gateway,
        experiment: Experiment,
        *,
        scorers: list[Scorer],
        user: str,
        cache: ResponseCache | None,
        options: RunOptions,
        on_finished: Callable[[str], object] | None = None,
    ) -> None:
        self.store = store
        #: called with the final status once it is recorded (e.g. to store the statistics)
        self.on_finished = on_finished
        #: True once the final status is recorded (before ``on_finished`` runs)
        self.ended = False
        self.gateway = gateway
        self.experiment = experiment
        self.scorers = scorers
        self.user = user
        self.cache = cache if options.use_cache else None
        self.options = options
        self.runner_id = new_lease_token()
        self.experiment_id, self.project_id = store.experiment_id(
            experiment.project, experiment.name
        )
        self._stop = asyncio.Event()
        self._stop_reason = "interrupted"
        self._buffer = _Buffer()
        self._flush_lock = asyncio.Lock()
        self._spent = experiment.spent_usd
        self._progress: Any = None
        self._prompts: list[CompiledPrompt] = []
        self._providers: list[str] = []

    # -- public --------------------------------------------------------------------------
    def stop(self, reason: str = "interrupted") -> None:
        """Ask the run to stop after the calls in flight (thread-safe via the loop)."""
        self._stop_reason = reason
        self._stop.set()

    def claim(self) -> None:
        """Take the experiment's lease (``Conflict`` if a live runner holds it)."""
        self._claim()

    async def run(self, *, claimed: bool = False) -> str:
        """Execute the remaining items; returns the final status."""
        if not claimed:
            self._claim()
        status = "failed"
        message = ""
        heart = asyncio.create_task(self._heartbeat())
        try:
            self.prepare()
            status = await self._execute()
        except (asyncio.CancelledError, KeyboardInterrupt):
            status, message = "interrupted", "interrupted"
            raise
        except LlmLabError as err:
            status, message = "failed", err.message
            raise
        except Exception as err:
            status, message = "failed", f"{type(err).__name__}: {err}"
            raise
        finally:
            heart.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await heart
            await asyncio.shield(self._flush())
            if self._progress is not None:
                self._progress.close()
            if status == "budget_exceeded":
                message = f"budget of ${self.options.budget_usd:g} reached"
            self.store.finish_experiment(
                self.experiment_id, status, runner_id=self.runner_id, message=message
            )
            self.ended = True
        if self.on_finished is not None:
            try:
                self.on_finished(status)
            except Exception:  # the run is recorded; a failed follow-up must not undo it
                log.exception("after experiment %s ended", self.experiment.name)
        return status

    # -- steps ---------------------------------------------------------------------------
    def _claim(self) -> None:
        exp = self.store.get_experiment(self.experiment.project, self.experiment.name)
        stale = STALE_AFTER_S
        if exp.status == "running" and holder_is_dead(
            self.store.experiment_runner(self.experiment_id)
        ):
            stale = 0.0  # the owner was a process on this host that no longer exists
        if exp.status == "completed":
            raise Conflict(f"experiment {exp.name!r} is already completed", field="experiment")
        self.store.claim_experiment(self.experiment_id, self.runner_id, stale_after_s=stale)

    def prepare(self) -> None:
        """Compile each variant's prompt and resolve its provider (once per run)."""
        for v in self.experiment.variants:
            pv = self._prompt_version(v.prompt, v.prompt_version)
            self._prompts.append(CompiledPrompt(pv.kind, pv.template_data()))
            self._providers.append(self.gateway.resolve(v.model).provider)

    def _prompt_version(self, name: str, number: int) -> Any:
        return self.store.get_prompt_version(self.experiment.project, name, number=number)

    def plan(self, done: set[tuple[int, int]]) -> Iterator[list[_Item]]:
        """Batches of the (variant, row) items not in ``done``, rendered and keyed for the cache.

        A row whose prompt cannot be rendered is recorded as an error, not yielded."""
        exp = self.experiment
        batch: list[_Item] = []
        rows = self.store.iter_dataset_rows(exp.project, exp.dataset, exp.dataset_version)
        prefixes = [
            key_prefix(self.project_id, self._providers[v.idx], v.model, v.params)
            for v in exp.variants
        ]
        for row_idx, row in enumerate(rows):
            for v in exp.variants:
                if (v.idx, row_idx) in done:
                    continue
                try:
                    messages = self._prompts[v.idx].messages(row)
                except TemplateError as err:
                    self._record_error(v.idx, row_idx, "", err, attempts=0)
                    continue
                digest = input_hash(messages)
                key = cache_key(prefixes[v.idx], digest)
                batch.append(_Item(v.idx, row_idx, row, messages, digest, key))
            if len(batch) >= self.options.batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    async def _execute(self) -> str:
        if self.options.retry_errors:
            await asyncio.to_thread(self.store.delete_failed_results, self.experiment_id)
        done = await asyncio.to_thread(self.store.completed_keys, self.experiment_id)
        from tqdm.auto import tqdm

        self._progress = tqdm(
            total=self.experiment.total_items,
            initial=len(done),
            disable=not self.options.progress,
            desc=self.experiment.name,
            unit="call",
            dynamic_ncols=True,
        )
        queue: asyncio.Queue[_Item | None] = asyncio.Queue(maxsize=self.options.concurrency * 2)
        workers = [
            asyncio.create_task(self._worker(queue)) for _ in range(self.options.concurrency)
        ]
        producing_done = asyncio.Event()
        flusher = asyncio.create_task(self._periodic_flush(producing_done))
        try:
            for batch in self.plan(done):
                if self._stop.is_set() or self._over_budget():
                    break
                cached = self.cache.get_many([i.key for i in batch]) if self.cache else {}
                for item in batch:
                    hit = cached.get(item.key)
                    if hit is not None:
                        await self._record_hit(item, hit)
                        continue
                    if self._stop.is_set() or self._over_budget():
                        break
                    await queue.put(item)
                await self._maybe_flush()
        finally:
            for _ in workers:
                await queue.put(None)
            outcomes = await asyncio.gather(*workers, return_exceptions=True)
            producing_done.set()
            await flusher
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
        if self._over_budget():
            return "budget_exceeded"
        if self._stop.is_set():
            return self._stop_reason
        return "completed"

    def _over_budget(self) -> bool:
        budget = self.options.budget_usd
        return budget is not None and self._spent >= budget

    async def _worker(self, queue: asyncio.Queue[_Item | None]) -> None:
        while True:
            item = await queue.get()
            if item is None:
                return
            if self._stop.is_set() or self._over_budget():
                continue  # drain without calling
            v = self.experiment.variants[item.variant]
            request = ChatRequest(model=v.model, messages=item.messages, params=v.params)
            try:
                completion = await self.gateway.complete(request)
            except ProviderError as err:
                self._record_error(
                    item.variant,
                    item.row_idx,
                    item.input_hash,
                    err,
                    attempts=getattr(err, "attempts", 1),
                )
            except LlmLabError as err:
                self._record_error(
                    item.variant,
                    item.row_idx,
                    item.input_hash,
                    err,
                    attempts=getattr(err, "attempts", 1),
                )
            else:
                self._spent += completion.cost_usd
                await self._record_success(item, completion)
            await self._maybe_flush()

    # -- recording -----------------------------------------------------------------------
    def _usage(self, model: str, **values: Any) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "experiment_id": self.experiment_id,
            "user_name": self.user,
            "model": model,
            **values,
        }

    async def _score(self, item: _Item, output: str) -> None:
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

    async def _record_success(self, item: _Item, c: Completion) -> None:
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

    async def _record_hit(self, item: _Item, hit: dict[str, Any]) -> None:
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

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            status = await asyncio.to_thread(
                self.store.heartbeat, self.experiment_id, self.runner_id
            )
            if status == "cancelled":
                self.stop("cancelled")


def run_in_thread(runner: ExperimentRunner) -> str:
    """Run ``runner`` on a private event loop thread (works inside Jupyter's running loop).

    A KeyboardInterrupt in the calling thread stops the run cleanly: results so far are
    written, the experiment is marked ``interrupted``, and the interrupt is re-raised.
    """
    outcome: dict[str, Any] = {}
    finished = threading.Event()  # not Thread.is_alive(): an interrupted join() corrupts it
    loop = asyncio.new_event_loop()

    def target() -> None:
        asyncio.set_event_loop(loop)
        try:
            outcome["status"] = loop.run_until_complete(runner.run())
        except BaseException as err:  # handed to the calling thread
            outcome["error"] = err
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(runner.gateway.aclose())
            loop.close()
            finished.set()

    thread = threading.Thread(target=target, name="llmlab-experiment", daemon=True)
    thread.start()
    interrupted = False
    while not finished.is_set():
        try:
            finished.wait(0.2)
        except KeyboardInterrupt:
            if not interrupted:
                interrupted = True
                with contextlib.suppress(RuntimeError):  # loop already closed: run is over
                    loop.call_soon_threadsafe(runner.stop, "interrupted")
    if interrupted:
        if "error" in outcome and not isinstance(outcome["error"], KeyboardInterrupt):
            log.warning(
                "experiment stopped with an error after the interrupt: %s", outcome["error"]
            )
        raise KeyboardInterrupt
    if "error" in outcome:
        raise outcome["error"]
    return str(outcome["status"])
