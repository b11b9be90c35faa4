"""The public face of the package: what users, Jupyter and other processes import by name.

Moving modules around must not change any of it: ``from llmlab_jupyter import Lab``, the
``llmlab`` command, the Jupyter extension entry points, and the modules started by name
(workers, the job runner, the test server, the demo seed) or named in configuration.
"""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]


def test_lab_is_importable_from_the_package() -> None:
    import llmlab_jupyter
    from llmlab_jupyter.sdk import Lab

    assert llmlab_jupyter.Lab is Lab
    assert "Lab" in llmlab_jupyter.__all__


def test_the_llmlab_command_points_at_a_click_entry() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, name = scripts["llmlab"].partition(":")
    main = getattr(importlib.import_module(module), name)
    assert callable(main)
    done = subprocess.run(
        [sys.executable, "-c", f"from {module} import {name}; {name}()", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "prompts" in done.stdout and "experiments" in done.stdout


def test_the_jupyter_extension_points_resolve() -> None:
    import llmlab_jupyter
    from llmlab_jupyter.app import LlmLabApp

    (server,) = llmlab_jupyter._jupyter_server_extension_points()
    assert server["module"] == "llmlab_jupyter.app"
    assert server["app"] is LlmLabApp
    assert importlib.import_module(server["module"]).LlmLabApp is LlmLabApp
    (lab,) = llmlab_jupyter._jupyter_labextension_paths()
    assert lab == {"src": "labextension", "dest": "llmlab-jupyter"}


@pytest.mark.parametrize(
    "module",
    [
        "llmlab_jupyter.executors.celery_app",  # celery -A (CeleryExecutor.worker_argv)
        "llmlab_jupyter.executors.local",  # python -m: the local worker process
        "llmlab_jupyter.executors.papermill_run",  # python -m: the job runner process
        "llmlab_jupyter.testing.openai_server",  # python -m: the OpenAI-compatible test server
        "llmlab_jupyter.demo",  # python -m: make seed
    ],
)
def test_modules_started_by_name_still_exist(module: str) -> None:
    assert importlib.util.find_spec(module) is not None


def test_the_default_executor_class_resolves() -> None:
    from llmlab_jupyter.config import LlmLabConfig
    from llmlab_jupyter.executors.base import Executor
    from llmlab_jupyter.executors.local import LocalExecutor

    cls = LlmLabConfig().executor_class
    assert cls is LocalExecutor and issubclass(cls, Executor)


def test_the_scorer_plugin_api_is_where_plugins_import_it() -> None:
    scorers = importlib.import_module("llmlab_jupyter.experiments.scorers")
    for name in ("Scorer", "OptionScorer", "Score", "ScoreInput", "build_scorer"):
        assert hasattr(scorers, name), name
