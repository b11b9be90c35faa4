"""The example notebooks in ``notebooks/`` execute without error, offline, on ``fake/*`` models.

Each notebook runs in a fresh kernel (nbclient, the engine nbval and papermill use) from a
temporary directory; the notebooks themselves use a throw-away database. Cells whose output
changes from run to run (times, names) are not compared; instead each notebook must show
what it is for: the comparison widget, BokehJS inlined, the charts. ``pytest --nbval-lax
notebooks/`` runs the same notebooks through nbval.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
BOKEH_EXEC = "application/vnd.bokehjs_exec.v0+json"


def outputs(nb: Any) -> list[dict[str, Any]]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def execute(name: str, tmp_path: Path) -> Any:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    shutil.copy(NOTEBOOKS / name, tmp_path / name)
    nb = nbformat.read(tmp_path / name, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError (with the traceback) on the first failure
    errors = [o for o in outputs(nb) if o.get("output_type") == "error"]
    assert not errors, errors
    return nb


def test_every_notebook_is_tested():
    assert {p.name for p in NOTEBOOKS.glob("*.ipynb")} == {
        "quickstart.ipynb",
        "compare.ipynb",
        "charts.ipynb",
    }


@pytest.mark.slow
def test_quickstart_runs_a_first_experiment(tmp_path):
    nb = execute("quickstart.ipynb", tmp_path)
    texts = "".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs(nb))
    assert "<ExperimentRun 'quickstart' completed 4/4" in texts
    assert "contains.mean" in texts


@pytest.mark.slow
def test_compare_notebook_shows_the_widget_and_records_feedback(tmp_path):
    nb = execute("compare.ipynb", tmp_path)
    views = [o for o in outputs(nb) if WIDGET_VIEW in o.get("data", {})]
    assert len(views) == 2  # exp.compare() and lab.compare(a, b)
    for view in views:
        snapshot = view["data"]["text/html"]  # the static fallback for exported reports
        assert "llmlab-summary" in snapshot and "<script" not in snapshot
    assert nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    printed = "".join(o.get("text", "") for o in outputs(nb) if o.get("name") == "stdout")
    assert "rows 1–1 of 1 (of 8)" in printed
    texts = "".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs(nb))
    assert "keyword first reads well" in texts and "feedback_mean_rating" in texts


@pytest.mark.slow
def test_charts_notebook_inlines_bokeh_and_exports_to_html(tmp_path):
    nb = execute("charts.ipynb", tmp_path)
    data = [o.get("data", {}) for o in outputs(nb)]
    scripts = "".join(d.get("application/javascript", "") for d in data)
    assert "Bokeh" in scripts and len(scripts) > 500_000  # BokehJS itself, not a link to it
    assert "cdn.bokeh.org" not in scripts
    assert sum(BOKEH_EXEC in d for d in data) == 2  # exp.charts() and the history chart
    from nbconvert import HTMLExporter

    page, _ = HTMLExporter().from_notebook_node(nb)
    assert page.count(BOKEH_EXEC) >= 2 and "cdn.bokeh.org" not in page
