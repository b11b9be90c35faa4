"""The job runner process: executes one notebook with papermill. The only papermill importer.

A worker starts ``python -m llmlab_jupyter.executors.papermill_run <spec.json>`` in its own
session; the spec is plain data (paths and parameters). Exit codes: 0 success, 1 the notebook
raised (the executed notebook is still saved), 2 any other failure (dead kernel, bad input).
Failures are described in ``error_path`` as JSON ``{"type", "message"}``.

The built-in ``sleep`` kind runs no kernel: it sleeps ``seconds`` and writes a result; it is
a cheap job for health checks and crash tests.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_NOTEBOOK_ERROR, EXIT_OTHER_ERROR, EXIT_PARENT_GONE = 0, 1, 2, 3


def _watch_parent() -> None:
    """Exit when the worker that started us is gone (no orphan runners or kernels)."""
    parent = int(os.environ.get("LLMLAB_WORKER_PID") or os.getppid())

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(EXIT_PARENT_GONE)
            time.sleep(0.5)

    threading.Thread(target=watch, name="llmlab-parent-watch", daemon=True).start()


def _write_json(path: str, data: dict[str, Any]) -> None:
    tmp = f"{path}.tmp"
    Path(tmp).write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def run_sleep(spec: dict[str, Any]) -> int:
    seconds = float(spec["parameters"].get("seconds", 1.0))
    if spec["parameters"].get("fail"):
        _write_json(spec["error_path"], {"type": "SleepFailed", "message": "asked to fail"})
        return EXIT_NOTEBOOK_ERROR
    print(f"sleeping {seconds:g} s", flush=True)
    time.sleep(seconds)
    result = {"metrics": {"slept_s": seconds}, "provenance": {"kind": "sleep"}}
    _write_json(spec["result_path"], result)
    print("done", flush=True)
    return EXIT_OK


def run_notebook(spec: dict[str, Any]) -> int:
    """Execute ``input_path`` into ``output_path`` with papermill."""
    try:
        import papermill as pm
        from papermill.exceptions import PapermillExecutionError
    except ImportError as err:  # pragma: no cover - optional extra
        _write_json(
            spec["error_path"],
            {"type": "MissingDependency", "message": f"pip install papermill ({err})"},
        )
        return EXIT_OTHER_ERROR
    try:
        pm.execute_notebook(
            spec["input_path"],
            spec["output_path"],
            parameters=spec["parameters"],
            kernel_name=spec.get("kernel_name") or "python3",
            cwd=spec["cwd"],
            progress_bar=False,
            log_output=True,
            request_save_on_cell_execute=True,
        )
    except PapermillExecutionError as err:
        message = f"{err.ename}: {err.evalue} (cell {err.exec_count})"
        _write_json(spec["error_path"], {"type": "NotebookError", "message": message})
        return EXIT_NOTEBOOK_ERROR
    except Exception as err:  # dead kernel, unreadable notebook...: the job fails, said why
        _write_json(spec["error_path"], {"type": type(err).__name__, "message": str(err)[:2000]})
        return EXIT_OTHER_ERROR
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    spec = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    _watch_parent()
    if spec.get("kind") == "sleep":
        return run_sleep(spec)
    return run_notebook(spec)


if __name__ == "__main__":
    sys.exit(main())
