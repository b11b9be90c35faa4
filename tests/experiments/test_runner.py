"""The experiment runner on SQLite and PostgreSQL: correctness, resume, budget, cache."""

from __future__ import annotations

import math
import os
import signal
import threading

import pytest

from llmlab_jupyter.exceptions import Conflict, InvalidInput

ROWS = 40


def test_run_gives_one_result_per_row_and_variant_with_scores_and_provenance(lab, news):
    run = lab.experiment(
        dataset="news@1",
        variants=["summarize@1", ("summarize", {"version": 2})],
        models=["fake/echo"],
        scorers=["exact_match", {"type": "contains", "column": "article"}],
    ).run(progress=False)
    exp = run.refresh()
    assert (exp.status, exp.completed_items, exp.error_items) == ("completed", 2 * ROWS, 0)
    df = run.results()
    assert len(df) == 2 * ROWS
    assert not df.duplicated(["row_idx", "variant_idx"]).any()
    v2 = df[df.variant_idx == 1]
    assert (v2["score.exact_match"] == 1.0).all()  # v2 echoes exactly the expected text
    assert (df[df.variant_idx == 0]["score.exact_match"] == 0.0).all()
    assert (df["score.contains"] == 1.0).all()
    row = df.iloc[0]
    pv = lab.prompts.get("summarize", version=1)
    assert row["prompt_hash"] == pv.content_hash
    assert row["dataset_hash"] == news.content_hash
    assert row["model"] == "fake/echo" and row["package_version"]
    assert row["input.article"] == "story number 0"
    summary = run.summary()
    assert summary.loc["summarize@2 · fake/echo", "exact_match.mean"] == 1.0
    assert summary.loc["summarize@2 · fake/echo", "exact_match.wins"] == ROWS
    assert summary.loc["summarize@2 · fake/echo", "exact_match.p_value"] < 0.001
    assert summary.loc["summarize@1 · fake/echo", "error_rate"] == 0.0


def test_plan_errors_name_the_problem_and_store_nothing(lab, news):
    lab.prompts.save("needs-lang", "{{ article }} in {{ language }}", model="fake/echo")
    with pytest.raises(InvalidInput, match="language"):
        lab.experiment(dataset="news", variants=["needs-lang@1"])
    with pytest.raises(InvalidInput) as err:
        lab.experiment(dataset="news", variants=["summarize@1"], models=["nonsense"])
    assert err.value.field == "model"
    with pytest.raises(InvalidInput, match="scorer"):
        lab.experiment(dataset="news", variants=["summarize@1"], scorers=["no_such_scorer"])
    with pytest.raises(InvalidInput, match="budget"):
        lab.experiment(dataset="news", variants=["summarize@1"], budget_usd=-1)
    assert lab.experiments.list() == []


def test_per_row_errors_are_recorded_not_fatal(lab, news):
    run = lab.experiment(
        dataset="news",
        variants=["summarize@1"],
        models=["fake/echo?error_rate=0.5&error_status=400"],
    ).run(progress=False)
    exp = run.refresh()
    assert exp.status == "completed"
    df = run.results()
    failed = df[df.error.notna()]
    assert 0 < len(failed) < ROWS and exp.error_items == len(failed)
    assert set(failed.error_code) == {"provider_error"}
    assert (failed.attempts == 1).all()  # a 400 is not retried
    assert run.summary()["error_rate"].iloc[0] == len(failed) / ROWS


def test_injected_429_and_500_every_row_completes_exactly_once(
    lab, news, services, make_server, use_models
):
    server = make_server(error_rate_429=0.1, error_rate_500=0.1, retry_after=0.01)
    use_models(
        {
            "test/gpt": {
                "provider": "openai",
                "base_url": server.url,
                "max_retries": 8,
                "api_model": "test-model",
            }
        }
    )
    lab.prompts.save("plain", "{{ article }}", model="test/gpt")
    run = lab.experiment(dataset="news", variants=["plain@1"], concurrency=8).run(progress=False)
    df = run.results()
    assert run.refresh().status == "completed"
    assert df.error.isna().all() and len(df) == ROWS
    assert sorted(df.output) == sorted(f"story number {i}" for i in range(ROWS))
    assert all(server.stats.ok_by_input[f"story number {i}"] == 1 for i in range(ROWS))
    assert (df.attempts >= 1).all() and (df.attempts > 1).any()
    hits = server.stats.hits_by_input
    for _, r in df.iterrows():  # the recorded attempts are the requests the server saw
        assert hits[r["output"]] == r["attempts"]


