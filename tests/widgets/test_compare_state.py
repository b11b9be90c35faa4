"""The comparison's pure state: filters, paging, diff, cell text and summary (no widgets)."""

from __future__ import annotations

import pytest

from llmlab_jupyter.exceptions import InvalidInput
from llmlab_jupyter.widgets.compare_state import CompareState

ROWS = range(30)
DIFFER = {i for i in ROWS if i % 3 == 0} | {i for i in ROWS if i % 4 == 0 and i % 7}
ERRORS = {i for i in ROWS if i % 7 == 0}
DOGS = {i for i in ROWS if i % 5 == 0}


def visible_rows(state: CompareState) -> set[int]:
    return {state.rows[i].row_idx for i in state.visible}


def test_rows_are_built_per_dataset_row_with_every_variant(state):
    assert len(state.rows) == 30 and [c.name for c in state.columns] == ["v0", "v1", "v2"]
    row = state.rows[4]
    assert row.input == {"question": "question 4", "topic": "cats"}
    assert row.cells[2].output == "other 4 text" and row.cells[2].scores == {"exact_match": 0.0}
    assert state.rows[7].cells[2].error == "HTTP 500"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, set(ROWS)),
        ({"disagree": "outputs"}, DIFFER),
        ({"disagree": "scores"}, DIFFER),
        ({"failing_scorer": "exact_match"}, DIFFER),
        ({"failing_scorer": "exact_match", "fail_below": 0.0}, set()),
        ({"only_errors": True}, ERRORS),
        ({"search": "DOGS"}, DOGS),
        ({"search": "other 4 text"}, {4}),
        ({"search": "  question 2  "}, {2, *range(20, 30)}),
        ({"only_errors": True, "search": "dogs"}, ERRORS & DOGS),
        ({"disagree": "scores", "only_errors": True}, DIFFER & ERRORS),
    ],
)
def test_filters(state, filters, expected):
    state.set_filters(**filters)
    assert visible_rows(state) == expected


def test_disagreement_ignores_failed_cells(state):
    state.set_filters(disagree="outputs")
    assert 28 not in visible_rows(state)  # v2 differs on row 28 but failed there


def test_bad_filters_are_refused(state):
    with pytest.raises(InvalidInput):
        state.set_filters(disagree="sometimes")
    with pytest.raises(InvalidInput):
        state.set_filters(failing_scorer="no_such_scorer")
    with pytest.raises(InvalidInput):
        state.set_filters(colour="red")


def test_paging_clamps_and_resets_when_filters_change(state):
    assert (state.n_pages, len(state.page_rows())) == (3, 10)
    state.set_page(2)
    assert [r.row_idx for r in state.page_rows()] == list(range(20, 30))
    state.set_page(99)
    assert state.page == 2
    state.set_page(-1)
    assert state.page == 0
    state.set_page(1)
    state.set_page_size(7)
    assert (state.page, state.n_pages) == (1, 5)  # the first row shown (10) stays on the page
    assert state.page_label() == "rows 8–14 of 30 (of 30) · page 2/5"
    state.set_filters(search="dogs")
    assert (state.page, state.n_pages, len(state.page_rows())) == (0, 1, 6)
    state.set_filters(search="nothing like this")
    assert state.page_rows() == [] and state.n_pages == 1
    assert state.page_label() == "no rows match (of 30)"
    with pytest.raises(InvalidInput):
        state.set_page_size(0)


def test_diff_marks_words_of_the_chosen_pair_only(state):
    row = state.rows[3]  # v0 and v2 say "answer 3 text", v1 "other 3 text"
    assert state.diff_pair == (0, 1)
    left, right = state.cell_html(row, 0), state.cell_html(row, 1)
    assert 'class="llmlab-del"' in left and ">answer</span>" in left
    assert 'class="llmlab-ins"' in right and ">other</span>" in right
    assert "llmlab-" not in state.cell_html(row, 2)
    state.set_diff(1, 2)
    assert "llmlab-" not in state.cell_html(row, 0)
    assert ">other</span>" in state.cell_html(row, 1)
    state.set_diff(None, None)
    assert state.diff_pair is None
    assert "llmlab-" not in state.cell_html(row, 1)
    with pytest.raises(InvalidInput):
        state.set_diff(0, 9)


def test_error_and_missing_cells_say_so(state):
    assert "error: HTTP 500" in state.cell_html(state.rows[7], 2)
    del state.rows[1].cells[1]
    assert "(no result yet)" in state.cell_html(state.rows[1], 1)
    assert state.meta_text(state.rows[1], 1) == ""
    assert state.meta_text(state.rows[1], 2) == "exact_match=1  30 ms · 8 tok · $0.00300"


def test_summary_has_means_with_cis_and_win_loss_tie_against_the_baseline(state):
    s = {e["name"]: e for e in state.summary()}
    assert (s["v0"]["exact_match.mean"], s["v0"]["exact_match.ci_low"]) == (1.0, 1.0)
    assert "exact_match.wins" not in s["v0"]
    v1 = s["v1"]
    assert v1["exact_match.mean"] == pytest.approx(20 / 30)
    assert v1["exact_match.ci_low"] < v1["exact_match.mean"] < v1["exact_match.ci_high"]
    assert (v1["exact_match.wins"], v1["exact_match.losses"], v1["exact_match.ties"]) == (0, 10, 20)
    v2 = s["v2"]
    assert (v2["results"], v2["errors"]) == (30, 5)
    assert (v2["exact_match.losses"], v2["exact_match.ties"]) == (6, 19)
    assert v2["cost_usd"] == pytest.approx(0.09) and v2["mean_latency_ms"] == 30.0
    against_v1 = {e["name"]: e for e in state.summary(baseline=1)}
    assert against_v1["v0"]["exact_match.wins"] == 10
    with pytest.raises(InvalidInput):
        state.summary(baseline=3)


def test_feedback_of_the_user_is_kept_per_cell(state):
    assert state.feedback_of(3, 1) == {}
    state.record_feedback(3, 1, {"thumbs": 1, "rating": None, "user": "alice", "comment": ""})
    assert state.feedback_of(3, 1) == {"thumbs": 1, "rating": None, "label": None, "comment": ""}
    assert state.summary()[1]["thumbs_up"] == 1


def test_columns_of_two_experiments_are_named_after_them():
    from .conftest import synthetic_sources

    (a,) = synthetic_sources(4, 2)
    (b,) = synthetic_sources(4, 1)
    state = CompareState.from_results([a, ("exp-b", *b[1:])], ["exact_match"])
    assert [c.name for c in state.columns] == ["exp: v0", "exp: v1", "exp-b: v0"]
    assert [(c.experiment, c.variant_idx) for c in state.columns] == [
        ("exp", 0),
        ("exp", 1),
        ("exp-b", 0),
    ]
    assert sorted(state.rows[0].cells) == [0, 1, 2]
    with pytest.raises(InvalidInput):
        CompareState.from_results([], [])
    with pytest.raises(InvalidInput):
        CompareState.from_results([a], [], baseline=2)
