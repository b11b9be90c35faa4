"""Scorers: turn one model output (plus its dataset row) into a :class:`Score`.

A scorer is built once per run from a spec (:func:`build_scorer`) and called for every
row, so construction does the expensive work (compiling a regex, checking a JSON schema,
parsing a judge rubric) and each call stays cheap. ``describe()`` returns the plain-data
spec that :func:`build_scorer` accepts again, so runs can store their scorers::

    build_scorer("exact_match")
    build_scorer({"type": "regex", "pattern": r"^\\d+$"})
    build_scorer({"type": "llm_judge", "model": "openai/gpt-4o-mini", "scale": "1-5"})
    build_scorer(lambda output, row: output.endswith("."))

Built-in types live in :mod:`.builtin` and the contract in :mod:`.base`;
both are re-exported here. Any Python function becomes a ``callable`` scorer. Other
packages add types through the ``llmlab_jupyter.scorers`` entry point group (name →
Scorer subclass or factory); a broken entry point is logged as a warning and skipped.
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from ...exceptions import InvalidInput
from .base import Score, ScoreInput, Scorer, SupportsComplete
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

__all__ = [
    "ENTRY_POINT_GROUP",
    "CallableScorer",
    "ScorerSpec",
    "available_scorers",
    "build_scorer",
    "build_scorers",
]

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "llmlab_jupyter.scorers"
_ARGS = ("output", "row", "expected", "rendered")


class CallableScorer(Scorer):
    """Wraps ``fn(output, row)`` or ``fn(output=, row=, expected=, rendered=)`` (any subset).

    Keyword arguments are used when every required parameter is one of those names;
    otherwise ``output`` (and ``row``) are passed positionally. ``fn`` may be async and
    returns a bool, a number, a :class:`Score`, ``None`` or ``(value, reason)``.
    Stored specs record ``function`` for provenance only: they are not rebuilt by import.
    """

    type = "callable"

    def __init__(self, fn: Callable[..., Any], name: str | None = None) -> None:
        if not callable(fn):
            raise InvalidInput(f"a callable scorer needs a function; got {fn!r}", field="fn")
        super().__init__(name or getattr(fn, "__name__", None) or "callable")
        self.fn = fn
        self._async = inspect.iscoroutinefunction(fn)
        self._names: tuple[str, ...] | None = None
        self._npos = 2
        try:
            params = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):  # some builtins have no signature
            return
        if any(p.kind is p.VAR_KEYWORD for p in params):
            self._names = _ARGS
            return
        required = [p for p in params if p.default is p.empty and p.kind is not p.VAR_POSITIONAL]
        names = tuple(p.name for p in params if p.name in _ARGS and p.kind is not p.POSITIONAL_ONLY)
        if names and all(p.name in names for p in required):
            self._names = names
            return
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if any(p.kind is p.VAR_POSITIONAL for p in params) or len(positional) >= 2:
            self._npos = 2
        elif len(positional) == 1 and len(required) <= 1:
            self._npos = 1
        else:
            raise InvalidInput(
                f"scorer function {self.name!r} must accept (output, row) or keyword arguments "
                f"among {', '.join(_ARGS)}",
                field="fn",
            )

    def _call(self, inp: ScoreInput) -> Any:
        if self._names is None:
            return self.fn(*(inp.output, inp.row)[: self._npos])
        values: dict[str, Any] = {"output": inp.output, "row": inp.row}
        values.update(rendered=inp.rendered, expected=inp.lookup("expected"))
        return self.fn(**{n: values[n] for n in self._names})

    def score(self, inp: ScoreInput) -> Score:
        if self._async:
            raise InvalidInput(f"scorer {self.name!r} is async: use `await ascore(inp)`")
        return self._to_score(self._call(inp))

    async def ascore(self, inp: ScoreInput, gateway: SupportsComplete | None = None) -> Score:
        result = self._call(inp)
        return self._to_score(await result if self._async else result)

    def _to_score(self, result: Any) -> Score:
        if isinstance(result, Score):
            return result
        if isinstance(result, tuple) and len(result) == 2:
            return Score(self._to_score(result[0]).value, str(result[1]))
        if result is None:
            return Score(None)
        if not isinstance(result, str) and hasattr(result, "__float__"):
            value = float(result)  # bools, ints, floats, numpy scalars, Decimal
            return Score(None if math.isnan(value) else value)
        raise InvalidInput(
            f"scorer {self.name!r} returned {type(result).__name__}; expected a bool, a number, "
            "a Score, None or (value, reason)",
            field="scorer",
        )

    def options(self) -> dict[str, Any]:
        module = getattr(self.fn, "__module__", None) or "?"
        return {"function": f"{module}:{getattr(self.fn, '__qualname__', repr(self.fn))}"}


_BUILTINS: dict[str, type[Scorer]] = {
    cls.type: cls
    for cls in (ExactMatch, Contains, Regex, JsonValid, JsonSchema, Numeric, Similarity, LlmJudge)
}
ScorerSpec = Scorer | type[Scorer] | str | Mapping[str, Any] | Callable[..., Any]


@lru_cache(maxsize=1)
def _plugins() -> dict[str, Callable[..., Scorer]]:
    """Scorer types from the entry point group, loaded once; broken ones are skipped."""
    found: dict[str, Callable[..., Scorer]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _BUILTINS or ep.name in found or ep.name == "callable":
            log.warning(
                "scorer entry point %r (%s) duplicates a known name; skipped", ep.name, ep.value
            )
            continue
        try:
            target = ep.load()
        except Exception as err:  # a broken plugin must not break every run
            log.warning(
                "scorer entry point %r (%s) failed to load; skipped: %r", ep.name, ep.value, err
            )
            continue
        if not callable(target):
            log.warning("scorer entry point %r (%s) is not callable; skipped", ep.name, ep.value)
            continue
        found[ep.name] = target
    return found


def available_scorers() -> list[str]:
    """The scorer types :func:`build_scorer` accepts by name (built-ins and plugins)."""
    return sorted({*_BUILTINS, *_plugins()})


def _check_options(kind: str, factory: Callable[..., Any], options: Mapping[str, Any]) -> None:
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return
    known = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise InvalidInput(
            f"unknown option{'s' if len(unknown) > 1 else ''} for scorer {kind!r}: "
            f"{', '.join(unknown)} (known: {', '.join(known)})",
            field=unknown[0],
            unknown=unknown,
        )
    for p in params:
        if p.default is p.empty and p.kind is not p.VAR_POSITIONAL and p.name not in options:
            raise InvalidInput(f"scorer {kind!r} needs option {p.name!r}", field=p.name)


def build_scorer(spec: ScorerSpec) -> Scorer:
    """A :class:`Scorer` from an instance, a type name, a ``{"type": ..., **options}`` dict,
    a Scorer subclass or a plain function (a ``callable`` scorer named after it).

    Raises :class:`InvalidInput` for unknown types (listing the available ones), unknown
    or missing options, and invalid option values.
    """
    if isinstance(spec, Scorer):
        return spec
    if isinstance(spec, type) and issubclass(spec, Scorer):
        return spec()
    if isinstance(spec, str):
        kind, options = spec, {}
    elif isinstance(spec, Mapping):
        options = dict(spec)
        kind = options.pop("type", None)
        if not isinstance(kind, str):
            raise InvalidInput("a scorer spec needs a 'type' naming the scorer", field="type")
    elif callable(spec):
        return CallableScorer(spec)
    else:
        raise InvalidInput(f"cannot build a scorer from {type(spec).__name__}", field="scorer")
    if kind == "callable":
        raise InvalidInput("a callable scorer is built from the function itself", field="type")
    factory: Callable[..., Scorer] | None = _BUILTINS.get(kind) or _plugins().get(kind)
    if factory is None:
        raise InvalidInput(
            f"unknown scorer {kind!r}; available: {', '.join(available_scorers())}",
            field="type",
        )
    _check_options(kind, factory, options)
    try:
        scorer = factory(**options)
    except InvalidInput:
        raise
    except TypeError as err:
        raise InvalidInput(f"scorer {kind!r}: {err}", field="type") from err
    if not isinstance(scorer, Scorer):
        raise InvalidInput(f"scorer plugin {kind!r} did not return a Scorer", field="type")
    if not scorer.type:  # a plugin class without its own type name
        scorer.type = kind
        scorer.name = kind if scorer.name == type(scorer).__name__ else scorer.name
    return scorer


def build_scorers(specs: Iterable[ScorerSpec]) -> list[Scorer]:
    """:func:`build_scorer` for each spec; names must be unique within a run."""
    scorers = [build_scorer(spec) for spec in specs]
    names = [s.name for s in scorers]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidInput(
            f"duplicate scorer names: {', '.join(duplicates)}; give each a distinct 'name'",
            field="scorers",
        )
    return scorers
