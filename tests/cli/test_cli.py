"""The ``llmlab`` command line, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from llmlab_jupyter.cli import main


@pytest.fixture
def cli(database_url):
    """Run ``llmlab --database-url <db> --user alice …`` and return the click result."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None, user: str = "alice", code: int = 0) -> Result:
        result = runner.invoke(
            main, ["--database-url", database_url, "--user", user, *args], input=input
        )
        assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
        return result

    return run


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


CHAT = """\
messages:
  - role: system
    content: |
      You summarise {{ topic }} news.
      Be brief.
  - role: user
    content: "{{ article }}"
variables: [tone]
model: openai/gpt-4o-mini
params: {temperature: 0.2}
description: News summaries
"""


def test_db_upgrade_creates_the_schema_of_an_empty_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    runner = CliRunner()
    before = runner.invoke(main, ["--database-url", url, "db", "current"])
    assert before.exit_code == 0
    assert "current: (none)" in before.stdout and "out of date" in before.stdout
    up = runner.invoke(main, ["--database-url", url, "db", "upgrade"])
    assert up.exit_code == 0 and "upgraded from empty to revision" in up.stdout
    after = runner.invoke(main, ["--database-url", url, "db", "current"])
    assert "up to date" in after.stdout
    again = runner.invoke(main, ["--database-url", url, "db", "upgrade", "--revision", "head"])
    assert "already at revision" in again.stdout
    listed = runner.invoke(main, ["--database-url", url, "prompts", "list"])
    assert listed.exit_code == 0 and "no prompts" in listed.stdout


def test_db_upgrade_then_current_is_up_to_date(cli):
    assert "revision" in cli("db", "upgrade").stdout
    out = cli("db", "current").stdout.splitlines()
    assert out[0].split()[1] == out[1].split()[1]  # current == head
    assert out[2] == "up to date"


def test_bad_database_url_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["--database-url", "not a url", "db", "current"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: database_url is not a valid database URL")
    assert "Traceback" not in result.output
    down = CliRunner().invoke(
        main, ["--database-url", "postgresql+psycopg://nobody@127.0.0.1:1/x", "db", "current"]
    )
    assert down.exit_code == 1
    assert down.stderr.startswith("error: cannot use the database: connection failed")


def test_data_dir_and_environment_variables(tmp_path):
    runner = CliRunner()
    data = tmp_path / "data"
    pushed = runner.invoke(
        main, ["--data-dir", str(data), "prompts", "push", "hi", "-"], input="Hi"
    )
    assert pushed.exit_code == 0 and (data / "llmlab.db").is_file()
    env = {"LLMLAB_DATABASE_URL": f"sqlite:///{data / 'llmlab.db'}", "LLMLAB_PROJECT": "default"}
    listed = runner.invoke(main, ["prompts", "list", "--json"], env=env)
    assert [p["name"] for p in json.loads(listed.stdout)] == ["hi"]
    other = runner.invoke(main, ["prompts", "list"], env={**env, "LLMLAB_PROJECT": "team"})
    assert other.stdout == "no prompts in project 'team'\n"


def test_push_show_versions_and_unchanged(cli, tmp_path):
    txt = write(tmp_path, "greet.txt", "Hello {{ name }}\n")
    assert cli("prompts", "push", "greet", txt, "-m", "first").stdout == "created greet@1\n"
    again = cli("prompts", "push", "greet", txt, "-m", "again").stdout
    assert again == "unchanged greet@1 (identical to the latest version)\n"
    chat = write(tmp_path, "greet.yaml", CHAT)
    out = cli(
        "prompts",
        "push",
        "greet",
        chat,
        "-m",
        "chat",
        "--param",
        "max_tokens=64",
        "--param",
        "stop=END",
    ).stdout
    assert out == "created greet@2\n"

    shown = json.loads(cli("prompts", "show", "greet@2", "--json").stdout)
    assert shown["kind"] == "chat"
    assert shown["template"][0]["content"] == "You summarise {{ topic }} news.\nBe brief.\n"
    assert shown["params"] == {"temperature": 0.2, "max_tokens": 64, "stop": "END"}
    assert shown["variables"] == ["article", "tone", "topic"]
    assert (shown["model"], shown["message"], shown["created_by"]) == (
        "openai/gpt-4o-mini",
        "chat",
        "alice",
    )

    text = cli("prompts", "show", "greet@1").stdout
    assert "version:   greet@1" in text and "author:    alice" in text
    assert "hash:      sha256:" in text and text.endswith("--- template ---\nHello {{ name }}\n")

    versions = cli("prompts", "versions", "greet").stdout.splitlines()
    assert versions[0].split()[:2] == ["VERSION", "LABELS"]
    assert [line.split()[0] for line in versions[1:]] == ["2", "1"]
    assert "chat" in versions[1] and "first" in versions[2]


def test_push_from_stdin_and_model_override(cli):
    out = cli("prompts", "push", "hi", "-", "--model", "fake/echo", input="Hi {{ who }}").stdout
    assert out == "created hi@1\n"
    shown = json.loads(cli("prompts", "show", "hi", "--json").stdout)
    assert (shown["template"], shown["model"]) == ("Hi {{ who }}", "fake/echo")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.yaml", "template: [unclosed\n", "bad.yaml: not valid YAML"),
        ("bad.yaml", "template: hi\ncolour: red\n", "bad.yaml: unknown key colour"),
        ("bad.yaml", "model: openai/x\n", "bad.yaml: give exactly one of 'template' or 'messages'"),
        (
            "bad.json",
            '{"messages": [{"role": "robot", "content": "x"}]}',
            "bad.json: messages[0].role",
        ),
        ("bad.txt", "Hello {{ name ", "template syntax error"),
        ("bad.yaml", "- just\n- a list\n", "must hold a mapping"),
        ("bad.docx", "Hello", "cannot tell the format of bad.docx"),
    ],
)
def test_bad_prompt_files_exit_1_and_store_nothing(cli, tmp_path, name, text, message):
    result = cli("prompts", "push", "greet", write(tmp_path, name, text), code=1)
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert "Traceback" not in result.output
    assert json.loads(cli("prompts", "list", "--json").stdout) == []


