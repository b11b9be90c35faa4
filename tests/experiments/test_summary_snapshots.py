"""Summaries of finished experiments are stored once computed and served from the database."""

from __future__ import annotations

import math

import pytest

ROWS = 30


@pytest.fixture
def finished(lab, services):
    lab.prompts.save("ask", "Answer: {{ q }}", model="fake/echo")
    lab.prompts.save("ask", "Reply: {{ q }}", model="fake/echo")
    lab.datasets.import_("qs", [{"q": f"q{i}", "expected": f"Reply: q{i}"} for i in range(ROWS)])
    run = lab.experiment(
        dataset="qs@1",
        variants=["ask@1", "ask@2"],
        models=["fake/echo"],
        scorers=["exact_match"],
        name="snap",
    )
    run.run(progress=False)
    return run


def _snapshot(services, name="snap", params="b0:c0.95:t0.0"):
    exp_id, _ = services.store.experiment_id("default", name)
    with services.store.tx.read() as s:
        from sqlalchemy import select

        from llmlab_jupyter.store.orm.experiments import SummarySnapshotRow

        return s.execute(
            select(SummarySnapshotRow.params, SummarySnapshotRow.fingerprint).where(
                SummarySnapshotRow.experiment_id == exp_id
            )
        ).all()


def _fresh_services(services):
    from llmlab_jupyter.services import Services

    return Services.from_config(services.config)


def test_a_finished_run_stores_its_summary_for_the_default_parameters(services, finished):
    rows = _snapshot(services)
    assert [r.params for r in rows] == ["b0:c0.95:t0.0"]
    assert rows[0].fingerprint.split("|")[1] == "completed"


def test_another_process_serves_the_stored_summary_without_computing(
    services, alice, finished, monkeypatch
):
    expected = services.experiments.summary(alice, "default", "snap")
    other = _fresh_services(services)  # a second server process: nothing in its memory
    try:

        def no_compute(*args, **kwargs):
            raise AssertionError("computed again although a snapshot is stored")

        monkeypatch.setattr(other.experiments, "_compute_variant_stats", no_compute)
        got = other.experiments.summary(alice, "default", "snap")
    finally:
        other.close()
    assert got == expected
    assert got[1]["exact_match.mean"] == 1.0 and got[0]["exact_match.mean"] == 0.0
    assert got[1]["exact_match.wins"] == ROWS and got[1]["results"] == ROWS


def test_stored_summary_equals_a_fresh_computation(services, alice, finished):
    stored = _fresh_services(services)
    try:
        from_snapshot = stored.experiments.summary(alice, "default", "snap")
        exp = stored.experiments.get(alice, "default", "snap")
        exp_id, _ = stored.store.experiment_id("default", "snap")
        computed = stored.experiments._compute_variant_stats(exp, exp_id, 0, 0.95, 0.0)
    finally:
        stored.close()
    for row, (head, scores) in zip(from_snapshot, computed, strict=True):
        for key, value in {**head, **scores}.items():
            if isinstance(value, float) and math.isnan(value):
                assert math.isnan(row[key]), key
            else:
                assert row[key] == value, key


def test_other_parameters_are_computed_and_stored_separately(services, alice, finished):
    one = services.experiments.summary(alice, "default", "snap", baseline=1, confidence=0.9)
    assert one[0]["exact_match.losses"] == ROWS  # variant 0 against baseline 1
    assert sorted(r.params for r in _snapshot(services)) == [
        "b0:c0.95:t0.0",
        "b1:c0.9:t0.0",
    ]


def test_feedback_given_after_the_snapshot_shows_in_the_summary(services, alice, finished):
    before = services.experiments.summary(alice, "default", "snap")
    services.feedback.give(alice, "default", "snap", variant_idx=0, row_idx=0, thumbs=1)
    after = _fresh_services(services)
    try:
        got = after.experiments.summary(alice, "default", "snap")
    finally:
        after.close()
    assert before[0]["feedback_thumbs_up"] == 0
    assert got[0]["feedback_thumbs_up"] == 1


def test_a_resumed_run_never_serves_the_old_snapshot(lab, services, alice, use_models):
    use_models(
        {
            "paid/echo": {
                "provider": "fake",
                "api_model": "echo",
                "input_cost_per_million": 100_000.0,
                "output_cost_per_million": 100_000.0,
            }
        }
    )
    lab.prompts.save("ask", "Answer: {{ q }}")
    lab.datasets.import_("qs", [{"q": f"q{i}"} for i in range(ROWS)])
    run = lab.experiment(
        dataset="qs", variants=["ask@1"], models=["paid/echo"], budget_usd=2.0, concurrency=1
    )
    run.run(progress=False)
    stopped = services.experiments.summary(alice, "default", run.name)
    assert run.refresh().status == "budget_exceeded" and stopped[0]["results"] < ROWS
    run.run(progress=False, budget_usd=1000.0)
    other = _fresh_services(services)
    try:
        done = other.experiments.summary(alice, "default", run.name)
    finally:
        other.close()
    assert done[0]["results"] == ROWS
    assert services.experiments.summary(alice, "default", run.name)[0]["results"] == ROWS
