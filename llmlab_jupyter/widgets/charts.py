"""Bokeh charts of experiments: score distributions, score vs cost and latency, cost and
tokens per variant, and a prompt's score history over runs.

The builders take plain data (the dicts of ``ExperimentService.results`` / ``summary``)
and return bokeh objects without doing any I/O, so tests inspect their glyph data.
:func:`show` displays them with BokehJS inlined (``INLINE`` resources): the charts
render offline, in papermill-executed notebooks and in HTML exported from them.
Bokeh shows titles, axis labels and hover values as text, never as HTML.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, DataRange1d, FactorRange, HoverTool
from bokeh.models.annotations.geometry import Whisker
from bokeh.palettes import Category10_10
from bokeh.plotting import figure

WIDTH = 460
HEIGHT = 300


def _color(i: int) -> str:
    return Category10_10[i % len(Category10_10)]


def _num(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and value is not None else math.nan


def score_distribution(
    results: Sequence[dict[str, Any]], variants: Sequence[str], scorer: str, *, bins: int = 10
) -> Any:
    """Histogram of ``scorer`` per variant (bars side by side within each bin)."""
    values: dict[int, list[float]] = {i: [] for i in range(len(variants))}
    for r in results:
        value = r["scores"].get(scorer)
        if value is not None and not math.isnan(value) and r["variant_idx"] in values:
            values[r["variant_idx"]].append(float(value))
    flat = [v for vs in values.values() for v in vs]
    lo, hi = (min(flat), max(flat)) if flat else (0.0, 1.0)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    width = (hi - lo) / bins
    data: dict[str, Any] = {"variant": [], "left": [], "right": [], "count": [], "color": []}
    n = max(1, len(variants))
    for i, name in enumerate(variants):
        counts = [0] * bins
        for v in values[i]:
            counts[min(bins - 1, int((v - lo) / width))] += 1
        for b, count in enumerate(counts):
            left = lo + b * width + i * width / n
            data["variant"].append(name)
            data["left"].append(left)
            data["right"].append(left + width / n)
            data["count"].append(count)
            data["color"].append(_color(i))
    p = figure(
        title=f"{scorer}: distribution per variant",
        width=WIDTH,
        height=HEIGHT,
        x_axis_label=scorer,
        y_axis_label="results",
        tools="pan,box_zoom,reset,save",
    )
    p.quad(
        source=ColumnDataSource(data),
        left="left",
        right="right",
        bottom=0,
        top="count",
        fill_color="color",
        line_color="white",
        legend_group="variant",
        name="distribution",
    )
    p.add_tools(HoverTool(tooltips=[("variant", "@variant"), ("results", "@count")]))
    p.legend.location = "top_left"
    p.legend.label_text_font_size = "8pt"
    return p


def score_vs(summary: Sequence[dict[str, Any]], scorer: str, metric: str) -> Any:
    """Mean ``scorer`` (with its CI) per variant against ``metric`` (cost or latency)."""
    data: dict[str, Any] = {
        "variant": [s["variant"] for s in summary],
        "x": [_num(s.get(metric)) for s in summary],
        "y": [_num(s.get(f"{scorer}.mean")) for s in summary],
        "low": [_num(s.get(f"{scorer}.ci_low")) for s in summary],
        "high": [_num(s.get(f"{scorer}.ci_high")) for s in summary],
        "color": [_color(i) for i in range(len(summary))],
    }
    label = {"cost_usd": "total cost ($)", "latency_p50_ms": "latency p50 (ms)"}.get(metric, metric)
    p = figure(
        title=f"{scorer} vs {label}",
        width=WIDTH,
        height=HEIGHT,
        x_axis_label=label,
        y_axis_label=f"mean {scorer}",
        tools="pan,box_zoom,reset,save",
    )
    source = ColumnDataSource(data)
    p.scatter("x", "y", source=source, size=11, color="color", name=f"score_vs_{metric}")
    p.add_layout(Whisker(source=source, base="x", lower="low", upper="high"))
    p.add_tools(
        HoverTool(tooltips=[("variant", "@variant"), (label, "@x"), (scorer, "@y [@low, @high]")])
    )
    return p


def cost_and_tokens(summary: Sequence[dict[str, Any]]) -> Any:
    """Two bar charts: cost per variant, and prompt + completion tokens per variant."""
    names = [s["variant"] for s in summary]
    cost = figure(
        title="cost per variant ($)",
        x_range=FactorRange(factors=names),
        y_range=DataRange1d(start=0),
        width=WIDTH,
        height=HEIGHT,
        tools="save",
    )
    cost.vbar(
        source=ColumnDataSource(
            {
                "variant": names,
                "cost": [_num(s.get("cost_usd")) for s in summary],
                "color": [_color(i) for i in range(len(names))],
            }
        ),
        x="variant",
        top="cost",
        width=0.7,
        color="color",
        name="cost",
    )
    cost.add_tools(HoverTool(tooltips=[("variant", "@variant"), ("cost $", "@cost")]))
    tokens = figure(
        title="tokens per variant",
        x_range=FactorRange(factors=names),
        y_range=DataRange1d(start=0),
        width=WIDTH,
        height=HEIGHT,
        tools="save",
    )
    tokens.vbar_stack(
        ["prompt_tokens", "completion_tokens"],
        x="variant",
        width=0.7,
        color=[_color(0), _color(1)],
        source=ColumnDataSource(
            {
                "variant": names,
                "prompt_tokens": [int(s.get("prompt_tokens") or 0) for s in summary],
                "completion_tokens": [int(s.get("completion_tokens") or 0) for s in summary],
            }
        ),
        legend_label=["prompt", "completion"],
        name=["tokens_prompt", "tokens_completion"],
    )
    tokens.legend.location = "top_left"
    for p in (cost, tokens):
        p.xaxis.major_label_orientation = 0.5
    return cost, tokens


def history(points: Sequence[dict[str, Any]], prompt: str, scorer: str) -> Any:
    """A prompt's mean ``scorer`` per experiment over time, one line per model.

    ``points`` hold ``created_at``, ``experiment``, ``prompt_version``, ``model``,
    ``mean``, ``ci_low`` and ``ci_high``.
    """
    p = figure(
        title=f"{prompt}: {scorer} over runs",
        width=2 * WIDTH,
        height=HEIGHT,
        x_axis_type="datetime",
        x_axis_label="experiment created",
        y_axis_label=f"mean {scorer}",
        tools="pan,box_zoom,reset,save",
    )
    models = sorted({pt["model"] for pt in points})
    for i, model in enumerate(models):
        mine = sorted((pt for pt in points if pt["model"] == model), key=lambda x: x["created_at"])
        source = ColumnDataSource(
            {
                "x": [pt["created_at"] for pt in mine],
                "y": [_num(pt["mean"]) for pt in mine],
                "low": [_num(pt["ci_low"]) for pt in mine],
                "high": [_num(pt["ci_high"]) for pt in mine],
                "experiment": [pt["experiment"] for pt in mine],
                "version": [pt["prompt_version"] for pt in mine],
                "model": [model] * len(mine),
            }
        )
        p.line("x", "y", source=source, color=_color(i), legend_label=model)
        p.scatter("x", "y", source=source, color=_color(i), size=9, name=f"history_{i}")
        p.add_layout(Whisker(source=source, base="x", lower="low", upper="high"))
    p.add_tools(
        HoverTool(
            tooltips=[
                ("experiment", "@experiment"),
                ("version", "@version"),
                ("model", "@model"),
                (scorer, "@y [@low, @high]"),
            ]
        )
    )
    if models:
        p.legend.location = "bottom_left"
    return p


def experiment_charts(
    results: Sequence[dict[str, Any]],
    summary: Sequence[dict[str, Any]],
    scorers: Sequence[str],
) -> Any:
    """All charts of one experiment as one bokeh layout (a column of rows)."""
    variants = [s["variant"] for s in summary]
    rows = []
    for scorer in scorers:
        rows.append(
            row(
                score_distribution(results, variants, scorer),
                score_vs(summary, scorer, "cost_usd"),
                score_vs(summary, scorer, "latency_p50_ms"),
            )
        )
    rows.append(row(*cost_and_tokens(summary)))
    return column(*rows)


def figures(layout: Any) -> list[Any]:
    """Every figure inside a bokeh layout (for tests and notebooks)."""
    from bokeh.plotting import figure as figure_type

    return [m for m in layout.references() if isinstance(m, figure_type)]


def renderer_data(layout: Any, name: str) -> dict[str, list[Any]]:
    """The data of the glyph renderer called ``name`` in ``layout``."""
    found = layout.select_one({"name": name})
    if found is None:
        raise KeyError(name)
    return {k: list(v) for k, v in found.data_source.data.items()}


def show(layout: Any) -> Any:
    """Display a bokeh object in the notebook with BokehJS inlined; returns it."""
    from bokeh.io import output_notebook
    from bokeh.io import show as bokeh_show
    from bokeh.resources import INLINE

    output_notebook(resources=INLINE, hide_banner=True)
    bokeh_show(layout)
    return layout
