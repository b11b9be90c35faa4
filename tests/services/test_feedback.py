"""Human feedback on results, on SQLite and PostgreSQL: validation, upsert, roles, columns."""

from __future__ import annotations

import math

import pytest

from llmlab_jupyter.exceptions import InvalidInput, NotFound, PermissionDenied
from llmlab_jupyter.services import Caller

P = "default"
ROWS = 6


@pytest.fixture
def run(lab):
    """A completed two-variant experiment with labels ``good``/``bad``/``off-topic``."""
    lab.prompts.save("summarize", "Summarize: {{ article }}", model="fake/echo")
    lab.prompts.save("summarize", "Short: {{ article }}", model="fake/echo")
    lab.datasets.import_(
        "news",
        [{"article": f"story {i}", "expected": f"Short: story {i}"} for i in range(ROWS)],
    )
    return lab.experiment(
        dataset="news",
        variants=["summarize@1", "summarize@2"],
        scorers=["exact_match"],
        name="fb",
        feedback_labels=["good", "bad", "off-topic"],
    ).run(progress=False)


def test_give_stores_one_record_per_result_and_user_and_updates_it(services, alice, run):
    fb = services.feedback.give(alice, P, "fb", 1, 2, thumbs=1, rating=4, label="good")
    assert (fb.user, fb.thumbs, fb.rating, fb.label, fb.comment) == ("alice", 1, 4, "good", "")
    again = services.feedback.give(alice, P, "fb", 1, 2, comment="concise")
    # fields not given are kept; the same row is updated, not duplicated
    assert (again.thumbs, again.rating, again.label, again.comment) == (1, 4, "good", "concise")
    assert again.created_at == fb.created_at and again.updated_at >= fb.updated_at
    cleared = services.feedback.give(alice, P, "fb", 1, 2, thumbs=None, label=None)
    assert (cleared.thumbs, cleared.label, cleared.rating) == (None, None, 4)
    assert len(services.feedback.list(alice, P, "fb")) == 1


def test_every_user_has_their_own_record(services, alice, run):
    services.projects.set_member(alice, P, "bob", "editor")
    bob = Caller("bob")
    services.feedback.give(alice, P, "fb", 0, 0, thumbs=1)
    services.feedback.give(bob, P, "fb", 0, 0, thumbs=-1, rating=2)
    items = services.feedback.list(alice, P, "fb")
    assert [(f.user, f.thumbs) for f in items] == [("alice", 1), ("bob", -1)]
    assert [f.user for f in services.feedback.list(alice, P, "fb", user="bob")] == ["bob"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"thumbs": 0}, "thumbs"),
        ({"thumbs": 2}, "thumbs"),
        ({"thumbs": True}, "thumbs"),
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": 3.5}, "rating"),
        ({"label": "great"}, "label"),
        ({"label": ""}, "label"),
        ({"comment": "x" * 10_001}, "comment"),
        ({"comment": 5}, "comment"),
        ({}, "feedback"),
    ],
)
def test_bad_feedback_is_refused_and_changes_nothing(services, alice, run, fields, field):
    with pytest.raises(InvalidInput) as err:
        services.feedback.give(alice, P, "fb", 0, 0, **fields)
    assert err.value.field == field
    assert services.feedback.list(alice, P, "fb") == []


def test_a_comment_of_10000_chars_is_accepted(services, alice, run):
    fb = services.feedback.give(alice, P, "fb", 0, 0, comment="x" * 10_000)
    assert len(fb.comment) == 10_000


def test_unknown_variant_row_or_experiment_are_refused(services, alice, run):
    with pytest.raises(InvalidInput) as err:
        services.feedback.give(alice, P, "fb", 2, 0, thumbs=1)
    assert err.value.field == "variant_idx"
    with pytest.raises(NotFound):
        services.feedback.give(alice, P, "fb", 0, ROWS, thumbs=1)
    with pytest.raises(InvalidInput):
        services.feedback.give(alice, P, "fb", 0, -1, thumbs=1)
    with pytest.raises(NotFound):
        services.feedback.give(alice, P, "nope", 0, 0, thumbs=1)


