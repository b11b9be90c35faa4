"""Scorers as a user builds and runs them: specs, built-ins, the LLM judge and plugins."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from llmlab_jupyter.exceptions import InvalidInput, ProviderError, TemplateError
from llmlab_jupyter.experiments.scorers import (
    LlmJudge,
    Score,
    ScoreInput,
    Scorer,
    available_scorers,
    build_scorer,
    build_scorers,
)
from llmlab_jupyter.experiments.scorers import registry as scorers


def inp(output: str, expected: Any = None, **row: Any) -> ScoreInput:
    if expected is not None:
        row["expected"] = expected
    return ScoreInput(output=output, row=row, rendered="What is 2+2?")


def value(spec: Any, output: str, expected: Any = None, **row: Any) -> float | None:
    return build_scorer(spec).score(inp(output, expected, **row)).value


# --- built-ins -------------------------------------------------------------------------


def test_exact_match_options() -> None:
    assert value("exact_match", " Paris\n", "Paris") == 1.0
    assert value("exact_match", "paris", "Paris") == 0.0
    assert value({"type": "exact_match", "case_sensitive": False}, "paris", "Paris") == 1.0
    assert value({"type": "exact_match", "strip": False}, " Paris", "Paris") == 0.0
    assert value({"type": "exact_match", "column": "answer"}, "4", answer=4) == 1.0


def test_missing_expected_value_is_no_score_not_a_failure() -> None:
    score = build_scorer("exact_match").score(inp("Paris"))
    assert score.value is None
    assert "expected" in score.reason
    assert value("exact_match", "x", float("nan")) is None
    # The run's own expected value is used when the row has no such column.
    assert build_scorer("exact_match").score(ScoreInput("x", {}, "", expected="x")).value == 1.0


def test_contains_value_or_column() -> None:
    assert value({"type": "contains", "value": "Paris"}, "It is Paris.") == 1.0
    assert value("contains", "It is Paris.", "paris") == 0.0
    assert value({"type": "contains", "case_sensitive": False}, "It is Paris.", "paris") == 1.0


def test_regex_is_compiled_once(monkeypatch: pytest.MonkeyPatch) -> None:
    scorer = build_scorer({"type": "regex", "pattern": r"^\d+$"})

    def no_compile(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("pattern recompiled per call")

    monkeypatch.setattr(re, "compile", no_compile)
    assert scorer.score(inp("42")).value == 1.0
    assert scorer.score(inp("42 apples")).value == 0.0


def test_regex_ignore_case() -> None:
    assert value({"type": "regex", "pattern": "yes", "ignore_case": True}, "YES!") == 1.0


def test_invalid_regex_fails_when_built() -> None:
    with pytest.raises(InvalidInput) as info:
        build_scorer({"type": "regex", "pattern": "(unclosed"})
    assert info.value.field == "pattern"


def test_json_valid_accepts_a_fenced_block() -> None:
    assert value("json_valid", '{"a": 1}') == 1.0
    assert value("json_valid", '```json\n{"a": 1}\n```') == 1.0
    score = build_scorer("json_valid").score(inp("{'a': 1}"))
    assert score.value == 0.0 and "not valid JSON" in score.reason


SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name"],
}


def test_json_schema_reports_where_the_output_is_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    from jsonschema import Draft202012Validator

    scorer = build_scorer({"type": "json_schema", "schema": SCHEMA})

    def no_recheck(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("schema checked again per call")

    monkeypatch.setattr(Draft202012Validator, "check_schema", classmethod(no_recheck))
    assert scorer.score(inp('{"name": "Ada", "age": 36}')).value == 1.0
    wrong = scorer.score(inp('{"name": "Ada", "age": "old"}'))
    assert wrong.value == 0.0 and "$.age" in wrong.reason
    assert scorer.score(inp("not json")).value == 0.0


def test_invalid_json_schema_fails_when_built() -> None:
    with pytest.raises(InvalidInput) as info:
        build_scorer({"type": "json_schema", "schema": {"type": "strnig"}})
    assert info.value.field == "schema"


@pytest.mark.parametrize(
    ("output", "expected", "options", "result"),
    [
        ("The answer is 42.", 42, {}, 1.0),
        ("Total: 1,234.50 USD", "1234.5", {}, 1.0),
        ("about -3.2e2", -320, {}, 1.0),
        ("41.6", 42, {"abs_tol": 0.5}, 1.0),
        ("41.4", 42, {"abs_tol": 0.5}, 0.0),
        ("102", 100, {"rel_tol": 0.05}, 1.0),
        ("106", 100, {"rel_tol": 0.05}, 0.0),
        ("no idea", 42, {}, 0.0),
    ],
)
def test_numeric(output: str, expected: Any, options: dict, result: float) -> None:
    assert value({"type": "numeric", **options}, output, expected) == result


def test_numeric_says_why_it_failed() -> None:
    score = build_scorer("numeric").score(inp("I think 41", 42))
    assert score.reason == "got 41, expected 42"
    assert build_scorer("numeric").score(inp("41", "n/a")).value is None


def test_similarity_value_stays_the_similarity_with_a_threshold() -> None:
    assert value("similarity", "kitten", "kitten") == 1.0
    plain = build_scorer("similarity").score(inp("kitten", "sitting"))
    assert plain.value is not None and 0.4 < plain.value < 0.8
    labelled = build_scorer({"type": "similarity", "threshold": 0.9}).score(
        inp("kitten", "sitting")
    )
    assert labelled.value == plain.value
    assert labelled.reason.startswith("fail")
    with pytest.raises(InvalidInput):
        build_scorer({"type": "similarity", "threshold": 2})


# --- the LLM judge ---------------------------------------------------------------------


class FakeCompletion:
    def __init__(self, text: str, cost_usd: float = 0.002) -> None:
        self.text = text
        self.cost_usd = cost_usd


class FakeGateway:
    def __init__(self, *answers: str | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[Any] = []

    async def complete(self, request: Any) -> FakeCompletion:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return FakeCompletion(answer)


def judge_score(spec: dict, gateway: FakeGateway, **row: Any) -> Score:
    scorer = build_scorer({"type": "llm_judge", "model": "openai/gpt-4o-mini", **spec})
    data = ScoreInput("Paris is the capital.", row, "Capital of France?", expected="Paris")
    return asyncio.run(scorer.ascore(data, gateway))


def test_judge_sends_the_rendered_rubric_and_normalises_the_scale() -> None:
    gateway = FakeGateway('Sure! {"score": 4, "reason": "correct but wordy"} Hope that helps.')
    rubric = "Q: {{ input }}\nA: {{ output }}\nGold: {{ expected }}\nTopic: {{ topic }}"
    score = judge_score({"rubric": rubric, "scale": "1-5"}, gateway, topic="geography")
    assert score == Score(0.75, "correct but wordy", 0.002)
    (request,) = gateway.requests
    assert request.model == "openai/gpt-4o-mini"
    assert request.params["temperature"] == 0
    system, user = request.messages
    assert system["role"] == "system" and '"score"' in system["content"]
    assert "from 1 to 5" in system["content"]
    assert user == {
        "role": "user",
        "content": "Q: Capital of France?\nA: Paris is the capital.\nGold: Paris\nTopic: geography",
    }


def test_judge_default_rubric_and_params() -> None:
    gateway = FakeGateway('{"score": 1, "reason": "ok"}')
    score = judge_score({"params": {"max_tokens": 50}}, gateway)
    assert score.value == 1.0
    request = gateway.requests[0]
    assert request.params == {"temperature": 0, "max_tokens": 50}
    assert "Paris is the capital." in request.messages[1]["content"]


@pytest.mark.parametrize(
    "answer",
    ["I'd say four out of five.", '{"score": 9, "reason": "x"}', '{"score": "high"}', "{oops"],
)
def test_judge_unparsable_answer_is_no_score(answer: str) -> None:
    score = judge_score({"scale": [1, 5]}, FakeGateway(answer))
    assert score.value is None
    assert score.reason.startswith("judge output could not be parsed")
    assert score.cost_usd == 0.002  # the call still cost money


def test_judge_failure_and_bad_rubric_do_not_crash_the_run() -> None:
    failed = judge_score({}, FakeGateway(ProviderError("upstream 500")))
    assert failed.value is None and "upstream 500" in failed.reason
    missing = judge_score({"rubric": "{{ output }} {{ nowhere }}"}, FakeGateway())
    assert missing.value is None and "nowhere" in missing.reason


def test_judge_is_checked_when_built() -> None:
    judge = build_scorer({"type": "llm_judge", "model": "openai/gpt-4o-mini"})
    assert isinstance(judge, LlmJudge)
    assert judge.needs_gateway is True
    assert judge.model == "openai/gpt-4o-mini"  # the runner books the judge's cost to it
    with pytest.raises(TemplateError) as info:
        build_scorer({"type": "llm_judge", "model": "m", "rubric": "{{ output "})
    assert info.value.field == "rubric"
    with pytest.raises(InvalidInput) as bad_scale:
        build_scorer({"type": "llm_judge", "model": "m", "scale": [5, 1]})
    assert bad_scale.value.field == "scale"
    with pytest.raises(InvalidInput):
        judge.score(inp("x"))
    with pytest.raises(InvalidInput):
        asyncio.run(judge.ascore(inp("x")))


# --- callables -------------------------------------------------------------------------


def ends_with_period(output: str, row: dict) -> bool:
    return output.endswith(".")


def test_callable_named_after_the_function() -> None:
    scorer = build_scorer(ends_with_period)
    assert scorer.name == "ends_with_period"
    assert scorer.score(inp("Done.")).value == 1.0
    assert scorer.describe()["function"].endswith(":ends_with_period")


def test_callable_gets_the_arguments_it_asks_for() -> None:
    def by_keyword(output: str, expected: Any) -> tuple[float, str]:
        return float(output == expected), f"wanted {expected}"

    assert build_scorer(by_keyword).score(inp("4", "4")) == Score(1.0, "wanted 4")
    assert build_scorer(lambda out: len(out)).score(inp("abc")).value == 3.0
    assert build_scorer(lambda o, r: r["n"] * 2).score(inp("", n=2)).value == 4.0
    assert build_scorer(lambda **kw: kw["rendered"] == "What is 2+2?").score(inp("")).value == 1.0


def test_callable_return_types() -> None:
    for result, expected in [
        (True, Score(1.0)),
        (np.float64(0.5), Score(0.5)),
        (np.bool_(False), Score(0.0)),
        (None, Score(None)),
        (Score(0.3, "why"), Score(0.3, "why")),
        ((True, "fine"), Score(1.0, "fine")),
    ]:
        assert build_scorer(lambda output, row, r=result: r).score(inp("x")) == expected
    with pytest.raises(InvalidInput):
        build_scorer(lambda output, row: "good").score(inp("x"))


def test_async_callable() -> None:
    async def slow(output: str, row: dict) -> float:
        await asyncio.sleep(0)
        return 0.25

    scorer = build_scorer(slow)
    assert asyncio.run(scorer.ascore(inp("x"))).value == 0.25


# --- building from specs ---------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        "exact_match",
        {"type": "contains", "value": "ok", "case_sensitive": False},
        {"type": "regex", "pattern": "a+", "name": "has_a"},
        "json_valid",
        {"type": "json_schema", "schema": SCHEMA},
        {"type": "numeric", "abs_tol": 0.1, "column": "answer"},
        {"type": "similarity", "threshold": 0.8},
        {"type": "llm_judge", "model": "openai/gpt-4o-mini", "scale": "1-10"},
    ],
)
def test_describe_round_trips_through_json(spec: Any) -> None:
    scorer = build_scorer(spec)
    stored = json.loads(json.dumps(scorer.describe()))
    rebuilt = build_scorer(stored)
    assert rebuilt.describe() == scorer.describe()
    assert type(rebuilt) is type(scorer) and rebuilt.name == scorer.name


def test_unknown_options_are_named() -> None:
    with pytest.raises(InvalidInput) as info:
        build_scorer({"type": "regex", "pattern": "a", "flags": 2, "multiline": True})
    assert "flags" in info.value.message and "multiline" in info.value.message
    with pytest.raises(InvalidInput) as info:
        build_scorer({"type": "regex"})
    assert info.value.field == "pattern"
    with pytest.raises(InvalidInput) as info:
        build_scorer({"type": "exact_match", "strip": "yes"})
    assert info.value.field == "strip"


def test_unknown_type_lists_the_available_ones() -> None:
    with pytest.raises(InvalidInput) as info:
        build_scorer("exactmatch")
    assert "exact_match" in info.value.message and "llm_judge" in info.value.message
    with pytest.raises(InvalidInput):
        build_scorer({"pattern": "a"})
    with pytest.raises(InvalidInput):
        build_scorer({"type": "callable", "function": "os:system"})


def test_instances_pass_through_and_names_must_be_unique() -> None:
    scorer = build_scorer("contains")
    assert build_scorer(scorer) is scorer
    both = build_scorers(["exact_match", {"type": "exact_match", "name": "exact_ci"}])
    assert [s.name for s in both] == ["exact_match", "exact_ci"]
    with pytest.raises(InvalidInput, match="duplicate"):
        build_scorers(["exact_match", {"type": "exact_match", "case_sensitive": False}])


# --- plugins through entry points ------------------------------------------------------

PLUGIN = """
from llmlab_jupyter.experiments.scorers import Score, Scorer


