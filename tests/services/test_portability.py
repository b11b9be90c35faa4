"""Whole-project export/import as a folder of YAML/JSONL files, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from llmlab_jupyter.config import LlmLabConfig
from llmlab_jupyter.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from llmlab_jupyter.services import Caller, Services
from llmlab_jupyter.services.portability import PortabilityService

P = "default"
TRICKY = [
    "Hello {{ name }}",  # no final newline
    "Line one\nline two\n",
    "  indented first line\nsecond\n\n\n",  # leading spaces, several final newlines
    "trailing spaces   \nand a tab\there\n",
    "unicode: héllo → 世界 {{ name }}\n",
    "yes",  # would be a boolean if unquoted
]


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes, by relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def port(services, alice):
    services.projects.ensure(alice, P)
    return PortabilityService(services.store, services.config)


@pytest.fixture
def filled(services, alice, port):
    """A project with text and chat prompts, moved and removed labels, and two datasets."""
    prompts = services.prompts
    for i, text in enumerate(TRICKY):
        prompts.save(alice, P, "greet", text, message=f"version {i + 1}\nwith details")
    prompts.save(
        alice,
        P,
        "summarize",
        [
            {"role": "system", "content": "You summarise {{ topic }}.\nBe brief.\n"},
            {"role": "user", "content": "{{ article }}"},
        ],
        variables=["tone"],
        model="openai/gpt-4o-mini",
        params={"temperature": 0.2, "stop": ["\n\n"], "extra": {"b": 1, "a": [True, None]}},
        description="News summaries\nover two lines",
    )
    prompts.set_label(alice, P, "greet", "production", 1)
    prompts.set_label(alice, P, "greet", "staging", 2)
    prompts.set_label(alice, P, "greet", "production", 3)
    prompts.remove_label(alice, P, "greet", "staging")
    prompts.set_label(alice, P, "summarize", "production", 1)
    bob = Caller("bob")
    services.projects.set_member(alice, P, "bob", "editor")
    prompts.set_label(bob, P, "greet", "production", 5)
    rows = [
        {"q": "what?", "n": 1, "score": 0.5, "meta": {"z": 1, "a": "é"}, "ok": True},
        {"q": "multi\nline", "n": 2, "score": None, "meta": None, "ok": False},
    ]
    services.datasets.import_(alice, P, "qa", rows, message="first")
    services.datasets.import_(bob, P, "qa", [*rows, {"q": "third", "n": 3}], message="more")
    services.datasets.import_(alice, P, "empty-ish", [{"x": "only"}], description="tiny")
    return port


def fresh_services(tmp_path: Path, name: str) -> Services:
    return Services.from_config(
        LlmLabConfig(database_url=f"sqlite:///{tmp_path / name}", data_dir=str(tmp_path / "d"))
    )


def test_round_trip_gives_byte_identical_folders(services, alice, filled, tmp_path):
    first = tmp_path / "first"
    summary = filled.export(alice, P, first)
    assert (summary.prompts, summary.prompt_versions, summary.label_moves) == (2, 7, 6)
    assert (summary.datasets, summary.dataset_versions) == (2, 3)

    other = fresh_services(tmp_path, "other.db")  # an empty database (SQLite)
    try:
        other.projects.ensure(alice, "copy")
        port2 = PortabilityService(other.store, other.config)
        imported = port2.import_(alice, "copy", first)
        assert (imported.prompt_versions, imported.label_moves, imported.dataset_versions) == (
            7,
            6,
            3,
        )
        port2.export(alice, "copy", tmp_path / "second")
        assert tree(tmp_path / "second") == tree(first)

        # nothing is lost: versions, authors, dates, messages, hashes, parents, labels, history
        for name in ("greet", "summarize"):
            a = [
                v.model_dump(exclude={"project"}) for v in services.prompts.versions(alice, P, name)
            ]
            b = [
                v.model_dump(exclude={"project"})
                for v in other.prompts.versions(alice, "copy", name)
            ]
            assert a == b
            ha = [
                e.model_dump(exclude={"project"})
                for e in services.prompts.label_history(alice, P, name)
            ]
            hb = [
                e.model_dump(exclude={"project"})
                for e in other.prompts.label_history(alice, "copy", name)
            ]
            assert ha == hb
        assert (
            other.prompts.info(alice, "copy", "summarize").description
            == "News summaries\nover two lines"
        )
        assert other.prompts.get(alice, "copy", "greet").number == 5  # production
        assert other.prompts.get(alice, "copy", "greet", version=5).created_by == "alice"
        assert other.datasets.get(alice, "copy", "qa").created_by == "bob"
        assert other.datasets.rows(alice, "copy", "qa", version=1) == services.datasets.rows(
            alice, P, "qa", version=1
        )
    finally:
        other.close()


def test_round_trip_within_the_same_database_into_another_project(
    services, alice, filled, tmp_path
):
    filled.export(alice, P, tmp_path / "a")
    services.projects.create(alice, "copy")
    filled.import_(alice, "copy", tmp_path / "a")
    filled.export(alice, "copy", tmp_path / "b")
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_folder_is_readable_yaml_with_block_templates(alice, filled, tmp_path):
    filled.export(alice, P, tmp_path / "out")
    files = sorted(tree(tmp_path / "out"))
    assert "prompts/greet/v0001.yaml" in files and "prompts/greet/v0006.yaml" in files
    assert {"datasets/qa/v0002.yaml", "datasets/qa/v0002.jsonl", "llmlab-project.yaml"} <= set(
        files
    )
    v2 = (tmp_path / "out/prompts/greet/v0002.yaml").read_text()
    assert "template: |\n  Line one\n  line two\n" in v2
    assert v2.index("number:") < v2.index("created_at:") < v2.index("template:")
    chat = yaml.safe_load((tmp_path / "out/prompts/summarize/v0001.yaml").read_text())
    assert chat["messages"][0] == {
        "role": "system",
        "content": "You summarise {{ topic }}.\nBe brief.\n",
    }
    assert chat["variables"] == ["tone"]
    meta = yaml.safe_load((tmp_path / "out/prompts/greet/prompt.yaml").read_text())
    assert meta["labels"] == {"production": 5}
    assert [(m["label"], m["to_version"], m["created_by"]) for m in meta["label_history"]] == [
        ("production", 1, "alice"),
        ("staging", 2, "alice"),
        ("production", 3, "alice"),
        ("staging", None, "alice"),
        ("production", 5, "bob"),
    ]
    lines = (tmp_path / "out/datasets/qa/v0001.jsonl").read_text().splitlines()
    assert lines[0].startswith('{"q": "what?", "n": 1')


def test_reimport_skips_identical_versions_and_replays_nothing(services, alice, filled, tmp_path):
    filled.export(alice, P, tmp_path / "out")
    again = filled.import_(alice, P, tmp_path / "out")
    assert (again.prompt_versions, again.label_moves, again.dataset_versions) == (0, 0, 0)
    assert again.skipped == 10
    assert len(services.prompts.label_history(alice, P, "greet")) == 5


def test_import_appends_new_versions_and_label_moves(services, alice, port, tmp_path):
    services.prompts.save(alice, P, "greet", "v1")
    services.prompts.set_label(alice, P, "greet", "production", 1)
    port.export(alice, P, tmp_path / "old")
    services.projects.create(alice, "copy")
    port.import_(alice, "copy", tmp_path / "old")
    services.prompts.save(alice, P, "greet", "v2")
    services.prompts.set_label(alice, P, "greet", "production", 2)
    services.datasets.import_(alice, P, "qa", [{"a": 1}])
    port.export(alice, P, tmp_path / "new")

    summary = port.import_(alice, "copy", tmp_path / "new")
    assert (summary.prompt_versions, summary.label_moves, summary.dataset_versions) == (1, 1, 1)
    assert summary.skipped == 1
    assert services.prompts.get(alice, "copy", "greet").template == "v2"
    port.export(alice, "copy", tmp_path / "copy")
    assert tree(tmp_path / "copy") == tree(tmp_path / "new")


def _nothing_stored(services, alice, project):
    assert services.prompts.list(alice, project) == []
    assert services.datasets.list(alice, project) == []


def test_conflicting_version_raises_and_stores_nothing(services, alice, filled, tmp_path):
    filled.export(alice, P, tmp_path / "out")
    services.projects.create(alice, "copy")
    services.prompts.save(alice, "copy", "summarize", "something else entirely")
    with pytest.raises(Conflict, match=r"summarize@1"):
        filled.import_(alice, "copy", tmp_path / "out")
    # 'greet' and the datasets come before or after the conflict: none of them was stored
    assert [p.name for p in services.prompts.list(alice, "copy")] == ["summarize"]
    assert services.prompts.info(alice, "copy", "summarize").latest_version == 1
    assert services.datasets.list(alice, "copy") == []


def test_conflicting_dataset_version_raises_and_stores_nothing(services, alice, filled, tmp_path):
    filled.export(alice, P, tmp_path / "out")
    services.projects.create(alice, "copy")
    services.datasets.import_(alice, "copy", "qa", [{"other": 1}])
    with pytest.raises(Conflict, match=r"qa@1"):
        filled.import_(alice, "copy", tmp_path / "out")
    assert services.prompts.list(alice, "copy") == []
    assert [d.name for d in services.datasets.list(alice, "copy")] == ["qa"]


def test_diverged_label_history_is_a_conflict(services, alice, port, tmp_path):
    services.prompts.save(alice, P, "greet", "v1")
    port.export(alice, P, tmp_path / "base")
    services.projects.create(alice, "copy")
    port.import_(alice, "copy", tmp_path / "base")
    services.prompts.set_label(alice, "copy", "greet", "production", 1)  # moved here first
    services.prompts.set_label(alice, P, "greet", "production", 1)  # and separately there
    port.export(alice, P, tmp_path / "new")
    with pytest.raises(Conflict, match="label 'production' of prompt 'greet'"):
        port.import_(alice, "copy", tmp_path / "new")
    assert len(services.prompts.label_history(alice, "copy", "greet")) == 1


@pytest.mark.parametrize(
    ("path", "edit", "message"),
    [
        (
            "prompts/greet/v0002.yaml",
            lambda t: t.replace("Line one", "{{ broken"),
            "prompts/greet/v0002.yaml",
        ),
        (
            "prompts/greet/v0002.yaml",
            lambda t: t.replace("number: 2", "number: 7"),
            "number must be 2",
        ),
        ("prompts/greet/v0003.yaml", lambda t: t + "colour: red\n", "unknown key colour"),
        (
            "prompts/greet/prompt.yaml",
            lambda t: t.replace("production: 5", "production: 4"),
            "labels",
        ),
        ("prompts/greet/v0001.yaml", lambda t: "template: [unclosed\n", "not valid YAML"),
        ("datasets/qa/v0001.jsonl", lambda t: t.replace("what?", "WHAT?"), "content_hash"),
        ("datasets/qa/v0002.jsonl", lambda t: t + "not json\n", "v0002.jsonl, line 4"),
        (
            "datasets/qa/v0001.yaml",
            lambda t: t.replace("row_count: 2", "row_count: 9"),
            "row_count is 9",
        ),
        (
            "llmlab-project.yaml",
            lambda t: t.replace("version: 1", "version: 99"),
            "unsupported format",
        ),
    ],
)
def test_bad_files_give_a_clear_error_and_store_nothing(
    services, alice, filled, tmp_path, path, edit, message
):
    filled.export(alice, P, tmp_path / "out")
    target = tmp_path / "out" / path
    target.write_text(edit(target.read_text()))
    services.projects.create(alice, "copy")
    with pytest.raises(InvalidInput, match=message) as info:
        filled.import_(alice, "copy", tmp_path / "out")
    if path != "llmlab-project.yaml":
        assert path.split("/")[1] in info.value.message  # names the prompt or dataset folder
    _nothing_stored(services, alice, "copy")


def test_missing_version_file_and_not_a_folder_are_errors(services, alice, filled, tmp_path):
    filled.export(alice, P, tmp_path / "out")
    (tmp_path / "out/prompts/greet/v0003.yaml").unlink()
    services.projects.create(alice, "copy")
    with pytest.raises(InvalidInput, match="without gaps"):
        filled.import_(alice, "copy", tmp_path / "out")
    with pytest.raises(InvalidInput, match="not an llmlab project folder"):
        filled.import_(alice, "copy", tmp_path)
    _nothing_stored(services, alice, "copy")


def test_hand_written_version_without_hash_is_accepted(services, alice, tmp_path, port):
    root = tmp_path / "code"
    (root / "prompts/hello").mkdir(parents=True)
    (root / "llmlab-project.yaml").write_text("format: llmlab-project\nversion: 1\n")
    (root / "prompts/hello/prompt.yaml").write_text("name: hello\ndescription: hi\n")
    (root / "prompts/hello/v1.yaml").write_text(
        "number: 1\ncreated_at: 2024-05-01T10:00:00Z\ncreated_by: carol\n"
        "template: |\n  Hi {{ who }}\nmodel: openai/gpt-4o-mini\n"
    )
    summary = port.import_(alice, P, root)
    assert summary.prompt_versions == 1
    v = services.prompts.latest(alice, P, "hello")
    assert (v.template, v.created_by, v.created_at.year, v.variables) == (
        "Hi {{ who }}\n",
        "carol",
        2024,
        ["who"],
    )


def test_permissions_read_to_export_write_to_import(services, alice, filled, tmp_path):
    services.projects.set_member(alice, P, "vera", "viewer")
    vera, mallory = Caller("vera"), Caller("mallory")
    filled.export(vera, P, tmp_path / "out")
    with pytest.raises(PermissionDenied):
        filled.import_(vera, P, tmp_path / "out")
    with pytest.raises(NotFound):
        filled.export(mallory, P, tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_export_refuses_a_foreign_folder_and_refreshes_an_earlier_export(
    services, alice, filled, tmp_path
):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(InvalidInput, match="not empty"):
        filled.export(alice, P, foreign)
    assert sorted(tree(foreign)) == ["notes.txt"]

    out = tmp_path / "out"
    filled.export(alice, P, out)
    shutil.copytree(out / "prompts/greet", out / "prompts/gone")  # as if 'gone' was deleted since
    (out / "README.md").write_text("keep me")
    (out / "prompts/greet/NOTES.md").write_text("keep me too")
    filled.export(alice, P, out)
    files = tree(out)
    assert not any(f.startswith("prompts/gone/") for f in files)
    assert files["README.md"] == b"keep me" and "prompts/greet/NOTES.md" in files
