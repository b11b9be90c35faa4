"""The scorer contract: :class:`Score`, :class:`ScoreInput`, :class:`Scorer` and
:class:`OptionScorer` (a scorer whose dataclass fields are its options).

Public names are re-exported by :mod:`llmlab_jupyter.experiments.scorers`, which also
builds scorers from specs; built-in scorers live in
:mod:`llmlab_jupyter.experiments.scorers.builtin`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Protocol

from ...exceptions import InvalidInput

if TYPE_CHECKING:
    from ...gateway.base import ChatRequest

__all__ = ["OptionScorer", "Score", "ScoreInput", "Scorer", "SupportsComplete"]


@dataclass(frozen=True, slots=True)
class Score:
    """One output's score: ``value`` (``None`` = could not be scored) and a ``reason``.

    ``cost_usd`` is what producing the score cost (LLM judge calls); 0 for local scorers.
    """

    value: float | None
    reason: str = ""
    cost_usd: float = 0.0


@dataclass(frozen=True, slots=True)
class ScoreInput:
    """What a scorer sees: the model ``output``, the dataset ``row``, the ``rendered``
    prompt (text or chat messages) and the run's ``expected`` value, if any."""

    output: str
    row: dict[str, Any]
    rendered: str | list[dict]
    expected: Any | None = None

    def lookup(self, column: str) -> Any | None:
        """The expected value from ``column`` (``expected`` falls back to :attr:`expected`)."""
        value = self.row.get(column, self.expected if column == "expected" else None)
        return None if isinstance(value, float) and math.isnan(value) else value


class SupportsComplete(Protocol):
    """The part of :class:`~llmlab_jupyter.gateway.gateway.Gateway` an LLM judge uses."""

    async def complete(self, request: ChatRequest) -> Any: ...


class Scorer(ABC):
    """Base class of every scorer.

    Subclasses set ``type`` (the name used in specs), implement :meth:`score` (or
    :meth:`ascore`, with ``needs_gateway = True``) and :meth:`options` (the keyword
    arguments that rebuild them). A scorer keeps no state between calls and may be shared.
    """

    type: str = ""
    needs_gateway: bool = False
    name: str

    def __init__(self, name: str | None = None) -> None:
        self.name = name or self.type or type(self).__name__

    @abstractmethod
    def score(self, inp: ScoreInput) -> Score:
        """Score one output synchronously."""

    async def ascore(self, inp: ScoreInput, gateway: SupportsComplete | None = None) -> Score:
        """Score one output; the default runs :meth:`score`. ``gateway`` serves LLM judges."""
        return self.score(inp)

    def options(self) -> dict[str, Any]:
        """The options (plain data) that rebuild this scorer with :func:`build_scorer`."""
        return {}

    def describe(self) -> dict[str, Any]:
        """The storable spec ``{"type": ..., ["name": ...,] **options}``."""
        spec: dict[str, Any] = {"type": self.type or type(self).__name__}
        if self.name != spec["type"]:
            spec["name"] = self.name
        return {**spec, **self.options()}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()!r}>"


_KINDS: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "bool": (bool,),
    "float": (int, float),
    "dict[str, Any]": (dict,),
}


@dataclass(eq=False, repr=False)
class OptionScorer(Scorer):
    """A scorer declared as a dataclass whose init fields are its options.

    Fields annotated ``str``, ``bool``, ``float`` or ``dict[str, Any]`` (optionally
    ``| None``) are type-checked on creation, then :meth:`_setup` validates values and
    prepares per-run state. :meth:`options` returns the fields, so :meth:`describe`
    round-trips through :func:`~llmlab_jupyter.experiments.scorers.build_scorer`.
    Plugins may subclass it too.
    """

    name: str = field(default="", kw_only=True)

    def __post_init__(self) -> None:
        for f in fields(self):
            if not f.init:
                continue
            value, annotation = getattr(self, f.name), str(f.type)
            if value is None and annotation.endswith("| None"):
                continue
            kinds = _KINDS.get(annotation.removesuffix(" | None"))
            if kinds and (
                not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool))
            ):
                raise InvalidInput(
                    f"option {f.name!r} of scorer {self.type!r} must be {annotation}; "
                    f"got {value!r}",
                    field=f.name,
                )
        self.name = self.name or self.type
        self._setup()

    def _setup(self) -> None:
        """Check option values and prepare per-run state (compiled patterns ...)."""

    def options(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.init and f.name != "name"}
