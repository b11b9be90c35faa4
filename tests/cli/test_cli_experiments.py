"""``llmlab run``, ``llmlab experiments …`` and ``llmlab usage`` on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from llmlab_jupyter.cli import main


@pytest.fixture
def cli(database_url, tmp_path):
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> Result:
        result = runner.invoke(main, ["--database-url", database_url, "--user", "alice", *args])
        assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
        return result

    prompt = tmp_path / "p.txt"
    prompt.write_text("Short: {{ article }}")
    data = tmp_path / "news.csv"
    data.write_text("article,expected\nrain,Short: rain\nsun,Short: sun\nsnow,Short: snow\n")
    run("prompts", "push", "summarize", str(prompt), "-m", "first")
    run("datasets", "import", "news", str(data))
    return run


def test_run_prints_a_summary_and_the_experiment_is_listed(cli):
    out = cli(
        "run",
        "-d",
        "news@1",
        "--prompt",
        "summarize@1",
        "--model",
        "fake/echo",
        "--model",
        "fake/upper",
        "--scorer",
        "exact_match",
        "--name",
        "first",
        "--no-progress",
    ).stdout
    assert "first: completed (6/6, 0 errors" in out
    assert "summarize@1 · fake/echo" in out and "baseline" in out
    assert "0/3/0" in out  # upper-casing loses every row against the exact baseline
    listed = json.loads(cli("experiments", "list", "--json").stdout)
    assert [e["name"] for e in listed] == ["first"]
    shown = json.loads(cli("experiments", "show", "first", "--json").stdout)
    assert shown["summary"][0]["exact_match.mean"] == 1.0
    assert shown["variants"][1]["model"] == "fake/upper"


def test_dry_run_then_resume_uses_the_cache(cli):
    cli(
        "run",
        "-d",
        "news",
        "--prompt",
        "summarize",
        "--model",
        "fake/echo",
        "--name",
        "a",
        "--no-progress",
    )
    plan = cli(
        "run",
        "-d",
        "news",
        "--prompt",
        "summarize",
        "--model",
        "fake/echo",
        "--name",
        "b",
        "--dry-run",
    ).stdout
    assert "0 calls to make, 3 cached" in plan
    assert "b: completed (3/3" in cli("experiments", "resume", "b", "--no-progress").stdout
    usage = json.loads(cli("usage", "--by", "experiment,cache_hit", "--json").stdout)
    assert {(u["experiment"], u["cache_hit"], u["calls"]) for u in usage} == {
        ("a", False, 3),
        ("b", True, 3),
    }


def test_results_csv_and_errors(cli, tmp_path):
    cli(
        "run",
        "-d",
        "news",
        "--prompt",
        "summarize@1",
        "--model",
        "fake/echo",
        "--name",
        "c",
        "--scorer",
        '{"type": "regex", "pattern": "^Short"}',
        "--no-progress",
    )
    path = tmp_path / "out.csv"
    assert "wrote 3 results" in cli("experiments", "results", "c", "--csv", str(path)).stdout
    header = path.read_text().splitlines()[0]
    assert "score.regex" in header and "prompt_hash" in header
    bad = cli("run", "-d", "news", "--prompt", "summarize", "--model", "nope", code=1)
    assert bad.stderr.startswith("error: ") and "Traceback" not in bad.output
    bad_scorer = cli(
        "run",
        "-d",
        "news",
        "--prompt",
        "summarize",
        "--model",
        "fake/echo",
        "--scorer",
        "{not json",
        code=1,
    )
    assert "not valid JSON" in bad_scorer.stderr
    planned = cli(
        "run",
        "-d",
        "news",
        "--prompt",
        "summarize",
        "--model",
        "fake/echo",
        "--name",
        "d",
        "--dry-run",
    ).stdout
    assert "start it with: llmlab experiments resume d" in planned
    assert cli("experiments", "cancel", "d").stdout.strip() == "d: cancelled"
