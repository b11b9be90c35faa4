"""Benchmark of the local executor: queue-to-start latency and jobs per minute.

    .venv/bin/python bench/bench_jobs.py [--database-url URL] [--jobs 20] [--workers 1 2]

For each worker count it starts a fresh LocalExecutor (worker processes, as the server does),
submits a burst of jobs of two kinds — ``builtin-sleep`` (no kernel: the queue's own overhead)
and ``tiny`` (a real papermill run of a one-cell notebook) — and reports the median and p95
queue-to-start latency (``started_at - created_at`` of each job) and jobs/minute
(jobs / (last finish - first submit)).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(database_url: str | None, workers: int, kind: str, n: int, home: Path) -> dict[str, float]:
    from llmlab_jupyter.config import LlmLabConfig
    from llmlab_jupyter.services import Caller, Services

    templates = home / "templates"
    templates.mkdir(exist_ok=True)
    shutil.copy(ROOT / "tests/jobs/notebooks/tiny.ipynb", templates / "tiny.ipynb")
    config = LlmLabConfig(
        database_url=database_url or f"sqlite:///{home}/bench-{workers}-{kind}.db",
        data_dir=str(home / "data"),
        artifacts_url=str(home / "artifacts"),
        templates_dir=str(templates),
        worker_count=workers,
        scheduler_enabled=False,
    )
    services = Services.from_config(config)
    caller = Caller("bench")
    project = f"bench-{workers}-{kind}-{int(time.time())}"
    services.projects.ensure(caller, project)
    executor = services.executor
    executor.start()
    time.sleep(2.0)  # let the workers start (imports) before the burst
    params = {"seconds": 0} if kind == "builtin-sleep" else {"seconds": 0.0}
    t0 = time.time()
    ids = [services.jobs.submit(caller, project, kind, params).id for _ in range(n)]
    while True:
        jobs = [services.jobs.get(caller, project, i) for i in ids]
        if all(j.final for j in jobs):
            break
        time.sleep(0.1)
    executor.stop()
    services.close()
    assert all(j.state == "succeeded" for j in jobs), [j.error for j in jobs if j.error]
    latency = [(j.started_at - j.created_at).total_seconds() for j in jobs if j.started_at]
    last = max(j.finished_at.timestamp() for j in jobs if j.finished_at)
    return {
        "latency_p50_s": statistics.median(latency),
        "latency_p95_s": _pct(latency, 0.95),
        "jobs_per_min": n / (last - t0) * 60,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--kinds", nargs="+", default=["builtin-sleep", "tiny"])
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="llmlab-bench-"))
    print("| workers | job | jobs | queue→start p50 | p95 | jobs/min |")
    print("|---|---|---|---|---|---|")
    try:
        for kind in args.kinds:
            for workers in args.workers:
                r = run(args.database_url, workers, kind, args.jobs, home)
                print(
                    f"| {workers} | {kind} | {args.jobs} | {r['latency_p50_s']:.2f} s "
                    f"| {r['latency_p95_s']:.2f} s | {r['jobs_per_min']:.0f} |",
                    flush=True,
                )
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
