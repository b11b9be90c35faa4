"""llmlab-jupyter: an LLM experimentation platform that lives inside JupyterLab.

``from llmlab_jupyter import Lab`` is the notebook entry point. Importing the
package is cheap: the SDK, the database layer, pandas and litellm load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .sdk.lab import Lab

__all__ = ["Lab", "__version__"]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """Entry point of the Jupyter server extension (the REST API under ``llmlab/``)."""
    from .app import LlmLabApp

    return [{"module": "llmlab_jupyter.app", "app": LlmLabApp}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where ``jupyter labextension develop`` finds the built extension."""
    return [{"src": "labextension", "dest": "llmlab-jupyter"}]


def __getattr__(name: str) -> Any:
    if name == "Lab":
        from .sdk.lab import Lab

        return Lab
    raise AttributeError(f"module 'llmlab_jupyter' has no attribute {name!r}")