def test_list_filters_and_json(cli, tmp_path):
    cli("prompts", "push", "greet", "-", input="Hello")
    cli("prompts", "push", "summarize", write(tmp_path, "s.yaml", CHAT))
    cli("prompts", "label", "summarize", "production", "1")
    table = cli("prompts", "list").stdout.splitlines()
    assert table[0].split()[:4] == ["NAME", "KIND", "LATEST", "LABELS"]
    assert [line.split()[0] for line in table[1:]] == ["greet", "summarize"]
    assert "production=@1" in table[2] and "News summaries" in table[2]
    names = [
        p["name"]
        for p in json.loads(cli("prompts", "list", "--label", "production", "--json").stdout)
    ]
    assert names == ["summarize"]
    assert "greet" in cli("prompts", "list", "--search", "gre").stdout
    assert "summarize" not in cli("prompts", "list", "--search", "gre").stdout
    assert len(cli("prompts", "list", "--limit", "1").stdout.splitlines()) == 2


def test_label_move_remove_and_history(cli):
    for text in ("one", "two"):
        cli("prompts", "push", "greet", "-", input=text)
    assert cli("prompts", "label", "greet", "production", "1").stdout == "production -> greet@1\n"
    moved = cli("prompts", "label", "greet", "production", "2").stdout
    assert moved == "production -> greet@2 (was @1)\n"
    cli("prompts", "label", "greet", "staging", "1")
    assert (
        cli("prompts", "label", "greet", "staging", "--remove").stdout
        == "removed staging from greet\n"
    )
    missing = cli("prompts", "label", "greet", "staging", "--remove", code=1)
    assert missing.stderr == "error: prompt 'greet' has no label 'staging'\n"
    nope = cli("prompts", "label", "greet", "production", "9", code=1)
    assert "has no version 9" in nope.stderr
    history = cli("prompts", "label", "greet", "--history").stdout.splitlines()
    assert history[0].split() == ["DATE", "LABEL", "FROM", "TO", "BY"]
    moves = [line.split()[2:] for line in history[1:]]
    assert moves == [
        ["production", "-", "@1", "alice"],
        ["production", "@1", "@2", "alice"],
        ["staging", "-", "@1", "alice"],
        ["staging", "@1", "(removed)", "alice"],
    ]
    only = cli("prompts", "label", "greet", "staging", "--history").stdout
    assert "production" not in only
    assert cli("prompts", "show", "greet").stdout.startswith("version:   greet@2")
    cli("prompts", "label", "greet", code=2)  # usage error: no LABEL


def test_diff(cli):
    cli("prompts", "push", "greet", "-", input="Hello {{ name }}\n")
    cli("prompts", "push", "greet", "-", "--param", "temperature=0.5", input="Hi {{ name }}\n")
    out = cli("prompts", "diff", "greet", "1", "2").stdout
    assert "--- greet@1\n+++ greet@2\n" in out
    assert "-Hello {{ name }}\n+Hi {{ name }}\n" in out and "+temperature: 0.5" in out
    assert (
        cli("prompts", "diff", "greet", "1", "1").stdout
        == "no differences between greet@1 and greet@1\n"
    )


