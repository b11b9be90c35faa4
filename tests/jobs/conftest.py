"""Fixtures of the job tests: a config with short leases, the real templates plus ``tiny``
(a real papermill notebook that sleeps ``seconds``), seeded prompts and a dataset, helpers to
wait for jobs and find leftover processes, and ``celery``: real Celery prefork workers (and
"server" processes running the executor's maintenance) as subprocesses on a real Redis."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
REDIS = os.environ.get("LLMLAB_TEST_REDIS_URL", "redis://127.0.0.1:6379")
BROKER_DB = 9  # a separate Redis database, flushed per test
HARNESS_ENV = "LLMLAB_TEST_HARNESS"


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
    from llmlab_jupyter.sdk.lab import Lab

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


def kernel_of(job_id: int, database_url: str) -> Any:
    """The kernel of job ``job_id`` of this test's database, or ``None``. Job ids start at 1
    in every database, so a kernel left by an earlier test can carry the same id."""
    import psutil

    for pid in job_processes():
        try:
            proc = psutil.Process(pid)
            env = proc.environ()
            if (
                env.get("LLMLAB_JOB_ID") == str(job_id)
                and env.get("LLMLAB_DATABASE_URL") == database_url
                and "ipykernel_launcher" in " ".join(proc.cmdline())
            ):
                return proc
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return None


@pytest.fixture
def helpers() -> Any:
    class H:
        wait_for = staticmethod(wait_for)
        job_processes = staticmethod(job_processes)
        kernel_of = staticmethod(kernel_of)

    return H


# -- Celery: real workers and "server" processes ---------------------------------------------
#: The server side of the Celery executor as its own process: the maintenance thread
#: (schedules, reaper, re-dispatch), as ``jupyter lab`` or ``llmlab worker --celery`` runs it.
SERVER_CODE = """
import sys, time
from llmlab_jupyter.executors.local import config_from_env
from llmlab_jupyter.services import Services
services = Services.from_config(config_from_env())
services.executor.start()
print("llmlab test server ready", flush=True)
while True:
    time.sleep(1)
"""


def require_redis(url: str = REDIS) -> None:
    """Skip (or under ``CI=true`` fail) unless Redis answers at ``url``."""
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as err:
        from llmlab_jupyter.testing.services import require_service

        require_service("Redis", f"cannot connect to {url} ({err})")


def _stop_tree(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM ``proc``, SIGKILL it after ``timeout``; then kill any of its descendants left."""
    import psutil

    try:
        family = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for child in family:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()


class CeleryHarness:
    """Celery workers (``celery -A llmlab_jupyter.executors.celery_app worker``, prefork)
    and server processes over the test's database and a Redis broker database."""

    def __init__(self, services: Any, config: Any) -> None:
        self.services = services
        self.config = config
        self.broker_url = f"{REDIS}/{BROKER_DB}"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.mark = uuid.uuid4().hex  # in the environment of everything started here

    def env(self, **overrides: Any) -> dict[str, str]:
        """The environment of a worker or server: the test's config (plus ``overrides``)."""
        from llmlab_jupyter.config import LlmLabConfig
        from llmlab_jupyter.executors.local import CONFIG_ENV, config_to_env

        names = self.config.trait_names(config=True)
        config = LlmLabConfig(**{n: getattr(self.config, n) for n in names})
        config.broker_url = self.broker_url
        for name, value in overrides.items():
            setattr(config, name, value)
        return dict(os.environ, **{CONFIG_ENV: config_to_env(config), HARNESS_ENV: self.mark})

    def start_worker(self, concurrency: int = 2) -> subprocess.Popen[bytes]:
        from llmlab_jupyter.executors.celery_app import CeleryExecutor

        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                *CeleryExecutor.worker_argv(concurrency, loglevel="WARNING"),
                "--without-heartbeat",
                "-n",
                f"llmlab-test-{uuid.uuid4().hex[:6]}@%h",
            ],
            env=self.env(),
            stdin=subprocess.DEVNULL,
        )
        self.procs.append(proc)
        return proc

    def start_server(self) -> subprocess.Popen[bytes]:
        """A server process: only the executor's maintenance (jobs run in the workers)."""
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVER_CODE], env=self.env(), stdin=subprocess.DEVNULL
        )
        self.procs.append(proc)
        return proc

    def pool_children(self, worker: subprocess.Popen[bytes]) -> list[Any]:
        import psutil

        try:
            return list(psutil.Process(worker.pid).children())
        except psutil.NoSuchProcess:
            return []

    def broker_idle(self) -> bool:
        """Every message was consumed and acknowledged (none queued, none unacked)."""
        import redis

        r = redis.Redis.from_url(self.broker_url)
        return not r.llen("celery") and not r.hlen("unacked")

    def close(self) -> None:
        """Stop workers and servers; then kill anything of theirs left (so a test whose
        guarantee failed does not leave orphans behind for the next ones)."""
        import psutil

        for proc in reversed(self.procs):
            _stop_tree(proc, timeout=20)
        self.procs = []
        for proc in psutil.process_iter(["pid"]):
            with contextlib.suppress(psutil.Error):
                if proc.pid != os.getpid() and proc.environ().get(HARNESS_ENV) == self.mark:
                    proc.kill()


@pytest.fixture
def celery(job_config: Any, job_services: Any) -> Iterator[CeleryHarness]:
    """The test's services with the Celery executor on Redis database ``BROKER_DB`` (flushed);
    start workers and servers with ``celery.start_worker()`` / ``celery.start_server()``."""
    require_redis()
    import redis

    job_config.broker_url = f"{REDIS}/{BROKER_DB}"
    job_config.executor_class = "llmlab_jupyter.executors.celery_app.CeleryExecutor"
    redis.Redis.from_url(job_config.broker_url).flushdb()
    for name in ("executor", "jobs", "schedules"):  # rebuilt with the Celery executor
        job_services.__dict__.pop(name, None)
    harness = CeleryHarness(job_services, job_config)
    try:
        yield harness
    finally:
        if "executor" in job_services.__dict__:
            job_services.executor.stop()
        harness.close()
