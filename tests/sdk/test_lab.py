"""The notebook SDK: ``Lab()`` in-process."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from llmlab_jupyter.exceptions import InvalidInput, NotFound


def test_import_is_light():
    code = (
        "import sys, llmlab_jupyter; "
        "heavy = [m for m in ('sqlalchemy', 'pandas', 'litellm', 'jinja2', 'pydantic', "
        "'aiohttp', 'numpy') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_lab_works_with_no_setup(tmp_path, monkeypatch):
    from llmlab_jupyter import Lab

    monkeypatch.setenv("LLMLAB_DATA_DIR", str(tmp_path / "data"))
    with Lab() as lab:
        assert lab.project == "default"
        lab.prompts.save("greet", "Hello {{ name }}")
        assert lab.projects.get().role == "owner"
    assert (tmp_path / "data" / "llmlab.db").exists()
    with Lab() as again:
        assert again.prompts.get("greet", version=1).render(name="Ada") == "Hello Ada"


def test_prompts_through_the_sdk(lab):
    v1 = lab.prompts.save("greet", "Hello {{ name }}", message="first")
    v2 = lab.prompts.save("greet", "Hi {{ name }}", model="fake/echo", params={"temperature": 0})
    assert (v1.number, v2.number, v2.ref) == (1, 2, "greet@2")
    lab.prompts.label("greet", "production", 1)
    assert lab.prompts.get("greet").number == 1
    assert lab.prompts.get("greet@2").model == "fake/echo"
    assert lab.prompts.render("greet", name="Ada") == "Hello Ada"
    assert lab.prompts.render("greet", {"name": "Ada"}, version=2) == "Hi Ada"
    assert "+Hi {{ name }}" in lab.prompts.diff("greet", 1, 2)
    frame = lab.prompts.versions("greet", as_frame=True)
    assert isinstance(frame, pd.DataFrame) and frame["number"].tolist() == [2, 1]
    assert lab.prompts.list(as_frame=True)["name"].tolist() == ["greet"]
    assert [e.to_version for e in lab.prompts.label_history("greet")] == [1]
    with pytest.raises(InvalidInput):
        lab.prompts.get("greet@2", version=1)


def test_datasets_through_the_sdk(lab, tmp_path):
    path = tmp_path / "qa.csv"
    path.write_text("question,answer\nWhat is 2+2?,4\nCapital of France?,Paris\n")
    dv = lab.datasets.import_("qa", path)
    assert dv.ref == "qa@1" and dv.column_names == ["question", "answer"]
    assert lab.datasets.get("qa@1") == dv
    assert lab.datasets.to_pandas("qa")["answer"].tolist() == [
        4,
        "Paris",
    ] or lab.datasets.to_pandas("qa")["answer"].tolist() == ["4", "Paris"]
    lab.prompts.save("ask", "Q: {{ question }} ({{ context }})")
    with pytest.raises(InvalidInput, match="context"):
        lab.datasets.validate("qa", "ask")


def test_projects_are_separate(lab):
    other = lab.projects.create("research", "Research team")
    assert other.role == "owner"
    research = lab.use("research")
    research.prompts.save("only-here", "x")
    with pytest.raises(NotFound):
        lab.prompts.get("only-here", version=1)
    assert [p.slug for p in lab.projects.list()] == ["default", "research"]


def test_roles_can_be_granted_to_hub_groups(lab):
    granted = lab.projects.set_group("ml-team", "editor")
    assert (granted.kind, granted.group, granted.user, granted.role) == (
        "group",
        "ml-team",
        None,
        "editor",
    )
    lab.projects.set_member("bob", "viewer")
    lab.projects.set_group("ml-team", "viewer")  # changed, not added
    members = [(m.kind, m.user or m.group, m.role) for m in lab.projects.members()]
    assert members[-1] == ("group", "ml-team", "viewer")  # users first, then groups
    assert ("user", "bob", "viewer") in members[:2] and len(members) == 3
    for group, role, field in [("ml-team", "boss", "role"), (" ", "viewer", "group")]:
        with pytest.raises(InvalidInput) as info:
            lab.projects.set_group(group, role)
        assert info.value.field == field
    lab.projects.remove_group("ml-team")
    assert [m.kind for m in lab.projects.members()] == ["user", "user"]
    with pytest.raises(NotFound):
        lab.projects.remove_group("ml-team")


def test_single_calls_are_cached_and_recorded_in_the_ledger(lab):
    first = lab.complete("hello there", model="fake/upper")
    assert first["text"] == "HELLO THERE" and not first["cache_hit"]
    again = lab.complete("hello there", model="fake/upper")
    assert again["cache_hit"] and again["text"] == "HELLO THERE"
    fresh = lab.complete("hello there", model="fake/upper", use_cache=False)
    assert not fresh["cache_hit"]
    lab.prompts.save("greet", "Hi {{ name }}", model="fake/echo")
    assert lab.prompts.run("greet", name="Ada")["text"] == "Hi Ada"
    with pytest.raises(InvalidInput):
        lab.complete(42, model="fake/echo")
    ledger = lab.usage(by=["model", "cache_hit"])
    calls = {(r.model, bool(r.cache_hit)): r.calls for r in ledger.itertuples()}
    assert calls == {("fake/upper", False): 2, ("fake/upper", True): 1, ("fake/echo", False): 1}
