"""Gateway throughput benchmark against the OpenAI-compatible test server.

Each scenario runs in a fresh Python process (so imports and peak RSS do not leak
between scenarios); the test server runs in yet another process so that its CPU is
not counted. "wall" is the run itself, after imports and gateway construction.

    python bench/bench_gateway.py            # all scenarios
    python bench/bench_gateway.py --quick    # skip the 100,000-call run

Targets: fast path, N=1000, concurrency 50, 100 ms latency: physical limit
1000 / 50 x 0.1 s = 2.0 s, target <= 1.15x (2.3 s). N=100,000 at 0 ms: peak RSS <= 500 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = "bench/gpt-4o-mini"
ROW = "{:32} {:>7} {:>7} {:>7} {:>11} {:>8} {:>7} {:>6}"


def start_server(latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    """The test server in its own process; returns it and its base URL."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llmlab_jupyter.testing.openai_server",
            "--latency-ms",
            str(latency_ms),
            "--no-record-inputs",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("LISTENING "):
        proc.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    return proc, line.split(" ", 1)[1]


async def _drive(provider: str, url: str, n: int, concurrency: int) -> dict[str, float]:
    from llmlab_jupyter.gateway import ChatRequest, Gateway, ModelRegistry

    os.environ["BENCH_KEY"] = "sk-bench-not-a-real-key"
    spec = {
        "provider": provider,
        "base_url": url,
        "api_key_env": "BENCH_KEY",
        "litellm_model": "openai/gpt-4o-mini",
        "max_concurrency": concurrency,
        "max_retries": 0,
    }
    gw = Gateway(ModelRegistry({MODEL: spec}))
    requests = [
        ChatRequest(MODEL, [{"role": "user", "content": f"question {i} about things"}])
        for i in range(min(n, 1000))
    ]
    next_index = 0
    cost = 0.0
    errors = 0

    async def worker() -> None:
        nonlocal next_index, cost, errors
        while next_index < n:
            i = next_index
            next_index += 1
            try:
                done = await gw.complete(requests[i % len(requests)])
                cost += done.cost_usd
            except Exception:  # counted and reported
                errors += 1

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    await gw.aclose()
    return {"wall_s": wall, "cpu_ms_per_call": cpu * 1000 / n, "errors": errors, "cost": cost}


def scenario(provider: str, latency_ms: float, n: int, concurrency: int) -> dict[str, float]:
    """Run one scenario in this process and return its figures."""
    proc, url = start_server(latency_ms)
    try:
        t0 = time.perf_counter()
        if provider == "litellm":
            from llmlab_jupyter.gateway.litellm_provider import import_litellm

            import_litellm()
        import llmlab_jupyter.gateway.gateway  # noqa: F401 - import cost measured apart

        import_s = time.perf_counter() - t0
        result = asyncio.run(_drive(provider, url, n, concurrency))
    finally:
        proc.terminate()
        proc.wait(10)
    result["import_s"] = import_s
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


SCENARIOS = [
    ("fast path, 100 ms latency", "openai", 100.0, 1000, 50),
    ("fast path, 0 ms latency", "openai", 0.0, 1000, 50),
    ("litellm path, 100 ms latency", "litellm", 100.0, 1000, 50),
    ("fast path, 0 ms, N=100,000", "openai", 0.0, 100_000, 50),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip the N=100,000 run")
    parser.add_argument("--one", help="internal: run one scenario given as JSON")
    args = parser.parse_args()
    if args.one:
        provider, latency, n, concurrency = json.loads(args.one)
        print(json.dumps(scenario(provider, latency, n, concurrency)))
        return
    header = ("scenario", "N", "wall s", "x limit", "CPU ms/call", "import s", "RSS MB", "errors")
    print(ROW.format(*header))
    for label, provider, latency, n, concurrency in SCENARIOS:
        if args.quick and n > 1000:
            continue
        out = subprocess.run(
            [sys.executable, __file__, "--one", json.dumps([provider, latency, n, concurrency])],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        limit = n / concurrency * latency / 1000
        ratio = f"{r['wall_s'] / limit:.2f}" if limit else "-"
        cells = (
            label,
            n,
            f"{r['wall_s']:.2f}",
            ratio,
            f"{r['cpu_ms_per_call']:.3f}",
            f"{r['import_s']:.2f}",
            f"{r['peak_rss_mb']:.0f}",
            int(r["errors"]),
        )
        print(ROW.format(*cells), flush=True)


if __name__ == "__main__":
    main()
