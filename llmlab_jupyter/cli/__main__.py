"""``python -m llmlab_jupyter.cli``: the ``llmlab`` command."""

from .main import main

main()