def test_budget_stops_cleanly_and_resume_finishes(lab, news, use_models):
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
    run = lab.experiment(
        dataset="news",
        variants=["summarize@1"],
        models=["paid/echo"],
        budget_usd=3.0,
        concurrency=2,
    )
    per_call = 0.1 * 3 + 0.1 * 3  # 3 words in, 3 words out at $0.1 per token
    dry = run.dry_run()
    assert dry["calls"] == ROWS and dry["est_cost_usd"] > 0
    assert lab.usage().empty  # a dry run spends nothing
    run.run(progress=False)
    exp = run.refresh()
    assert exp.status == "budget_exceeded" and "budget" in exp.message
    assert 3.0 <= exp.spent_usd <= 3.0 + 2 * per_call + 1e-9
    assert exp.completed_items < ROWS
    run.run(progress=False, budget_usd=1000.0)
    exp = run.refresh()
    assert exp.status == "completed" and exp.completed_items == ROWS
    usage = lab.usage(by=["model", "cache_hit"])
    assert usage["calls"].sum() == ROWS  # never paid twice for a row
    assert math.isclose(usage["cost_usd"].sum(), exp.spent_usd)


def test_cache_hits_report_savings_and_can_be_turned_off(lab, news, use_models):
    use_models(
        {
            "paid/echo": {
                "provider": "fake",
                "api_model": "echo",
                "input_cost_per_million": 1.0,
                "output_cost_per_million": 2.0,
            }
        }
    )
    first = lab.experiment(dataset="news", variants=["summarize@1"], models=["paid/echo"])
    first.run(progress=False)
    cost = first.refresh().spent_usd
    assert cost > 0
    second = lab.experiment(dataset="news", variants=["summarize@1"], models=["paid/echo"])
    assert second.dry_run()["cached"] == ROWS
    second.run(progress=False)
    df = second.results()
    assert df.cache_hit.all() and second.refresh().spent_usd == 0
    assert math.isclose(df.saved_usd.sum(), cost)
    assert math.isclose(second.summary()["saved_usd"].iloc[0], cost)
    third = lab.experiment(
        dataset="news", variants=["summarize@1"], models=["paid/echo"], use_cache=False
    )
    third.run(progress=False)
    assert not third.results().cache_hit.any()
    ledger = lab.usage(by=["experiment", "cache_hit"])
    assert ledger["calls"].sum() == 3 * ROWS


def test_errors_are_never_cached(lab, news):
    model = "fake/echo?error_rate=1&error_status=400"
    lab.experiment(dataset="news", variants=["summarize@1"], models=[model]).run(progress=False)
    again = lab.experiment(dataset="news", variants=["summarize@1"], models=[model])
    assert again.dry_run()["cached"] == 0


def test_keyboard_interrupt_then_resume_calls_nothing_twice(lab, news, make_server, use_models):
    server = make_server(latency_ms=30)
    use_models(
        {
            "test/slow": {
                "provider": "openai",
                "base_url": server.url,
                "api_model": "test-model",
                "max_concurrency": 4,
            }
        }
    )
    lab.prompts.save("plain", "{{ article }}", model="test/slow")
    run = lab.experiment(dataset="news", variants=["plain@1"], concurrency=4)
    timer = threading.Timer(0.25, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        run.run(progress=False)
    exp = run.refresh()
    assert exp.status == "interrupted"
    assert 0 < exp.completed_items < ROWS
    done_before = set(run.results().output)
    run.run(progress=False)
    df = run.results()
    assert run.refresh().status == "completed" and len(df) == ROWS
    assert not df.duplicated(["row_idx", "variant_idx"]).any()
    for text in done_before:  # completed rows were not called again
        assert server.stats.hits_by_input[text] == 1


def test_a_running_experiment_cannot_be_run_twice_and_can_be_cancelled(lab, news, services):
    run = lab.experiment(dataset="news", variants=["summarize@1"], models=["fake/echo"])
    first = services.experiments.runner(lab.caller, lab.project, run.name)
    first._claim()
    second = services.experiments.runner(lab.caller, lab.project, run.name)
    with pytest.raises(Conflict, match="already running"):
        second._claim()
    assert run.cancel().status == "cancelled"
    with pytest.raises(Conflict):
        run.cancel()


def test_llm_judge_and_python_scorers_with_usage_for_judge_calls(lab, news):
    def has_story(output, row):
        return "story" in output

    judge = {
        "type": "llm_judge",
        "model": "fake/fixed?text=%7B%22score%22%3A%201%7D",
        "rubric": "Rate {{ output }} against {{ expected }}",
    }
    run = lab.experiment(dataset="news", variants=["summarize@2"], scorers=[has_story, judge])
    run.run(progress=False)
    df = run.results()
    assert (df["score.has_story"] == 1.0).all()
    assert df["score.llm_judge"].notna().all()
    usage = lab.usage(by=["purpose"]).set_index("purpose")
    assert usage.loc["judge", "calls"] == ROWS and usage.loc["completion", "calls"] == ROWS


def test_resuming_with_a_python_scorer_needs_it_again(lab, news, services):
    def has_story(output, row):
        return "story" in output

    run = lab.experiment(dataset="news", variants=["summarize@2"], scorers=[has_story])
    with pytest.raises(InvalidInput, match="has_story"):
        services.experiments.runner(lab.caller, lab.project, run.name)
    run.run(scorers=[has_story], progress=False)
    assert run.refresh().status == "completed"
