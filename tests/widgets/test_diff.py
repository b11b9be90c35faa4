"""Word-level diff as escaped HTML."""

from __future__ import annotations

from llmlab_jupyter.widgets.diff import diff_html, text_html, tokens, word_opcodes


def test_tokens_keep_every_character():
    text = "Hello,  world!\nIt's 42."
    assert "".join(tokens(text)) == text
    assert tokens("a, b") == ["a", ",", " ", "b"]


def test_word_opcodes_find_changed_words():
    ops = word_opcodes("the cat sat", "the dog sat")
    assert [(t, a, b) for t, a, b in ops if t != "equal"] == [("replace", "cat", "dog")]


def test_diff_html_marks_removed_and_added_words():
    left, right = diff_html("the cat sat", "the cat sat down")
    assert left == "the cat sat"
    assert right.startswith('the cat sat<span class="llmlab-ins"')
    assert right.endswith("> down</span>")


def test_everything_is_escaped():
    left, right = diff_html("<b>x</b> & y", "<script>alert(1)</script> & y")
    for fragment in (left, right):
        assert "<b>" not in fragment and "<script>" not in fragment
    assert "&lt;" in right and "&gt;" in right and "&amp;" in left
    assert text_html("<script>alert(1)</script>").count("&lt;") == 2
    assert "&lt;img" in text_html("<img src=x onerror=alert(1)>")
    assert text_html(None).endswith("></div>")
