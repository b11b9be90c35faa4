"""The ``llmlab`` command: one click group over the same configuration and services.

``main`` builds the group; one module per command family (prompts, experiments, jobs, members) and
``support`` for the shared state, error mapping and table output.
"""

from .main import main

__all__ = ["main"]
