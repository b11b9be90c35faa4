"""HTML reports of executed notebooks (nbconvert), with a provenance block on top.

The report keeps the notebook's outputs as nbconvert renders them (bokeh charts made with
``output_notebook(INLINE)`` come with their JavaScript, so they work offline); code cells can
be hidden. The provenance block (job, template, parameters, prompt versions and hashes,
dataset hash, models, package version) is built from plain data and HTML-escaped: nothing
in it is interpreted. The server serves reports with :data:`REPORT_CSP`, a sandbox without
``allow-same-origin``: the report's scripts run in an opaque origin and cannot reach the
Jupyter server or its cookies.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from .exceptions import InvalidInput, MissingDependency

#: Content-Security-Policy of served reports: inline scripts for charts, nothing else.
REPORT_CSP = (
    "sandbox allow-scripts allow-popups; default-src 'none'; "
    "script-src 'unsafe-inline' 'unsafe-eval' https://cdnjs.cloudflare.com; "
    "style-src 'unsafe-inline'; img-src data:; font-src data:; connect-src 'none'; "
    "frame-ancestors 'self'; form-action 'none'; base-uri 'none'"
)

_STYLE = (
    "<style>.llmlab-provenance{font:13px system-ui,sans-serif;margin:16px;padding:12px;"
    "border:1px solid #ccc;border-radius:6px;background:#fafafa}"
    ".llmlab-provenance table{border-collapse:collapse}"
    ".llmlab-provenance td{padding:2px 10px;vertical-align:top;border-top:1px solid #eee}"
    ".llmlab-provenance td:first-child{font-weight:600;white-space:nowrap}"
    ".llmlab-provenance pre{margin:0;white-space:pre-wrap}</style>"
)


def provenance_html(provenance: dict[str, Any]) -> str:
    """The provenance block: one escaped row per key (values as compact JSON)."""
    rows = []
    for key, value in provenance.items():
        text = value if isinstance(value, str) else json.dumps(value, indent=1, default=str)
        rows.append(
            f"<tr><td>{html.escape(str(key))}</td><td><pre>{html.escape(text)}</pre></td></tr>"
        )
    return (
        f'{_STYLE}<section class="llmlab-provenance" id="llmlab-provenance">'
        f"<h2>Provenance</h2><table>{''.join(rows)}</table></section>"
    )


def render_report(
    notebook: str | Path | dict[str, Any],
    *,
    provenance: dict[str, Any],
    hide_code: bool = False,
) -> str:
    """The HTML report of an executed notebook (a path, or the notebook as a dict)."""
    try:
        import nbformat
        from nbconvert import HTMLExporter
    except ImportError as err:  # pragma: no cover - optional extra
        raise MissingDependency(
            "reports need nbconvert: pip install 'llmlab-jupyter[jobs]'"
        ) from err
    try:
        if isinstance(notebook, dict):
            nb = nbformat.from_dict(notebook)
        else:
            nb = nbformat.read(str(notebook), as_version=4)
    except (OSError, ValueError) as err:
        raise InvalidInput(f"not a readable notebook: {err}", field="notebook") from err
    # Live widget views need a widget manager fetched from a CDN. Without the saved widget
    # state nbconvert renders each widget output's static text/html snapshot instead (the
    # comparison widget writes one), so the report reads the same offline.
    nb.metadata.pop("widgets", None)
    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = hide_code
    exporter.exclude_input_prompt = hide_code
    exporter.exclude_output_prompt = hide_code
    body, _resources = exporter.from_notebook_node(nb)
    block = provenance_html(provenance)
    marker = body.find("<body")
    if marker == -1:
        return block + body
    end = body.find(">", marker) + 1
    return body[:end] + block + body[end:]
