"""The comparison widget in a real JupyterLab: run a notebook, rate a result, check the store."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

NOTEBOOK = "compare-feedback.ipynb"
SOURCE = """\
from llmlab_jupyter import Lab

lab = Lab()
lab.prompts.save("browser-summarize", "Summarize: {{ article }}", model="fake/echo")
lab.prompts.save("browser-summarize", "Short: {{ article }}", model="fake/echo")
lab.datasets.import_(
    "browser-news",
    [{"article": f"story {i} <img src=x onerror=window.__llmlabXss=1>", "expected": "x"}
     for i in range(3)],
)
exp = lab.experiment(
    dataset="browser-news",
    variants=["browser-summarize@1", "browser-summarize@2"],
    scorers=["exact_match"],
    name="browser-feedback",
    feedback_labels=["good", "bad"],
).run(progress=False)
exp.compare(page_size=5)
"""


def _write_notebook(path) -> None:
    path.write_text(
        json.dumps(
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "execution_count": None,
                        "id": "compare",
                        "metadata": {},
                        "outputs": [],
                        "source": SOURCE,
                    }
                ],
                "metadata": {
                    "kernelspec": {
                        "display_name": "Python 3",
                        "language": "python",
                        "name": "python3",
                    }
                },
                "nbformat": 4,
                "nbformat_minor": 5,
            }
        )
    )


def _stored_feedback(lab) -> list[dict]:
    from llmlab_jupyter.config import LlmLabConfig
    from llmlab_jupyter.services import Services

    services = Services.from_config(
        LlmLabConfig(database_url=lab.database_url, data_dir=str(lab.data_dir))
    )
    try:
        exp_id, _ = services.store.experiment_id("default", "browser-feedback")
        return services.store.list_feedback(exp_id)
    finally:
        services.close()


def test_rate_a_result_in_the_comparison_widget(lab, lab_page):
    page = lab_page.page
    _write_notebook(lab.root_dir / NOTEBOOK)
    lab_page.command("docmanager:open", {"path": NOTEBOOK})
    notebook = page.locator(".jp-NotebookPanel:visible")
    expect(notebook).to_be_visible()
    lab_page.wait_kernel_idle(notebook)
    lab_page.command("notebook:run-all-cells")
    widget = notebook.locator(".llmlab-compare")
    expect(widget).to_be_visible(timeout=90_000)
    cells = widget.locator(".llmlab-cell:visible")
    expect(cells).to_have_count(6)  # 3 rows × 2 variants
    expect(widget).to_contain_text("story 0 <img src=x onerror=window.__llmlabXss=1>")

    target = cells.nth(1)  # row 0, variant 1
    target.locator(".llmlab-rating select").select_option(label="4 ★")
    expect(widget.locator(".llmlab-status")).to_contain_text("saved feedback on row 0")
    target.locator(".llmlab-thumbs-up").click()
    target.locator(".llmlab-label select").select_option(label="good")
    expect(target.locator(".llmlab-thumbs-up")).to_have_class(re.compile(r"\bmod-success\b"))
    lab_page.screenshot("compare-widget", widget)

    for _ in range(50):
        stored = _stored_feedback(lab)
        if stored and stored[0]["label"] == "good":
            break
        page.wait_for_timeout(200)
    assert [
        (f["variant_idx"], f["row_idx"], f["thumbs"], f["rating"], f["label"]) for f in stored
    ] == [(1, 0, 1, 4, "good")]
    assert page.evaluate("() => window.__llmlabXss") is None
    assert lab_page.errors == []
