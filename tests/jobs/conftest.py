"""Fixtures of the job tests: a config with short leases, the real templates plus ``tiny``
(a real papermill notebook that sleeps ``seconds``), seeded prompts and a dataset, and
helpers to wait for jobs and find leftover processes."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def templates_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    for nb in (ROOT / "templates").glob("*.ipynb"):
        shutil.copy(nb, folder / nb.name)
    shutil.copy(Path(__file__).parent / "notebooks" / "tiny.ipynb", folder / "tiny.ipynb")
    return folder


@pytest.fixture
def job_config(database_url: str, tmp_path: Path, templates_dir: Path) -> Any:
    from llmlab_jupyter.config import LlmLabConfig

    return LlmLabConfig(
        database_url=database_url,
        data_dir=str(tmp_path / "data"),
        artifacts_url=str(tmp_path / "artifacts"),
        templates_dir=str(templates_dir),
        job_lease_s=3.0,
        job_timeout_s=120.0,
        worker_count=1,
    )


@pytest.fixture
def job_services(job_config: Any) -> Iterator[Any]:
    from llmlab_jupyter.services import Caller, Services

    svc = Services.from_config(job_config)
    svc.projects.ensure(Caller("alice"), "default")
    yield svc
    if "executor" in svc.__dict__:
        svc.executor.stop()
    svc.close()


@pytest.fixture
def seeded(job_services: Any) -> Any:
    """Prompt ``greet`` (v1 production: exact; v2 staging: adds "!") and dataset ``golden``."""
    from llmlab_jupyter.client import Lab

    lab = Lab(user="alice", services=job_services, config=job_services.config)
    lab.prompts.save("greet", "{{ text }}", model="fake/echo", message="exact")
    lab.prompts.save("greet", "{{ text }}!", model="fake/echo", message="shouty")
    lab.prompts.label("greet", "production", 1)
    lab.prompts.label("greet", "staging", 2)
    rows = [{"text": f"hello {i}", "expected": f"hello {i}"} for i in range(4)]
    lab.datasets.import_("golden", rows)
    return lab


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def job_processes() -> list[int]:
    """Pids of processes (other than this one) that belong to a job attempt."""
    import psutil

    found = []
    for proc in psutil.process_iter(["pid"]):
        if proc.pid == os.getpid():
            continue
        try:
            if "LLMLAB_JOB_TOKEN" in proc.environ() and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


@pytest.fixture
def helpers() -> Any:
    class H:
        wait_for = staticmethod(wait_for)
        job_processes = staticmethod(job_processes)

    return H
