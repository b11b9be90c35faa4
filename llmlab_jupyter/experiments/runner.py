"""The experiment runner: plan → execute → record (this module: the lease and the execution loop).

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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..exceptions import Conflict, LlmLabError, ProviderError
from ..gateway.base import ChatRequest
from ..gateway.cache import ResponseCache
from ..leases import holder_is_dead, new_lease_token
from ..models import Experiment
from ..prompts import CompiledPrompt
from .planning import RunOptions, RunPlanner, WorkItem
from .recording import ResultBuffer, ResultRecorder

if TYPE_CHECKING:
    from ..gateway.gateway import Gateway
    from ..store.sql_store import SQLStore
    from .scorers import Scorer

log = logging.getLogger(__name__)
HEARTBEAT_S = 1.0
STALE_AFTER_S = 30.0


class ExperimentRunner(RunPlanner, ResultRecorder):
    """Runs one stored experiment to completion (or to its budget, or until stopped).

    This module holds the lease and the execution loop; planning the work items comes
    from :class:`~.planning.RunPlanner` and recording the outcomes from
    :class:`~.recording.ResultRecorder`.
    """

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
        self._buffer = ResultBuffer()
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
        queue: asyncio.Queue[WorkItem | None] = asyncio.Queue(maxsize=self.options.concurrency * 2)
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

    async def _worker(self, queue: asyncio.Queue[WorkItem | None]) -> None:
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