def test_render_with_vars_and_vars_file(cli, tmp_path):
    cli("prompts", "push", "greet", "-", input="Hello {{ name }} from {{ place }}!")
    out = cli("prompts", "render", "greet@1", "--var", "name=Ada", "--var", "place=London").stdout
    assert out == "Hello Ada from London!\n"
    vars_file = write(tmp_path, "v.yaml", "name: Bob\nplace: Paris\n")
    out = cli("prompts", "render", "greet", "--vars-file", vars_file, "--var", "place=Rome").stdout
    assert out == "Hello Bob from Rome!\n"
    json_file = write(tmp_path, "v.json", '{"name": "Cy", "place": "Oslo"}')
    assert (
        cli("prompts", "render", "greet", "--vars-file", json_file).stdout
        == "Hello Cy from Oslo!\n"
    )
    missing = cli("prompts", "render", "greet", "--var", "name=Ada", code=1)
    assert missing.stderr == "error: missing variable: place\n"
    cli("prompts", "render", "greet", "--var", "oops", code=2)

    cli("prompts", "push", "chat", write(tmp_path, "c.yaml", CHAT))
    messages = json.loads(
        cli(
            "prompts", "render", "chat", "--var", "topic=AI", "--var", "article=News.", "--json"
        ).stdout
    )
    assert messages == [
        {"role": "system", "content": "You summarise AI news.\nBe brief.\n"},
        {"role": "user", "content": "News."},
    ]
    text = cli("prompts", "render", "chat", "--var", "topic=AI", "--var", "article=News.").stdout
    assert text == "[system]\nYou summarise AI news.\nBe brief.\n[user]\nNews.\n"


def test_datasets_import_list_show(cli, tmp_path):
    csv = write(tmp_path, "qa.csv", "question,answer,n\nwhat?,yes,1\nwhy?,because,2\nhow?,so,3\n")
    assert (
        cli("datasets", "import", "qa", csv, "-m", "first").stdout
        == "created qa@1 (3 rows, 3 columns)\n"
    )
    again = cli("datasets", "import", "qa", csv).stdout
    assert again == "unchanged qa@1 (identical content already stored)\n"
    out = cli(
        "datasets",
        "import",
        "qa",
        "-",
        "--format",
        "jsonl",
        input='{"question": "new?", "answer": "yes", "n": 4}\n',
    ).stdout
    assert out == "created qa@2 (1 rows, 3 columns)\n"

    table = cli("datasets", "list").stdout.splitlines()
    assert table[0].split()[:2] == ["NAME", "LATEST"] and table[1].split()[:2] == ["qa", "2"]
    assert json.loads(cli("datasets", "list", "--json").stdout)[0]["name"] == "qa"

    shown = cli("datasets", "show", "qa@1", "--rows", "2").stdout
    assert "version:  qa@1" in shown and "rows:     3" in shown
    assert "columns:  question (string), answer (string), n (integer)" in shown
    assert "message:  first" in shown and "hash:     sha256:" in shown
    assert "what?" in shown and "why?" in shown and "how?" not in shown
    assert "… 1 more rows" in shown
    data = json.loads(cli("datasets", "show", "qa", "--json").stdout)
    assert data["number"] == 2 and data["rows"] == [{"question": "new?", "answer": "yes", "n": 4}]


def test_bad_dataset_files_exit_1_and_store_nothing(cli, tmp_path):
    bad = write(tmp_path, "bad.jsonl", '{"a": 1}\nnot json\n')
    result = cli("datasets", "import", "qa", bad, code=1)
    assert result.stderr == "error: line 2 is not valid JSON: Expecting value\n"
    odd = cli("datasets", "import", "qa", write(tmp_path, "x.xls", "a"), code=1)
    assert "cannot tell the format" in odd.stderr
    stdin = cli("datasets", "import", "qa", "-", input="a,b\n", code=1)
    assert "--format is required" in stdin.stderr
    assert json.loads(cli("datasets", "list", "--json").stdout) == []


def test_our_errors_print_one_line_and_usage_errors_exit_2(cli):
    missing = cli("prompts", "show", "nope", code=1)
    assert missing.stderr == "error: prompt 'nope' not found\n"
    assert not cli("prompts", "show", "Bad Name", code=1).stderr.count("Traceback")
    cli("prompts", "frobnicate", code=2)
    cli("prompts", "diff", "greet", "one", "2", code=2)
    other = cli("-p", "elsewhere", "prompts", "list", code=1)
    assert other.stderr == "error: project 'elsewhere' not found\n"


def test_other_users_and_projects(cli):
    cli("-p", "research", "prompts", "push", "greet", "-", input="Hi")  # creates 'research'
    assert "greet" in cli("-p", "research", "prompts", "list").stdout
    assert "no prompts" in cli("prompts", "list").stdout  # 'default' is separate
    denied = cli("-p", "research", "prompts", "list", user="mallory", code=1)
    assert denied.stderr == "error: project 'research' not found\n"