def test_labels_are_free_when_no_set_is_configured(lab, services, alice, run):
    free = lab.experiment(dataset="news", variants=["summarize@1"], name="free")
    free.run(progress=False)
    assert services.feedback.labels(alice, P, "free") == []
    assert services.feedback.give(alice, P, "free", 0, 0, label="anything").label == "anything"
    assert services.feedback.labels(alice, P, "fb") == ["good", "bad", "off-topic"]


@pytest.mark.parametrize("labels", ["good", [], ["a", "a"], [""], [1], ["x" * 101]])
def test_bad_label_sets_are_refused_at_creation(lab, run, labels):
    with pytest.raises(InvalidInput) as err:
        lab.experiment(dataset="news", variants=["summarize@1"], feedback_labels=labels)
    assert err.value.field == "feedback_labels"


def test_viewers_read_feedback_but_cannot_give_it(services, alice, run):
    services.projects.set_member(alice, P, "vera", "viewer")
    vera = Caller("vera")
    services.feedback.give(alice, P, "fb", 0, 0, thumbs=1)
    with pytest.raises(PermissionDenied):
        services.feedback.give(vera, P, "fb", 0, 1, thumbs=1)
    assert len(services.feedback.list(vera, P, "fb")) == 1
    with pytest.raises(NotFound):
        services.feedback.list(Caller("mallory"), P, "fb")


def test_results_and_summary_show_feedback_aggregated_over_users(services, alice, run):
    services.projects.set_member(alice, P, "bob", "editor")
    bob = Caller("bob")
    services.feedback.give(alice, P, "fb", 1, 0, thumbs=1, rating=5, label="good", comment="ok")
    services.feedback.give(bob, P, "fb", 1, 0, thumbs=1, rating=2, label="bad")
    services.feedback.give(bob, P, "fb", 1, 3, thumbs=-1)
    services.feedback.give(bob, P, "fb", 0, 3, rating=1)
    df = run.results()
    r = df[(df.variant_idx == 1) & (df.row_idx == 0)].iloc[0]
    assert (r.feedback_thumbs_up, r.feedback_thumbs_down, r.feedback_mean_rating) == (2, 0, 3.5)
    assert sorted(r.feedback_labels) == ["bad", "good"]
    assert r.feedback_comments == ["alice: ok"]
    untouched = df[(df.variant_idx == 0) & (df.row_idx == 0)].iloc[0]
    assert untouched.feedback_thumbs_up == 0 and math.isnan(untouched.feedback_mean_rating)
    summary = run.summary()
    v2 = summary.loc["summarize@2 · fake/echo"]
    assert (v2.feedback_thumbs_up, v2.feedback_thumbs_down, v2.feedback_rated) == (2, 1, 2)
    assert v2.feedback_mean_rating == 3.5
    v1 = summary.loc["summarize@1 · fake/echo"]
    assert (v1.feedback_thumbs_up, v1.feedback_rated, v1.feedback_mean_rating) == (0, 1, 1.0)


def test_sdk_feedback_gives_and_lists(run):
    fb = run.feedback(1, 4, thumbs=-1, comment="wrong")
    assert (fb.variant_idx, fb.row_idx, fb.thumbs) == (1, 4, -1)
    frame = run.feedback()
    assert list(frame[["variant_idx", "row_idx", "user", "comment"]].iloc[0]) == [
        1,
        4,
        "alice",
        "wrong",
    ]
    with pytest.raises(InvalidInput):
        run.feedback(1, thumbs=1)


def test_feedback_goes_with_its_experiment(services, alice, run):
    services.feedback.give(alice, P, "fb", 0, 0, thumbs=1)
    exp_id, _ = services.store.experiment_id(P, "fb")
    with services.store.tx.write() as s:
        from sqlalchemy import delete

        from llmlab_jupyter.store.orm.experiments import ExperimentRow

        s.execute(delete(ExperimentRow).where(ExperimentRow.id == exp_id))
    assert services.store.list_feedback(exp_id) == []
