"""Template parsing and sandboxed rendering (no database)."""

from __future__ import annotations

import pytest

from llmlab_jupyter import prompts as tpl
from llmlab_jupyter.exceptions import InvalidInput, TemplateError


def test_text_and_chat_templates_render_with_their_variables():
    assert tpl.render("text", "Hi {{ name }}!", {"name": "Ada"}) == "Hi Ada!"
    chat = [{"role": "system", "content": "Be {{ tone }}"}, {"role": "user", "content": "{{ q }}"}]
    assert tpl.detect_variables("chat", chat) == ["q", "tone"]
    assert tpl.render("chat", chat, {"tone": "brief", "q": "Why?"}) == [
        {"role": "system", "content": "Be brief"},
        {"role": "user", "content": "Why?"},
    ]


def test_missing_variables_are_all_named():
    with pytest.raises(TemplateError) as err:
        tpl.render("text", "{{ a }} and {{ b }} and {{ c }}", {"b": 1})
    assert err.value.message == "missing variables: a, c"
    assert err.value.field == "variables"


def test_syntax_error_names_the_line():
    with pytest.raises(TemplateError, match="line 3"):
        tpl.detect_variables("text", "line one\nline two\n{% if x %}never closed")
    chat = [{"role": "user", "content": "ok"}, {"role": "user", "content": "{{ broken"}]
    with pytest.raises(TemplateError, match=r"messages\[1\]\.content, line 1"):
        tpl.detect_variables("chat", chat)


@pytest.mark.parametrize(
    "payload",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ x.__init__.__globals__ }}",
        "{{ x['__class__'] }}",
        "{{ ''|attr('__class__') }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ lipsum.__globals__ }}",
        "{% set l = [] %}{{ l.append(1) }}",
    ],
)
def test_sandbox_escapes_are_refused(payload):
    with pytest.raises(TemplateError):
        tpl.render("text", payload, {"x": "value"})


def test_output_is_not_html_escaped_or_interpreted():
    out = tpl.render("text", "{{ html }}", {"html": "<script>alert(1)</script>"})
    assert out == "<script>alert(1)</script>"


def test_template_shape_errors_name_the_field():
    with pytest.raises(InvalidInput) as err:
        tpl.normalize_template([{"role": "wizard", "content": "x"}])
    assert err.value.field == "template[0].role"
    with pytest.raises(InvalidInput, match="kind"):
        tpl.normalize_template("text", "chat")
    with pytest.raises(InvalidInput):
        tpl.normalize_template("   ")


def test_content_hash_ignores_nothing_that_changes_behaviour():
    base = tpl.content_hash("text", "Hi", [], "openai/gpt-4o-mini", {"temperature": 0})
    assert base == tpl.content_hash("text", "Hi", [], "openai/gpt-4o-mini", {"temperature": 0})
    assert base != tpl.content_hash("text", "Hi", [], "openai/gpt-4o-mini", {"temperature": 1})
    assert base != tpl.content_hash("text", "Hi", [], "openai/gpt-4o", {"temperature": 0})
    assert base != tpl.content_hash("text", "Hi!", [], "openai/gpt-4o-mini", {"temperature": 0})


@pytest.mark.parametrize("bad", ["", "UPPER", "has space", "-lead", "trail-", "a/b", "a..b", 5])
def test_invalid_slugs_are_refused(bad):
    with pytest.raises(InvalidInput):
        tpl.validate_slug(bad)


def test_refs_parse_versions_and_labels():
    assert tpl.parse_ref("news") == ("news", None, None)
    assert tpl.parse_ref("news@3") == ("news", 3, None)
    assert tpl.parse_ref("news@production") == ("news", None, "production")
    with pytest.raises(InvalidInput):
        tpl.parse_ref("news@0")
