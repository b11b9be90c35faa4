"""REST API latency under load: 10,000 stored prompts, 50 concurrent clients, a real server.

Starts ``jupyter server`` with the extension in a subprocess (SQLite by default, or
``--database-url``), stores N prompts through the service layer, then runs closed-loop clients
(aiohttp, one pooled session) against the list and get routes and prints p50/p95/p99 and
throughput per route. Target: p95 <= 50 ms.

    .venv/bin/python bench/bench_api.py [--prompts 10000] [--clients 50] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "server"))
TOKEN = "bench-token"
TARGET_P95_MS = 50.0


def seed(database_url: str, data_dir: Path, count: int) -> float:
    """Store ``count`` prompts (two versions for every tenth, a label on every fifth)."""
    from llmlab_jupyter.config import LlmLabConfig, local_user_name
    from llmlab_jupyter.services import Caller, Services

    started = time.perf_counter()
    services = Services.from_config(LlmLabConfig(database_url=database_url, data_dir=str(data_dir)))
    caller = Caller(local_user_name())
    services.projects.ensure(caller, "default")
    existing = services.store.count_prompts("default")
    for i in range(existing, count):
        name = f"prompt-{i:05d}"
        services.prompts.save(caller, "default", name, f"Question {i}: {{{{ question }}}}")
        if i % 10 == 0:
            services.prompts.save(caller, "default", name, f"Q{i} v2: {{{{ question }}}}")
        if i % 5 == 0:
            services.prompts.set_label(caller, "default", name, "production", 1)
    services.close()
    return time.perf_counter() - started


async def _client(session, base: str, make_path, deadline: float, out: list[float]) -> int:
    errors = 0
    while time.perf_counter() < deadline:
        path, params = make_path()
        t0 = time.perf_counter()
        async with session.get(base + path, params=params) as response:
            await response.read()
            if response.status != 200:
                errors += 1
        out.append((time.perf_counter() - t0) * 1000)
    return errors


async def run_route(base: str, label: str, make_path, clients: int, seconds: float) -> dict:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=clients)
    headers = {"Authorization": f"token {TOKEN}"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        # warm-up
        await asyncio.gather(
            *(
                _client(session, base, make_path, time.perf_counter() + 1, [])
                for _ in range(clients)
            )
        )
        latencies: list[float] = []
        started = time.perf_counter()
        deadline = started + seconds
        errors = sum(
            await asyncio.gather(
                *(_client(session, base, make_path, deadline, latencies) for _ in range(clients))
            )
        )
        wall = time.perf_counter() - started
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    return {
        "route": label,
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / wall,
        "p50": q[49],
        "p95": q[94],
        "p99": q[98],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prompts", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--page", type=int, default=50, help="page size of the list calls")
    args = parser.parse_args()

    from live import live_server

    work = Path(tempfile.mkdtemp(prefix="llmlab-bench-"))
    database_url = args.database_url or f"sqlite:///{work / 'bench.db'}"
    took = seed(database_url, work / "data", args.prompts)
    print(f"seeded {args.prompts} prompts in {took:.1f}s ({database_url.split(':')[0]})")
    n = args.prompts

    def list_page():
        offset = random.randrange(0, max(1, n - args.page))
        return "projects/default/prompts", {"limit": str(args.page), "offset": str(offset)}

    def list_search():
        return "projects/default/prompts", {"search": f"{random.randrange(n):05d}", "limit": "20"}

    def get_prompt():
        return f"projects/default/prompts/prompt-{random.randrange(n):05d}", None

    def get_version():
        return f"projects/default/prompts/prompt-{random.randrange(n):05d}/versions/1", None

    def resolve():
        name = f"prompt-{random.randrange(n // 5) * 5:05d}"
        return f"projects/default/prompts/{name}/resolve", None

    routes = [
        (f"GET prompts?limit={args.page}&offset=random", list_page),
        ("GET prompts?search=", list_search),
        ("GET prompts/{name}", get_prompt),
        ("GET prompts/{name}/versions/1", get_version),
        ("GET prompts/{name}/resolve", resolve),
    ]
    with live_server(work, database_url, token=TOKEN) as url:
        base = url + "llmlab/api/"
        print(
            f"{args.clients} concurrent clients, {args.seconds:.0f}s per route, target p95 <= "
            f"{TARGET_P95_MS:.0f} ms"
        )
        print(
            f"{'route':42} {'requests':>8} {'err':>4} {'req/s':>7} {'p50 ms':>7} "
            f"{'p95 ms':>7} {'p99 ms':>7}"
        )
        worst = 0.0
        for label, make in routes:
            r = asyncio.run(run_route(base, label, make, args.clients, args.seconds))
            worst = max(worst, r["p95"])
            print(
                f"{r['route']:42} {r['requests']:>8} {r['errors']:>4} {r['rps']:>7.0f} "
                f"{r['p50']:>7.1f} {r['p95']:>7.1f} {r['p99']:>7.1f}"
            )
    verdict = "meets" if worst <= TARGET_P95_MS else "MISSES"
    print(f"worst p95 {worst:.1f} ms: {verdict} the {TARGET_P95_MS:.0f} ms target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
