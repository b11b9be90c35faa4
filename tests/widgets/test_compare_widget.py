"""The comparison widget, driven through its widget state (no kernel, no browser)."""

from __future__ import annotations

from typing import Any

import pytest

from llmlab_jupyter.exceptions import InvalidInput, PermissionDenied
from llmlab_jupyter.services import Caller
from llmlab_jupyter.widgets.compare import CompareWidget
from llmlab_jupyter.widgets.compare_state import Column, CompareState

from .conftest import XSS, synthetic_sources


class Recorder:
    """A feedback writer that remembers calls and merges fields like the service does."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int, dict[str, Any]]] = []
        self.stored: dict[tuple[int, int], dict[str, Any]] = {}

    def __call__(self, column: Column, row_idx: int, fields: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((column.key, row_idx, fields))
        record = self.stored.setdefault((column.key, row_idx), {"comment": ""})
        record.update(fields)
        return record


@pytest.fixture
def widget(state):
    state.feedback_labels = ["good", "bad"]
    return CompareWidget(state, write_feedback=Recorder())


def shown_rows(widget: CompareWidget) -> list[int]:
    return [
        int(inp.value.split("#", 1)[1].split("<", 1)[0])
        for inp, _, grid in widget.slots
        if grid.layout.display != "none"
    ]


def test_first_page_is_shown_with_inputs_outputs_and_metrics(widget):
    assert shown_rows(widget) == list(range(10))
    inp, cells, _ = widget.slots[4]
    assert "question: question 4" in inp.value and "topic: cats" in inp.value
    assert "answer 4 text" in cells[0].output.value
    assert cells[2].meta.value == "exact_match=0  30 ms · 8 tok · $0.00300"
    assert widget.page_label.value == "rows 1–10 of 30 (of 30) · page 1/3"
    assert widget.prev.disabled and not widget.next.disabled
    assert "v1" in widget.summary.value and "0/10/20" in widget.summary.value


def test_pager_buttons_and_page_size(widget):
    widget.next.click()
    assert shown_rows(widget) == list(range(10, 20))
    widget.next.click()
    assert widget.next.disabled and shown_rows(widget) == list(range(20, 30))
    widget.prev.click()
    assert shown_rows(widget) == list(range(10, 20))
    widget.page_size.value = 20
    assert len(widget.slots) == 20 and shown_rows(widget) == list(range(20))
    assert widget.page_label.value.endswith("page 1/2")


def test_filter_controls_filter_rows(widget):
    widget.search.value = "dogs"
    assert shown_rows(widget) == [0, 5, 10, 15, 20, 25]
    assert widget.next.disabled
    widget.search.value = ""
    widget.errors.value = True
    assert shown_rows(widget) == [0, 7, 14, 21, 28]
    widget.errors.value = False
    widget.failing.value = "exact_match"
    assert shown_rows(widget) == [0, 3, 4, 6, 8, 9, 12, 15, 16, 18]
    widget.disagree.value = "outputs"
    widget.search.value = "nothing matches this"
    assert shown_rows(widget) == [] and widget.page_label.value == "no rows match (of 30)"


def test_diff_controls_choose_the_pair(widget):
    _, cells, _ = widget.slots[3]
    assert "llmlab-del" in cells[0].output.value and "llmlab-ins" in cells[1].output.value
    widget.diff_a.value = -1
    assert not any("llmlab-ins" in v or "llmlab-del" in v for v in widget.html_values())
    widget.diff_a.value = 1
    widget.diff_b.value = 2
    assert "llmlab-" not in cells[0].output.value and "llmlab-ins" in cells[2].output.value


def test_baseline_changes_the_summary(widget):
    widget.baseline.value = 1
    assert "v1 (baseline)" in widget.summary.value
    assert "10/0/20" in widget.summary.value  # v0 wins where v1 differs


def test_feedback_controls_write_and_show_feedback(widget):
    writer = widget.write_feedback
    _, cells, _ = widget.slots[2]
    view = cells[1]
    view.up.click()
    assert writer.calls[-1] == (1, 2, {"thumbs": 1})
    assert view.up.button_style == "success" and view.down.button_style == ""
    view.up.click()  # clicking again takes the thumb back
    assert writer.calls[-1] == (1, 2, {"thumbs": None}) and view.up.button_style == ""
    view.down.click()
    assert view.down.button_style == "danger"
    view.rating.value = 4
    view.label.value = "good"
    view.comment.value = "too long"
    assert writer.calls[-3:] == [
        (1, 2, {"rating": 4}),
        (1, 2, {"label": "good"}),
        (1, 2, {"comment": "too long"}),
    ]
    view.rating.value = 0
    assert writer.calls[-1] == (1, 2, {"rating": None})
    assert widget.state.feedback_of(2, 1)["thumbs"] == -1
    assert "0/1" in widget.summary.value
    widget.next.click()  # refilling the slots does not write feedback
    widget.prev.click()
    assert len(writer.calls) == 7
    assert (view.down.button_style, view.label.value, view.comment.value) == (
        "danger",
        "good",
        "too long",
    )


def test_a_refused_write_is_reported_and_not_shown_as_saved(state):
    def refuse(column: Column, row_idx: int, fields: dict[str, Any]) -> dict[str, Any]:
        raise PermissionDenied("'vera' is a viewer of 'default' and may not write it")

    widget = CompareWidget(state, write_feedback=refuse)
    view = widget.slots[0][1][0]
    view.rating.value = 3
    assert widget.status.value.startswith("feedback not saved: 'vera' is a viewer")
    assert view.rating.value == 0 and widget.state.feedback_of(0, 0) == {}


def test_without_a_writer_or_result_the_controls_are_off(state):
    del state.rows[1].cells[2]
    widget = CompareWidget(state, write_feedback=None)
    view = widget.slots[1][1][2]
    assert view.box.children[2].layout.display == "none"
    view.up.click()
    assert widget.state.feedback == {}
    with_writer = CompareWidget(state, write_feedback=Recorder())
    assert with_writer.slots[1][1][2].up.disabled and not with_writer.slots[1][1][1].up.disabled


def test_model_and_dataset_text_is_never_html():
    """XSS: inputs, outputs, errors and variant names arrive escaped in every HTML value."""
    (name, variants, results) = synthetic_sources(6, 2)[0]
    variants[1].name = XSS[0]
    for i, r in enumerate(results):
        r["input"] = {"article": XSS[i % 2], XSS[1]: "x"}
        if r["output"] is not None:
            r["output"] = f"{r['output']} {XSS[(i + r['variant_idx']) % 2]}"
    results[3]["error"], results[3]["output"] = XSS[1], None
    state = CompareState.from_results([(name, variants, results)], ["exact_match"])
    widget = CompareWidget(state, write_feedback=Recorder())
    for diff in ((0, 1), (-1, -1)):
        widget.diff_a.value, widget.diff_b.value = diff
        values = widget.html_values()
        joined = "".join(values)
        assert "<img" not in joined and "<script" not in joined, joined
        assert "&lt;img src=x onerror=alert(1)&gt;" in joined or diff == (0, 1)
        assert joined.count("&lt;script") >= 6
    labels = [widget.slots[0][1][1].meta.value, widget.baseline.options[1][0]]
    assert labels[1] == XSS[0]  # Dropdown and Label show text, not HTML


def test_compare_a_stored_experiment_and_give_feedback(lab, services, news_run):
    widget = news_run.compare(baseline=0, other=1, page_size=10)
    assert [c.name for c in widget.state.columns] == [
        "summarize@1 · fake/echo",
        "summarize@2 · fake/echo",
    ]
    assert widget.state.feedback_labels == ["good", "bad"]
    assert "0/0/25" not in widget.summary.value and "25/0/0" in widget.summary.value
    view = widget.slots[3][1][1]
    view.up.click()
    view.rating.value = 5
    view.label.value = "bad"
    stored = services.feedback.list(Caller("alice"), "default", "cmp")
    assert [(f.variant_idx, f.row_idx, f.user, f.thumbs, f.rating, f.label) for f in stored] == [
        (1, 3, "alice", 1, 5, "bad")
    ]
    again = lab.experiments.get("cmp").compare()  # a new widget shows what was given
    assert again.slots[3][1][1].up.button_style == "success"
    assert again.slots[3][1][1].rating.value == 5
    df = news_run.results()
    assert df[(df.variant_idx == 1) & (df.row_idx == 3)].feedback_thumbs_up.iloc[0] == 1


def test_lab_compare_puts_two_experiments_side_by_side(lab, services, news_run):
    other = lab.experiment(
        dataset="news", variants=["summarize@2"], models=["fake/echo"], name="cmp-b"
    ).run(progress=False)
    widget = lab.compare(news_run, "cmp-b", baseline=2)
    names = [c.name for c in widget.state.columns]
    assert names == [
        "cmp: summarize@1 · fake/echo",
        "cmp: summarize@2 · fake/echo",
        "cmp-b: summarize@2 · fake/echo",
    ]
    assert widget.state.diff_pair == (2, 0)
    widget.slots[0][1][2].down.click()
    (fb,) = other.feedback(as_frame=False)
    assert (fb.experiment, fb.variant_idx, fb.row_idx, fb.thumbs) == ("cmp-b", 0, 0, -1)
    lab.datasets.import_("other", [{"article": "a", "expected": "b"}])
    elsewhere = lab.experiment(dataset="other", variants=["summarize@1"], name="cmp-c")
    with pytest.raises(InvalidInput, match="share a dataset version"):
        lab.compare(news_run, elsewhere)
    with pytest.raises(InvalidInput):
        lab.compare(news_run, "cmp")