def test_export_import_round_trip_is_byte_identical(cli, tmp_path):
    cli("prompts", "push", "greet", "-", "-m", "first\nline two", input="Hello {{ name }}\n")
    cli("prompts", "push", "greet", write(tmp_path, "g.yaml", CHAT), "-m", "chat")
    cli("prompts", "label", "greet", "production", "1")
    cli("prompts", "label", "greet", "production", "2", user="alice")
    cli("prompts", "label", "greet", "staging", "1")
    cli("prompts", "label", "greet", "staging", "--remove")
    cli("datasets", "import", "qa", write(tmp_path, "qa.csv", 'q,a\nwhat?,"multi\nline"\n'))
    out = cli("export", str(tmp_path / "one")).stdout
    assert out.startswith("exported 1 prompt (2 versions, 4 label moves) and 1 dataset (1 version)")

    # into an empty SQLite database, whatever the source database is
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    runner = CliRunner()
    imported = runner.invoke(main, ["--database-url", empty, "import", str(tmp_path / "one")])
    assert imported.exit_code == 0, imported.output
    assert imported.stdout.startswith("imported into 'default': 2 prompt versions, 4 label moves")
    exported = runner.invoke(main, ["--database-url", empty, "export", str(tmp_path / "two")])
    assert exported.exit_code == 0
    files = {p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*") if p.is_file()}
    assert files == {
        p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*") if p.is_file()
    }
    for f in files:
        assert (tmp_path / "one" / f).read_bytes() == (tmp_path / "two" / f).read_bytes(), f
    history = runner.invoke(
        main, ["--database-url", empty, "prompts", "label", "greet", "--history"]
    )
    assert history.stdout.count("alice") == 4

    again = cli("import", str(tmp_path / "one")).stdout
    assert again == "nothing to import: all 3 versions are already in 'default'\n"


def test_import_conflict_exits_1_and_stores_nothing(cli, tmp_path):
    cli("prompts", "push", "alpha", "-", input="A")
    cli("prompts", "push", "zeta", "-", input="Z")
    cli("export", str(tmp_path / "out"))
    cli("-p", "copy", "prompts", "push", "zeta", "-", input="different")
    result = cli("-p", "copy", "import", str(tmp_path / "out"), code=1)
    assert result.stderr.startswith("error: prompt zeta@1 differs")
    assert [
        p["name"] for p in json.loads(cli("-p", "copy", "prompts", "list", "--json").stdout)
    ] == ["zeta"]


def test_import_of_a_bad_folder_exits_1(cli, tmp_path):
    cli("prompts", "push", "greet", "-", input="Hello")
    cli("export", str(tmp_path / "out"))
    version = tmp_path / "out/prompts/greet/v0001.yaml"
    version.write_text(version.read_text().replace("Hello", "Hello {{"))
    result = cli("-p", "copy", "import", str(tmp_path / "out"), code=1)
    assert result.stderr.startswith("error: prompts/greet/v0001.yaml: template syntax error")
    assert json.loads(cli("-p", "copy", "prompts", "list", "--json").stdout) == []
    cli("import", str(tmp_path / "missing"), code=2)
    refused = cli("export", str(tmp_path / "out/prompts"), code=1)
    assert "is not empty" in refused.stderr


def test_members_users_and_hub_groups(cli):
    assert "user bob is viewer of default" in cli("members", "add", "bob", "viewer").stdout
    added = cli("members", "add", "--group", "ml-team", "editor").stdout
    assert "group ml-team is editor of default" in added
    rows = [line.split()[:3] for line in cli("members", "list").stdout.splitlines()]
    assert rows == [
        ["KIND", "NAME", "ROLE"],
        ["user", "alice", "owner"],
        ["user", "bob", "viewer"],
        ["group", "ml-team", "editor"],
    ]
    listed = json.loads(cli("members", "list", "--json").stdout)
    assert listed[-1]["kind"] == "group" and listed[-1]["group"] == "ml-team"
    # only owners grant; bad input is refused and changes nothing
    denied = cli("members", "add", "--group", "ops", "owner", user="bob", code=1)
    assert "may not admin" in denied.stderr
    assert "group must be" in cli("members", "add", "--group", " ", "viewer", code=1).stderr
    cli("members", "add", "--group", "ml-team", "boss", code=2)
    assert len(json.loads(cli("members", "list", "--json").stdout)) == 3
    removed = cli("members", "remove", "--group", "ml-team").stdout
    assert "group ml-team removed from default" in removed
    assert "not a member group" in cli("members", "remove", "--group", "ml-team", code=1).stderr
    assert [m["kind"] for m in json.loads(cli("members", "list", "--json").stdout)] == ["user"] * 2
