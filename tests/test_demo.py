"""The demo that ``make lab`` seeds: prompts with versions and labels, a dataset, an experiment."""

from __future__ import annotations

from llmlab_jupyter import demo


def test_demo_seed_is_complete_and_idempotent(lab, monkeypatch):
    monkeypatch.setattr(demo, "local_model_available", lambda: False)  # fast: fake models
    demo.seed(lab)
    demo.seed(lab)
    assert [p.name for p in lab.prompts.list()] == ["summarize", "topic"]
    assert lab.prompts.info("summarize").latest_version == 3
    assert lab.prompts.get("summarize").number == 2  # production
    assert lab.prompts.get("summarize", label="staging").number == 3
    assert lab.datasets.get("news").row_count == len(demo.NEWS)
    runs = lab.experiments.list()
    assert [e.name for e in runs] == ["demo-summaries"]
    assert runs[0].status == "completed" and runs[0].completed_items == 2 * len(demo.NEWS)
