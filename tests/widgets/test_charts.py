"""Bokeh charts: the data behind each glyph, inline resources, the score history."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from llmlab_jupyter.exceptions import NotFound
from llmlab_jupyter.widgets import charts

from .conftest import synthetic_sources


def test_score_distribution_counts_every_scored_result_per_variant():
    (_, variants, results) = synthetic_sources(30, 3)[0]
    p = charts.score_distribution(results, [v.name for v in variants], "exact_match", bins=4)
    data = charts.renderer_data(p, "distribution")
    totals: dict[str, int] = {}
    for name, count in zip(data["variant"], data["count"], strict=True):
        totals[name] = totals.get(name, 0) + count
    assert totals == {"v0": 30, "v1": 30, "v2": 25}  # v2 failed on 5 rows
    rows = zip(data["variant"], data["left"], data["count"], strict=True)
    v1 = [(left, c) for n, left, c in rows if n == "v1"]
    assert v1[0][1] == 10 and v1[-1][1] == 20  # score 0 in the first bin, 1 in the last
    assert all(r > left for left, r in zip(data["left"], data["right"], strict=True))


def test_distribution_of_no_scores_is_empty_not_an_error():
    p = charts.score_distribution([], ["a"], "exact_match")
    assert sum(charts.renderer_data(p, "distribution")["count"]) == 0


def test_experiment_charts_show_scores_cost_latency_and_tokens(news_run):
    result = news_run.charts(show=False)
    layout = result.layout
    assert len(result.figures()) == 5 and "5 figures" in repr(result)
    names = ["summarize@1 · fake/echo", "summarize@2 · fake/echo"]
    vs_cost = charts.renderer_data(layout, "score_vs_cost_usd")
    assert vs_cost["variant"] == names and vs_cost["y"] == [0.0, 1.0]
    vs_latency = charts.renderer_data(layout, "score_vs_latency_p50_ms")
    assert all(x >= 0 for x in vs_latency["x"])
    cost = charts.renderer_data(layout, "cost")
    assert cost["variant"] == names
    tokens = charts.renderer_data(layout, "tokens_prompt")
    summary = news_run.summary()
    assert tokens["prompt_tokens"] == list(summary["prompt_tokens"])
    assert tokens["completion_tokens"] == list(summary["completion_tokens"])
    dist = charts.renderer_data(layout, "distribution")
    assert sum(dist["count"]) == 50


def test_show_uses_inline_resources(monkeypatch, news_run):
    import bokeh.io

    calls: list[tuple[str, object]] = []
    monkeypatch.setattr(
        bokeh.io, "output_notebook", lambda **kw: calls.append(("output_notebook", kw))
    )
    monkeypatch.setattr(bokeh.io, "show", lambda obj: calls.append(("show", obj)))
    result = news_run.charts()
    from bokeh.resources import INLINE

    assert calls[0] == ("output_notebook", {"resources": INLINE, "hide_banner": True})
    assert calls[1] == ("show", result.layout)


def test_inline_html_needs_no_network(news_run):
    from bokeh.embed import file_html
    from bokeh.resources import INLINE

    page = file_html(news_run.charts(show=False).layout, INLINE, "charts")
    assert "cdn.bokeh.org" not in page and "<script src=" not in page.replace(" ", "")


def test_history_has_one_point_per_experiment_and_model(lab, news_run):
    lab.prompts.save("summarize", "Brief: {{ article }}", model="fake/echo")
    later = lab.experiment(
        dataset="news", variants=["summarize@3"], scorers=["exact_match"], name="later"
    ).run(progress=False)
    lab.experiment(dataset="news", variants=["summarize@3"], name="not-run")
    data = lab.charts.history_data("summarize", dataset="news")
    assert list(data.experiment) == ["cmp", "cmp", "later"]
    assert list(data.prompt_version) == [1, 2, 3]
    assert list(data["mean"]) == [0.0, 1.0, 0.0]
    result = lab.charts.history("summarize", dataset="news@1", show=False)
    points = charts.renderer_data(result.layout, "history_0")
    assert points["experiment"] == ["cmp", "cmp", "later"] and points["y"] == [0.0, 1.0, 0.0]
    assert later.experiment.created_at <= datetime.now(timezone.utc) + timedelta(seconds=1)
    with pytest.raises(NotFound):
        lab.charts.history("summarize", dataset="news@2", show=False)
    with pytest.raises(NotFound):
        lab.charts.history("no-such-prompt", dataset="news", show=False)


def test_history_lines_per_model():
    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    points = [
        {
            "experiment": f"e{i}",
            "created_at": now + timedelta(days=i),
            "prompt_version": 1 + i // 2,
            "model": "fake/a" if i % 2 else "fake/b",
            "mean": i / 10,
            "ci_low": i / 10 - 0.05,
            "ci_high": i / 10 + 0.05,
        }
        for i in range(6)
    ]
    p = charts.history(points, "summarize", "exact_match")
    a, b = charts.renderer_data(p, "history_0"), charts.renderer_data(p, "history_1")
    assert a["model"] == ["fake/a"] * 3 and a["experiment"] == ["e1", "e3", "e5"]
    assert b["y"] == [0.0, 0.2, 0.4]
