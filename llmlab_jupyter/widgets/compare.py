"""The comparison widget: dataset rows × variants, composed from stock ipywidgets.

Layout (an ``AppLayout``): the header holds the per-variant summary and the filter,
baseline and diff controls; the center holds one grid row per dataset row of the
current page (inputs, then each variant's output, scores, latency, tokens, cost and
feedback controls); the footer holds the pager. The row widgets are created once per
page slot and refilled on every page change, so paging 10,000 rows stays fast.

Text from datasets and models is untrusted: it is shown by ``HTML`` widgets only
after :func:`html.escape` (see :mod:`.diff`), or by ``Label`` widgets, which show text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from ..exceptions import LlmLabError
from .compare_state import CompareState, FeedbackWriter, Row

RATING_OPTIONS = [("rate", 0), *[(f"{i} ★", i) for i in range(1, 6)]]
PAGE_SIZES = [10, 20, 50, 100]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.3g}"
    return str(value)


def summary_html(state: CompareState, baseline: int) -> str:
    """The per-variant summary table (every value escaped)."""
    rows = state.summary(baseline)
    head = ["variant", "results", "errors"]
    for name in state.scorers:
        head += [f"{name} mean [95% CI]", f"{name} W/L/T"]
    head += ["latency ms", "cost $", "thumbs up/down"]
    lines = ["<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
    for e in rows:
        cells = [e["name"] + (" (baseline)" if e["column"] == baseline else ""), e["results"]]
        cells.append(e["errors"])
        for name in state.scorers:
            mean, low, high = (e[f"{name}.{k}"] for k in ("mean", "ci_low", "ci_high"))
            cells.append(f"{_fmt(mean)} [{_fmt(low)}, {_fmt(high)}]")
            wlt = (e.get(f"{name}.{k}") for k in ("wins", "losses", "ties"))
            cells.append("/".join(str(x) for x in wlt) if e["column"] != baseline else "–")
        cells += [_fmt(e["mean_latency_ms"]), f"{e['cost_usd']:.4f}"]
        cells.append(f"{e['thumbs_up']}/{e['thumbs_down']}")
        lines.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    return '<table class="llmlab-summary">' + "".join(lines) + "</table>"


class CellView:
    """The widgets of one (page slot, column): output, metrics and feedback controls."""

    def __init__(
        self,
        labels: list[str],
        on_feedback: Callable[[dict[str, Any]], None],
        *,
        enabled: bool = True,
    ) -> None:
        self._on_feedback = on_feedback
        self._labels = list(labels)
        self.quiet = False
        self.output = w.HTML()
        self.meta = w.Label(layout=w.Layout(width="auto"))
        small = w.Layout(width="44px")
        # Font Awesome icons ship with JupyterLab (no emoji font needed, works offline)
        self.up = w.Button(icon="thumbs-up", tooltip="thumbs up", layout=small)
        self.down = w.Button(icon="thumbs-down", tooltip="thumbs down", layout=small)
        self.rating = w.Dropdown(options=RATING_OPTIONS, value=0, layout=w.Layout(width="80px"))
        self.label = w.Dropdown(
            options=[("label", ""), *[(x, x) for x in labels]],
            value="",
            layout=w.Layout(width="120px", display="" if labels else "none"),
        )
        self.comment = w.Text(placeholder="comment", continuous_update=False)
        self.up.on_click(lambda _: self._thumbs(1))
        self.down.on_click(lambda _: self._thumbs(-1))
        self.rating.observe(self._changed("rating"), names="value")
        self.label.observe(self._changed("label"), names="value")
        self.comment.observe(self._changed("comment"), names="value")
        self.thumbs: int | None = None
        controls = w.HBox([self.up, self.down, self.rating, self.label])
        feedback = w.VBox(
            [controls, self.comment], layout=w.Layout(display="" if enabled else "none")
        )
        self.box = w.VBox([self.output, self.meta, feedback])
        for widget, name in [
            (self.box, "cell"),
            (self.up, "thumbs-up"),
            (self.down, "thumbs-down"),
            (self.rating, "rating"),
            (self.label, "label"),
            (self.comment, "comment"),
        ]:
            widget.add_class(f"llmlab-{name}")  # stable hooks for styling and browser tests

    def _thumbs(self, value: int) -> None:
        self._on_feedback({"thumbs": None if self.thumbs == value else value})

    def _changed(self, name: str) -> Callable[[dict[str, Any]], None]:
        def handler(change: dict[str, Any]) -> None:
            if self.quiet:
                return
            value = change["new"]
            self._on_feedback({name: value if value not in (0, "") else None})

        return handler

    def show(self, output_html: str, meta: str, feedback: dict[str, Any], present: bool) -> None:
        """Fill the widgets without firing feedback writes."""
        self.quiet = True
        try:
            self.output.value = output_html
            self.meta.value = meta
            self.thumbs = feedback.get("thumbs")
            self.up.button_style = "success" if self.thumbs == 1 else ""
            self.down.button_style = "danger" if self.thumbs == -1 else ""
            self.rating.value = feedback.get("rating") or 0
            label = feedback.get("label") or ""
            if label and label not in self._labels:
                self._labels.append(label)  # given before the label set changed
                self.label.options = [("label", ""), *[(x, x) for x in self._labels]]
            self.label.value = label
            self.comment.value = feedback.get("comment") or ""
            for control in (self.up, self.down, self.rating, self.label, self.comment):
                control.disabled = not present
        finally:
            self.quiet = False


class CompareWidget:
    """Rows × variants with a summary, filters, diff, paging and feedback.

    ``write_feedback(column, row_idx, fields)`` stores feedback and returns the stored
    record; without it the feedback controls are hidden.
    """

    def __init__(
        self, state: CompareState, *, write_feedback: FeedbackWriter | None = None
    ) -> None:
        self.state = state
        self.write_feedback = write_feedback
        cols = state.columns
        col_options = [(c.name, c.key) for c in cols]
        self.summary = w.HTML(summary_html(state, state.baseline))
        self.baseline = w.Dropdown(
            description="baseline", options=col_options, value=state.baseline
        )
        pair = state.diff_pair
        diff_options = [("off", -1), *col_options]
        self.diff_a = w.Dropdown(
            description="diff", options=diff_options, value=pair[0] if pair else -1
        )
        self.diff_b = w.Dropdown(
            description="vs", options=diff_options, value=pair[1] if pair else -1
        )
        self.disagree = w.Dropdown(
            description="show",
            options=[("all rows", ""), ("scores differ", "scores"), ("outputs differ", "outputs")],
        )
        self.failing = w.Dropdown(
            description="failing",
            options=[("any scorer result", ""), *[(s, s) for s in state.scorers]],
        )
        self.search = w.Text(
            description="search", placeholder="text in inputs or outputs", continuous_update=False
        )
        self.errors = w.Checkbox(description="errors only", indent=False)
        self.status = w.Label()
        for control in (self.disagree, self.failing, self.search, self.errors):
            control.observe(self._on_filter, names="value")
        self.baseline.observe(self._on_baseline, names="value")
        self.diff_a.observe(self._on_diff, names="value")
        self.diff_b.observe(self._on_diff, names="value")
        controls = w.VBox(
            [
                w.HBox([self.baseline, self.diff_a, self.diff_b]),
                w.HBox([self.disagree, self.failing, self.search, self.errors]),
            ]
        )
        self.prev = w.Button(description="◀ prev", layout=w.Layout(width="90px"))
        self.next = w.Button(description="next ▶", layout=w.Layout(width="90px"))
        self.page_size = w.Dropdown(
            description="per page",
            options=sorted({*PAGE_SIZES, state.page_size}),
            value=state.page_size,
            layout=w.Layout(width="170px"),
        )
        self.page_label = w.Label()
        self.prev.on_click(lambda _: self.go(self.state.page - 1))
        self.next.on_click(lambda _: self.go(self.state.page + 1))
        self.page_size.observe(self._on_page_size, names="value")
        template = f"minmax(160px, 1fr) repeat({len(cols)}, minmax(220px, 1.5fr))"
        self._grid_layout = w.Layout(
            grid_template_columns=template, grid_gap="4px 12px", width="100%"
        )
        head = [w.HTML("<b>input</b>")]
        head += [w.HTML(f"<b>{html.escape(c.name)}</b>") for c in cols]
        self.header_row = w.GridBox(head, layout=self._grid_layout)
        self.slots: list[tuple[w.HTML, list[CellView], w.GridBox]] = []
        self.rows_box = w.VBox([self.header_row])
        self._page: list[Row] = []
        self._ensure_slots(state.page_size)
        self.layout = w.AppLayout(
            header=w.VBox([self.summary, controls]),
            center=self.rows_box,
            footer=w.HBox([self.prev, self.next, self.page_size, self.page_label, self.status]),
        )
        self.layout.add_class("llmlab-compare")
        self.status.add_class("llmlab-status")
        # rows sized by their content (pane_heights only take px/fr/%, proportional)
        self.layout.layout.grid_template_rows = "auto auto auto"
        self.render()

    # -- slots -----------------------------------------------------------------------------
    def _ensure_slots(self, n: int) -> None:
        labels = self.state.feedback_labels
        enabled = self.write_feedback is not None
        while len(self.slots) < n:
            slot = len(self.slots)
            inp = w.HTML()
            cells = [
                CellView(labels, self._writer(slot, c.key), enabled=enabled)
                for c in self.state.columns
            ]
            grid = w.GridBox(
                [inp, *(c.box for c in cells)],
                layout=w.Layout(
                    grid_template_columns=self._grid_layout.grid_template_columns,
                    grid_gap="4px 12px",
                    width="100%",
                    border_top="1px solid var(--jp-border-color2, #ddd)",
                    padding="4px 0",
                ),
            )
            self.slots.append((inp, cells, grid))
        self.rows_box.children = [self.header_row, *(g for _, _, g in self.slots[:n])]

    def _writer(self, slot: int, key: int) -> Callable[[dict[str, Any]], None]:
        def write(fields: dict[str, Any]) -> None:
            self.give(slot, key, fields)

        return write

    # -- actions ---------------------------------------------------------------------------
    def give(self, slot: int, key: int, fields: dict[str, Any]) -> None:
        """Store feedback for the cell shown in page slot ``slot``, column ``key``."""
        if slot >= len(self._page) or self.write_feedback is None:
            return
        row = self._page[slot]
        try:
            record = self.write_feedback(self.state.columns[key], row.row_idx, fields)
        except LlmLabError as err:
            self.status.value = f"feedback not saved: {err}"
        else:
            self.state.record_feedback(row.row_idx, key, record)
            self.status.value = f"saved feedback on row {row.row_idx}"
        self._show_slot(slot, row)
        self.summary.value = summary_html(self.state, self.state.baseline)

    def go(self, page: int) -> None:
        self.state.set_page(page)
        self.render()

    def _on_filter(self, _change: Any = None) -> None:
        self.state.set_filters(
            disagree=self.disagree.value,
            failing_scorer=self.failing.value,
            search=self.search.value,
            only_errors=self.errors.value,
        )
        self.render()

    def _on_baseline(self, change: dict[str, Any]) -> None:
        self.state.baseline = change["new"]
        self.summary.value = summary_html(self.state, change["new"])

    def _on_diff(self, _change: Any = None) -> None:
        a, b = self.diff_a.value, self.diff_b.value
        self.state.set_diff(None if a < 0 else a, None if b < 0 else b)
        self.render()

    def _on_page_size(self, change: dict[str, Any]) -> None:
        self.state.set_page_size(change["new"])
        self._ensure_slots(self.state.page_size)
        self.render()

    # -- rendering -------------------------------------------------------------------------
    def _show_slot(self, slot: int, row: Row | None) -> None:
        inp, cells, grid = self.slots[slot]
        if row is None:
            grid.layout.display = "none"
            return
        grid.layout.display = "grid"
        inp.value = f"<b>#{row.row_idx}</b>" + self.state.input_html(row)
        for key, view in enumerate(cells):
            view.show(
                self.state.cell_html(row, key),
                self.state.meta_text(row, key),
                self.state.feedback_of(row.row_idx, key),
                present=key in row.cells and self.write_feedback is not None,
            )

    def render(self) -> None:
        """Show the current page of the filtered rows."""
        self._page = self.state.page_rows()
        for slot in range(len(self.slots)):
            self._show_slot(slot, self._page[slot] if slot < len(self._page) else None)
        self.page_label.value = self.state.page_label()
        self.prev.disabled = self.state.page == 0
        self.next.disabled = self.state.page >= self.state.n_pages - 1

    def html_values(self) -> list[str]:
        """Every HTML value the widget shows (tests check that they are escaped)."""
        out = [self.summary.value, *(h.value for h in self.header_row.children)]
        out.append(self.snapshot_html())
        for inp, cells, _ in self.slots:
            out.append(inp.value)
            out.extend(c.output.value for c in cells)
        return out

    def snapshot_html(self) -> str:
        """A static, escaped HTML view of the summary and the current page.

        Sent with the widget as its ``text/html`` alternative, so a report exported
        without the widget state (or read offline) still shows the comparison.
        """
        state = self.state
        head = "".join(f"<th>{html.escape(c.name)}</th>" for c in state.columns)
        lines = [f"<tr><th>input</th>{head}</tr>"]
        for row in state.page_rows():
            cells = "".join(
                f"<td>{state.cell_html(row, c.key)}"
                f"<small>{html.escape(state.meta_text(row, c.key))}</small></td>"
                for c in state.columns
            )
            lines.append(f"<tr><td><b>#{row.row_idx}</b>{state.input_html(row)}</td>{cells}</tr>")
        page = html.escape(state.page_label())
        return (
            f"{summary_html(state, state.baseline)}"
            f'<table class="llmlab-rows">{"".join(lines)}</table><p>{page}</p>'
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = dict(self.layout._repr_mimebundle_(**kwargs) or {})
        bundle["text/html"] = self.snapshot_html()
        return bundle