class Shouting(Scorer):
    def score(self, inp):
        return Score(float(inp.output.isupper()))


def min_length(n):
    class MinLength(Scorer):
        type = "min_length"

        def score(self, inp):
            return Score(float(len(inp.output) >= n))

        def options(self):
            return {"n": n}

    return MinLength()
"""


@pytest.fixture
def plugin_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fake installed distribution with a good, a factory and a broken scorer."""
    (tmp_path / "llmlab_test_scorer_plugin.py").write_text(PLUGIN)
    info = tmp_path / "llmlab_test_scorers-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: llmlab-test-scorers\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(
        "[llmlab_jupyter.scorers]\n"
        "shouting = llmlab_test_scorer_plugin:Shouting\n"
        "min_length = llmlab_test_scorer_plugin:min_length\n"
        "broken = llmlab_test_no_such_module:Thing\n"
        "exact_match = llmlab_test_scorer_plugin:Shouting\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    scorers._plugins.cache_clear()
    yield tmp_path
    scorers._plugins.cache_clear()
    sys.modules.pop("llmlab_test_scorer_plugin", None)


def test_entry_point_scorers_are_discovered(
    plugin_dist: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=scorers.__name__):
        names = available_scorers()
    assert "shouting" in names and "min_length" in names
    shouting = build_scorer("shouting")
    assert isinstance(shouting, Scorer)
    assert shouting.score(inp("HELLO")).value == 1.0
    assert shouting.describe() == {"type": "shouting"}
    short = build_scorer({"type": "min_length", "n": 3})
    assert short.score(inp("ab")).value == 0.0
    assert build_scorer(short.describe()).score(inp("abc")).value == 1.0


def test_broken_entry_point_is_skipped_with_a_warning(
    plugin_dist: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=scorers.__name__):
        names = available_scorers()
    assert "broken" not in names
    assert any("'broken'" in r.message and r.levelno == logging.WARNING for r in caplog.records)
    # A plugin cannot shadow a built-in.
    assert any("'exact_match'" in r.message for r in caplog.records)
    assert build_scorer("exact_match").score(inp("a", "a")).value == 1.0
    with pytest.raises(InvalidInput, match="shouting"):
        build_scorer("broken")
