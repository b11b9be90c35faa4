"""The versioned prompt library, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from llmlab_jupyter.exceptions import InvalidInput, NotFound, PermissionDenied, TemplateError
from llmlab_jupyter.services import Caller

P = "default"


@pytest.fixture
def project(services, alice):
    services.projects.ensure(alice, P)
    return P


def test_versions_are_numbered_and_identical_content_is_not_saved_twice(services, alice, project):
    first = services.prompts.save(alice, P, "greet", "Hello {{ name }}", message="first")
    again = services.prompts.save(alice, P, "greet", "Hello {{ name }}", message="other message")
    second = services.prompts.save(alice, P, "greet", "Hi {{ name }}", message="friendlier")
    assert (first.created, first.version.number) == (True, 1)
    assert (again.created, again.version.number) == (False, 1)
    assert (second.created, second.version.number, second.version.parent) == (True, 2, 1)
    assert second.version.message == "friendlier"
    assert second.version.created_by == "alice"
    assert [v.number for v in services.prompts.versions(alice, P, "greet")] == [2, 1]
    assert services.prompts.info(alice, P, "greet").latest_version == 2


def test_version_stores_template_variables_model_params_and_hash(services, alice, project):
    chat = [
        {"role": "system", "content": "You summarise {{ topic }} news."},
        {"role": "user", "content": "{{ article }}"},
    ]
    v = services.prompts.save(
        alice,
        P,
        "summarize",
        chat,
        variables=["tone"],
        model="openai/gpt-4o-mini",
        params={"temperature": 0.2, "max_tokens": 100},
    ).version
    got = services.prompts.get(alice, P, "summarize", version=1)
    assert got == v
    assert got.kind == "chat"
    assert got.variables == ["article", "tone", "topic"]
    assert got.declared_variables == ["tone"]
    assert got.model == "openai/gpt-4o-mini"
    assert got.params == {"temperature": 0.2, "max_tokens": 100}
    assert got.content_hash.startswith("sha256:")
    # a change of parameters alone is a new version
    v2 = services.prompts.save(
        alice,
        P,
        "summarize",
        chat,
        variables=["tone"],
        model="openai/gpt-4o-mini",
        params={"temperature": 0.7, "max_tokens": 100},
    ).version
    assert v2.number == 2 and v2.content_hash != v.content_hash


def test_fifty_concurrent_saves_get_fifty_contiguous_numbers(services, alice, project):
    errors: list[BaseException] = []
    barrier = threading.Barrier(50)

    def save(i: int) -> None:
        try:
            barrier.wait()
            services.prompts.save(alice, P, "race", f"variant {i}: {{{{ x }}}}", message=str(i))
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    versions = services.prompts.versions(alice, P, "race", limit=100)
    assert sorted(v.number for v in versions) == list(range(1, 51))
    assert sorted(int(v.message) for v in versions) == list(range(50))
    assert services.prompts.info(alice, P, "race").latest_version == 50


def test_get_by_version_or_label_never_both_production_by_default(services, alice, project):
    for text in ("one", "two", "three"):
        services.prompts.save(alice, P, "p", text)
    with pytest.raises(NotFound, match="no label 'production'"):
        services.prompts.get(alice, P, "p")
    assert services.prompts.get(alice, P, "p", fallback_to_latest=True).number == 3
    services.prompts.set_label(alice, P, "p", "production", 2)
    services.prompts.set_label(alice, P, "p", "staging", 3)
    assert services.prompts.get(alice, P, "p").number == 2
    assert services.prompts.get(alice, P, "p", fallback_to_latest=True).number == 2
    assert services.prompts.get(alice, P, "p", label="staging").number == 3
    assert services.prompts.get_ref(alice, P, "p@1").number == 1
    assert services.prompts.get_ref(alice, P, "p@staging").number == 3
    with pytest.raises(InvalidInput, match="not both"):
        services.prompts.get(alice, P, "p", version=1, label="staging")
    with pytest.raises(NotFound, match="no version 9"):
        services.prompts.get(alice, P, "p", version=9)
    with pytest.raises(NotFound, match="no label 'canary'"):
        services.prompts.get(alice, P, "p", label="canary")
    with pytest.raises(NotFound, match="prompt 'nope' not found"):
        services.prompts.get(alice, P, "nope", version=1)


def test_label_moves_are_kept_with_who_when_from_to(services, alice, project):
    bob = Caller("bob")
    services.projects.set_member(alice, P, "bob", "editor")
    for text in ("a", "b", "c"):
        services.prompts.save(alice, P, "p", text)
    services.prompts.set_label(alice, P, "p", "production", 1)
    services.prompts.set_label(bob, P, "p", "production", 3)
    services.prompts.set_label(bob, P, "p", "production", 3)  # no-op: not a move
    services.prompts.set_label(alice, P, "p", "production", 2)
    services.prompts.remove_label(alice, P, "p", "production")
    history = services.prompts.label_history(alice, P, "p", "production")
    assert [(e.from_version, e.to_version, e.created_by) for e in history] == [
        (None, 1, "alice"),
        (1, 3, "bob"),
        (3, 2, "alice"),
        (2, None, "alice"),
    ]
    assert history[0].created_at <= history[-1].created_at
    with pytest.raises(NotFound):
        services.prompts.set_label(alice, P, "p", "production", 4)
    assert len(services.prompts.label_history(alice, P, "p")) == 4


def test_labels_show_on_versions_and_prompts_and_filter_lists(services, alice, project):
    services.prompts.save(alice, P, "a", "x")
    services.prompts.save(alice, P, "b", "y")
    services.prompts.set_label(alice, P, "a", "production", 1)
    assert services.prompts.get(alice, P, "a").labels == ["production"]
    assert [p.name for p in services.prompts.list(alice, P, label="production")] == ["a"]
    assert services.prompts.list(alice, P)[0].labels == {"production": 1}
    assert [p.name for p in services.prompts.list(alice, P, search="b")] == ["b"]
    assert services.prompts.list(alice, P, search="%") == []


def test_diff_shows_messages_and_parameters(services, alice, project):
    services.prompts.save(
        alice,
        P,
        "p",
        [{"role": "user", "content": "Summarise {{ text }}"}],
        model="openai/gpt-4o-mini",
        params={"temperature": 0},
    )
    services.prompts.save(
        alice,
        P,
        "p",
        [{"role": "user", "content": "Summarise briefly {{ text }}"}],
        model="openai/gpt-4o-mini",
        params={"temperature": 0.5},
    )
    diff = services.prompts.diff(alice, P, "p", 1, 2)
    assert diff.startswith("--- p@1\n+++ p@2\n")
    assert "-Summarise {{ text }}" in diff
    assert "+Summarise briefly {{ text }}" in diff
    assert "-temperature: 0\n" in diff and "+temperature: 0.5\n" in diff
    assert services.prompts.diff(alice, P, "p", 1, 1) == ""


def test_render_stored_version_and_missing_variable(services, alice, project):
    services.prompts.save(alice, P, "p", "Dear {{ name }}, re: {{ subject }}")
    assert services.prompts.render(alice, P, "p", {"name": "Ada", "subject": "x"}, version=1) == (
        "Dear Ada, re: x"
    )
    with pytest.raises(TemplateError, match="missing variable: subject"):
        services.prompts.render(alice, P, "p", {"name": "Ada"}, version=1)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "Bad Name", "template": "x"}, "name"),
        ({"name": "ok", "template": "{% if %}"}, "template"),
        ({"name": "ok", "template": "{{ ''.__class__ }}"}, "template"),
        ({"name": "ok", "template": [{"role": "robot", "content": "x"}]}, "template[0].role"),
        ({"name": "ok", "template": "x", "model": "gpt4"}, "model"),
        ({"name": "ok", "template": "x", "params": {"t": float("nan")}}, "params"),
        ({"name": "ok", "template": "x", "variables": ["not valid"]}, "variables"),
        ({"name": "ok", "template": 42}, "template"),
    ],
)
def test_bad_input_is_refused_and_stores_nothing(services, alice, project, kwargs, field):
    kwargs = dict(kwargs)
    name = kwargs.pop("name")
    template = kwargs.pop("template")
    with pytest.raises(InvalidInput) as err:
        services.prompts.save(alice, P, name, template, **kwargs)
    assert err.value.field == field
    assert services.prompts.list(alice, P) == []


def test_roles_viewers_read_only_and_non_members_see_nothing(services, alice, project):
    services.prompts.save(alice, P, "p", "x")
    services.projects.set_member(alice, P, "victor", "viewer")
    victor, mallory = Caller("victor"), Caller("mallory")
    assert services.prompts.get(victor, P, "p", version=1).number == 1
    with pytest.raises(PermissionDenied):
        services.prompts.save(victor, P, "p", "y")
    with pytest.raises(PermissionDenied):
        services.prompts.set_label(victor, P, "p", "production", 1)
    with pytest.raises(PermissionDenied):
        services.projects.set_member(victor, P, "victor", "owner")
    for call in (
        lambda: services.prompts.get(mallory, P, "p", version=1),
        lambda: services.prompts.list(mallory, P),
        lambda: services.prompts.save(mallory, P, "p", "z"),
        lambda: services.projects.get(mallory, P),
    ):
        with pytest.raises(NotFound, match="project 'default' not found"):
            call()
    assert services.projects.list(mallory) == []
    assert services.prompts.info(alice, P, "p").latest_version == 1


def test_paging_is_capped(services, alice, project):
    for i in range(5):
        services.prompts.save(alice, P, f"p{i}", "x")
    assert [p.name for p in services.prompts.list(alice, P, limit=2, offset=2)] == ["p2", "p3"]
    with pytest.raises(InvalidInput, match="limit"):
        services.prompts.list(alice, P, limit=10_000)
    with pytest.raises(InvalidInput, match="offset"):
        services.prompts.list(alice, P, offset=-1)


def test_a_project_keeps_an_owner(services, alice, project):
    from llmlab_jupyter.exceptions import Conflict

    with pytest.raises(Conflict, match="owner"):
        services.projects.set_member(alice, P, "alice", "viewer")
    assert services.projects.get(alice, P).role == "owner"
