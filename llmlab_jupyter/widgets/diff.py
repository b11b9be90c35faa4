"""Word-level diff of two texts as escaped HTML spans (no widget, no I/O).

Every piece of text goes through :func:`html.escape`: model output is untrusted and
is shown as text, never interpreted as HTML.
"""

from __future__ import annotations

import difflib
import html
import re

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)
DEL_STYLE = "background:#ffd7d5;text-decoration:line-through"
INS_STYLE = "background:#ccffd8"


def tokens(text: str) -> list[str]:
    """Split into words, runs of white space and single punctuation marks."""
    return _TOKEN.findall(text)


def word_opcodes(a: str, b: str) -> list[tuple[str, str, str]]:
    """``(tag, a_text, b_text)`` chunks: tag is ``equal``, ``delete``, ``insert`` or ``replace``."""
    ta, tb = tokens(a), tokens(b)
    matcher = difflib.SequenceMatcher(None, ta, tb, autojunk=False)
    return [
        (tag, "".join(ta[i1:i2]), "".join(tb[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
    ]


def _span(text: str, style: str, cls: str) -> str:
    return f'<span class="{cls}" style="{style}">{html.escape(text)}</span>' if text else ""


def diff_html(a: str, b: str) -> tuple[str, str]:
    """Two escaped HTML fragments: ``a`` with removed words marked, ``b`` with added ones."""
    left: list[str] = []
    right: list[str] = []
    for tag, text_a, text_b in word_opcodes(a, b):
        if tag == "equal":
            left.append(html.escape(text_a))
            right.append(html.escape(text_b))
            continue
        left.append(_span(text_a, DEL_STYLE, "llmlab-del"))
        right.append(_span(text_b, INS_STYLE, "llmlab-ins"))
    return "".join(left), "".join(right)


def text_html(text: str | None, *, muted: bool = False) -> str:
    """Plain text as an escaped, white-space preserving HTML fragment."""
    body = html.escape(text or "")
    color = "color:var(--jp-ui-font-color2,#777);" if muted else ""
    return f'<div style="white-space:pre-wrap;word-break:break-word;{color}">{body}</div>'


def wrap_pre(fragment: str) -> str:
    """Wrap an already escaped fragment (from :func:`diff_html`) to keep white space."""
    return f'<div style="white-space:pre-wrap;word-break:break-word">{fragment}</div>'
