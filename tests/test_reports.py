"""Reports of executed notebooks read the same offline: charts inline, widgets as snapshots."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from llmlab_jupyter.reports import render_report

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "compare.ipynb"


@pytest.mark.slow
def test_comparison_widget_report_needs_no_cdn(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", store_widget_state=True).execute()
    assert "widgets" in nb.metadata  # the live widget state was saved, as papermill does
    html = render_report(nb, provenance={"template": "compare", "package_version": "x"})
    assert 'id="llmlab-provenance"' in html
    assert "application/vnd.jupyter.widget-view+json" not in html
    for cdn in ("unpkg.com", "cdn.jsdelivr.net", "@jupyter-widgets/html-manager"):
        assert cdn not in html
    assert "<table" in html and "llmlab" in html  # the comparison's static snapshot
