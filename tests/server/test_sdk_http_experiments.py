"""Experiments through ``Lab(url=..., token=...)``: the run happens in the server."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest

from llmlab_jupyter.exceptions import InvalidInput
from llmlab_jupyter.sdk.http.experiments import HttpCompletions, HttpExperiments, HttpFeedback
from llmlab_jupyter.sdk.lab import Lab

from .live_fixtures import Live, live, reset_database  # noqa: F401  (fixture)


@pytest.fixture
def lab(live: Live) -> Iterator[Lab]:  # noqa: F811
    reset_database(live.database_url)
    with Lab(url=live.url, token=live.token) as remote:
        yield remote


def test_an_experiment_runs_on_the_server_and_reads_back(lab):
    lab.prompts.save("summarize", "Summarize: {{ article }}", model="fake/echo")
    lab.prompts.save("summarize", "Short: {{ article }}", model="fake/echo")
    lab.datasets.import_(
        "news", [{"article": f"story {i}", "expected": f"Short: story {i}"} for i in range(10)]
    )
    run = lab.experiment(
        dataset="news@1",
        variants=["summarize@1", ("summarize", {"version": 2})],
        models=["fake/echo"],
        scorers=["exact_match"],
        feedback_labels=["good", "bad"],
    )
    assert run.dry_run()["calls"] == 20
    run.run(progress=False)
    exp = run.refresh()
    assert exp.status == "completed" and exp.completed_items == 20
    df = run.results()
    assert len(df) == 20 and set(df["score.exact_match"]) == {0.0, 1.0}
    summary = run.summary()
    assert summary["exact_match.mean"].tolist() == [0.0, 1.0]
    assert summary["exact_match.wins"].iloc[1] == 10
    run.feedback(1, 0, thumbs=1, rating=5, label="good", comment="spot on")
    stored = run.feedback()
    assert stored[["thumbs", "rating", "label"]].values.tolist() == [[1, 5, "good"]]
    with pytest.raises(InvalidInput):
        run.feedback(1, 0, label="excellent")
    assert lab.usage(by=["model"])["calls"].sum() == 20
    with pytest.raises(InvalidInput, match="Python-function"):
        lab.experiment(dataset="news", variants=["summarize@1"], scorers=[lambda output, row: True])


def test_http_experiment_services_have_the_service_signatures(services):
    for remote, local in [
        (HttpExperiments, type(services.experiments)),
        (HttpFeedback, type(services.feedback)),
        (HttpCompletions, type(services.completions)),
    ]:
        for name, fn in inspect.getmembers(remote, inspect.isfunction):
            if name.startswith("_"):
                continue
            ours = inspect.signature(getattr(local, name)).parameters
            theirs = inspect.signature(fn).parameters
            missing = [
                p
                for p, param in ours.items()
                if p not in theirs
                and p != "self"
                and param.kind not in (param.VAR_KEYWORD, param.VAR_POSITIONAL)
            ]
            if name == "give":  # the HTTP form takes the feedback fields as keywords
                missing = [p for p in missing if p not in ("thumbs", "rating", "label", "comment")]
            assert not missing, f"{remote.__name__}.{name} lacks {missing}"
