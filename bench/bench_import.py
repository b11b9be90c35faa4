"""How long `import llmlab_jupyter` takes in a fresh interpreter (target: <= 0.3 s).

Prints the median and max of 15 cold runs, and what `from llmlab_jupyter import Lab`
plus opening the embedded database costs on first use, for comparison.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile

RUNS = 15
IMPORT = (
    "import time; t = time.perf_counter(); import llmlab_jupyter; print(time.perf_counter() - t)"
)
FIRST_USE = (
    "import time, os; t = time.perf_counter(); from llmlab_jupyter import Lab; "
    "lab = Lab(data_dir=os.environ['D']); lab.prompts.list(); print(time.perf_counter() - t)"
)


def measure(code: str, env: dict[str, str] | None = None) -> list[float]:
    out = []
    for _ in range(RUNS):
        res = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
        )
        out.append(float(res.stdout.strip()))
    return out


def main() -> None:
    import os

    times = measure(IMPORT)
    print(
        f"import llmlab_jupyter: median {statistics.median(times) * 1000:.1f} ms, "
        f"max {max(times) * 1000:.1f} ms over {RUNS} runs (target <= 300 ms)"
    )
    with tempfile.TemporaryDirectory() as d:
        env = {**os.environ, "D": d}
        first = measure(FIRST_USE, env)
    print(
        f"first use (import SDK + open/migrate SQLite + list prompts): "
        f"median {statistics.median(first) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
