"""A run killed with SIGKILL mid-experiment resumes without calling completed rows again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import yaml

ROWS = 40

CHILD = """
import sys
from llmlab_jupyter import Lab
lab = Lab(user="alice")
lab.experiments.get(sys.argv[1]).run(progress=False)
"""


def test_sigkill_mid_run_then_resume(lab, news, services, make_server, use_models, tmp_path):
    server = make_server(latency_ms=40)
    models = {
        "test/slow": {
            "provider": "openai",
            "base_url": server.url,
            "api_model": "test-model",
            "max_concurrency": 2,
        }
    }
    use_models(models)
    models_file = tmp_path / "models.yaml"
    models_file.write_text(yaml.safe_dump({"models": models}))
    lab.prompts.save("plain", "{{ article }}", model="test/slow")
    run = lab.experiment(dataset="news", variants=["plain@1"], concurrency=2)
    env = {
        **os.environ,
        "LLMLAB_DATABASE_URL": services.config.database_url,
        "LLMLAB_MODELS_FILE": str(models_file),
        "LLMLAB_PROJECT": lab.project,
    }
    child = subprocess.Popen([sys.executable, "-c", CHILD, run.name], env=env)
    try:
        deadline = time.monotonic() + 60
        while run.refresh().completed_items < 5:  # results are written in batches as they arrive
            assert child.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    killed = run.refresh()
    assert killed.status == "running" and 0 < killed.completed_items < ROWS
    stored_before = set(run.results().output)
    assert len(stored_before) == killed.completed_items

    run.run(progress=False)  # the dead runner's lease is taken over at once
    done = run.refresh()
    df = run.results()
    assert done.status == "completed" and done.completed_items == ROWS == len(df)
    assert not df.duplicated(["row_idx", "variant_idx"]).any()
    for text in stored_before:
        assert server.stats.hits_by_input[text] == 1, text
    assert sorted(df.output) == sorted(f"story number {i}" for i in range(ROWS))
