"""The notebook SDK: ``Lab()`` and its parts (prompts, datasets, experiments, charts).

``Lab`` calls the one service layer in-process, or the REST API through ``sdk.http`` when
given a URL; it imports services and widgets, never the server, the store or an engine.
"""

from .lab import Lab

__all__ = ["Lab"]
