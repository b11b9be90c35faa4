"""Scorers: turn one model output (plus its dataset row) into a :class:`Score`.

``base`` is the contract, ``builtin`` the built-in types and ``registry`` builds scorers from
specs (and plugins from the ``llmlab_jupyter.scorers`` entry point group); all re-exported here.
"""

from .base import OptionScorer, Score, ScoreInput, Scorer, SupportsComplete
from .builtin import (
    Contains,
    ExactMatch,
    JsonSchema,
    JsonValid,
    LlmJudge,
    Numeric,
    Regex,
    Similarity,
)
from .registry import (
    ENTRY_POINT_GROUP,
    CallableScorer,
    ScorerSpec,
    available_scorers,
    build_scorer,
    build_scorers,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "CallableScorer",
    "Contains",
    "ExactMatch",
    "JsonSchema",
    "JsonValid",
    "LlmJudge",
    "Numeric",
    "OptionScorer",
    "Regex",
    "Score",
    "ScoreInput",
    "Scorer",
    "ScorerSpec",
    "Similarity",
    "SupportsComplete",
    "available_scorers",
    "build_scorer",
    "build_scorers",
]
