"""Notebook widgets and charts: ``exp.compare()``, ``lab.compare(a, b)``, ``exp.charts()``.

Submodules import ipywidgets and bokeh; this package itself imports nothing heavy:

- :mod:`.compare_state`: the comparison's rows, filters, paging and diff (pure Python);
- :mod:`.compare`: :class:`~.compare.CompareWidget`, composed from stock ipywidgets;
- :mod:`.diff`: word-level diff as escaped HTML;
- :mod:`.charts`: bokeh figures, shown with inline resources (offline, exportable).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .compare import CompareWidget
    from .compare_state import CompareState

__all__ = ["CompareState", "CompareWidget"]


def __getattr__(name: str) -> Any:
    if name == "CompareWidget":
        from .compare import CompareWidget

        return CompareWidget
    if name == "CompareState":
        from .compare_state import CompareState

        return CompareState
    raise AttributeError(f"module 'llmlab_jupyter.widgets' has no attribute {name!r}")
