"""The built-in scorers, each with a ``type`` name used in specs.

``exact_match``, ``contains``, ``regex``, ``json_valid``, ``json_schema``, ``numeric``,
``similarity`` and ``llm_judge``. Options are dataclass fields (type-checked when the
scorer is built); the expected value comes from the dataset column ``column``.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from ...exceptions import InvalidInput, ProviderError, TemplateError
from ...gateway.base import ChatRequest
from .base import OptionScorer, Score, ScoreInput, SupportsComplete

__all__ = [
    "Contains",
    "ExactMatch",
    "JsonSchema",
    "JsonValid",
    "LlmJudge",
    "Numeric",
    "Regex",
    "Similarity",
    "parse_judge",
]

_NUMBER = re.compile(r"[-+]?(?:\d+(?:,\d{3})*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_FENCE = re.compile(r"^```[\w-]*\s*\n(.*?)\n?\s*```$", re.DOTALL)
_OPEN_BRACE = re.compile(r"\{")


def _pass(ok: bool, reason: str = "") -> Score:
    return Score(1.0 if ok else 0.0, reason)


def _missing(column: str) -> Score:
    return Score(None, f"no expected value in column {column!r}")


@dataclass(eq=False, repr=False)
class ExactMatch(OptionScorer):
    """1 when the output equals the expected value (compared as text), else 0."""

    type = "exact_match"
    column: str = "expected"
    case_sensitive: bool = True
    strip: bool = True

    def _norm(self, text: str) -> str:
        text = text.strip() if self.strip else text
        return text if self.case_sensitive else text.casefold()

    def score(self, inp: ScoreInput) -> Score:
        expected = inp.lookup(self.column)
        if expected is None:
            return _missing(self.column)
        return _pass(self._norm(inp.output) == self._norm(str(expected)))


@dataclass(eq=False, repr=False)
class Contains(OptionScorer):
    """1 when the output contains ``value`` (or else the ``column`` value), else 0."""

    type = "contains"
    value: str | None = None
    column: str = "expected"
    case_sensitive: bool = True

    def score(self, inp: ScoreInput) -> Score:
        needle = self.value if self.value is not None else inp.lookup(self.column)
        if needle is None:
            return _missing(self.column)
        needle, hay = str(needle), inp.output
        if not self.case_sensitive:
            needle, hay = needle.casefold(), hay.casefold()
        return _pass(needle in hay)


@dataclass(eq=False, repr=False)
class Regex(OptionScorer):
    """1 when ``pattern`` matches anywhere in the output (``re.search``), else 0."""

    type = "regex"
    pattern: str
    ignore_case: bool = False
    _regex: re.Pattern[str] = field(init=False, repr=False)

    def _setup(self) -> None:
        try:
            self._regex = re.compile(self.pattern, re.IGNORECASE if self.ignore_case else 0)
        except re.error as err:
            raise InvalidInput(f"invalid regex {self.pattern!r}: {err}", field="pattern") from err

    def score(self, inp: ScoreInput) -> Score:
        return _pass(self._regex.search(inp.output) is not None)


def _load_json(text: str) -> Any:
    text = text.strip()
    fenced = _FENCE.match(text)
    return json.loads(fenced.group(1) if fenced else text)


@dataclass(eq=False, repr=False)
class JsonValid(OptionScorer):
    """1 when the output is valid JSON (one surrounding Markdown code fence is allowed)."""

    type = "json_valid"

    def score(self, inp: ScoreInput) -> Score:
        try:
            _load_json(inp.output)
        except ValueError as err:
            return Score(0.0, f"not valid JSON: {err}")
        return Score(1.0)


@dataclass(eq=False, repr=False)
class JsonSchema(OptionScorer):
    """1 when the output is JSON valid against ``schema``; else 0 with the best error."""

    type = "json_schema"
    schema: dict[str, Any]
    _validator: Any = field(init=False, repr=False)

    def _setup(self) -> None:
        from jsonschema import exceptions, validators

        cls = validators.validator_for(self.schema)
        try:
            cls.check_schema(self.schema)
        except exceptions.SchemaError as err:
            raise InvalidInput(f"invalid JSON schema: {err.message}", field="schema") from err
        self._validator = cls(self.schema)

    def score(self, inp: ScoreInput) -> Score:
        from jsonschema.exceptions import best_match

        try:
            data = _load_json(inp.output)
        except ValueError as err:
            return Score(0.0, f"not valid JSON: {err}")
        error = best_match(self._validator.iter_errors(data))
        return Score(1.0) if error is None else Score(0.0, f"{error.json_path}: {error.message}")


def _first_number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    found = _NUMBER.search(str(value))
    return float(found.group().replace(",", "")) if found else None


@dataclass(eq=False, repr=False)
class Numeric(OptionScorer):
    """1 when the first number in the output is close to the expected number, else 0.

    Passes when ``|output - expected| <= max(abs_tol, rel_tol * |expected|)``;
    ``"1,234.5"`` reads as 1234.5.
    """

    type = "numeric"
    column: str = "expected"
    abs_tol: float = 0.0
    rel_tol: float = 0.0

    def _setup(self) -> None:
        for name in ("abs_tol", "rel_tol"):
            if getattr(self, name) < 0:
                raise InvalidInput(f"option {name!r} must not be negative", field=name)

    def score(self, inp: ScoreInput) -> Score:
        expected = inp.lookup(self.column)
        if expected is None:
            return _missing(self.column)
        want = _first_number(expected)
        if want is None:
            return Score(None, f"expected value {str(expected)[:40]!r} is not a number")
        got = _first_number(inp.output)
        if got is None:
            return Score(0.0, "no number in output")
        ok = abs(got - want) <= max(self.abs_tol, self.rel_tol * abs(want))
        return _pass(ok, "" if ok else f"got {got:g}, expected {want:g}")


@dataclass(eq=False, repr=False)
class Similarity(OptionScorer):
    """String similarity 0-1 to the expected text (``difflib`` ratio, whitespace-stripped).

    ``threshold`` only labels the reason ``pass``/``fail``; the value stays the similarity.
    """

    type = "similarity"
    column: str = "expected"
    threshold: float | None = None
    case_sensitive: bool = True

    def _setup(self) -> None:
        if self.threshold is not None and not 0 <= self.threshold <= 1:
            raise InvalidInput("option 'threshold' must be between 0 and 1", field="threshold")

    def score(self, inp: ScoreInput) -> Score:
        expected = inp.lookup(self.column)
        if expected is None:
            return _missing(self.column)
        a, b = inp.output.strip(), str(expected).strip()
        if not self.case_sensitive:
            a, b = a.casefold(), b.casefold()
        value = difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
        if self.threshold is None:
            return Score(value)
        verdict = "pass" if value >= self.threshold else "fail"
        return Score(value, f"{verdict}: similarity {value:.3f}, threshold {self.threshold:g}")


JUDGE_SYSTEM = (
    "You are a strict, impartial evaluator. Answer with only a JSON object of the form "
    '{{"score": <number from {lo:g} to {hi:g}>, "reason": "<one short sentence>"}} '
    "and nothing else."
)
DEFAULT_RUBRIC = (
    "Grade how well the OUTPUT answers the INPUT. If an EXPECTED answer is given, "
    "judge correctness against it.\n\nINPUT:\n{{ input }}\n\nEXPECTED:\n{{ expected }}\n\n"
    "OUTPUT:\n{{ output }}\n"
)
_SCALES = {"0-1": (0.0, 1.0), "1-5": (1.0, 5.0), "1-10": (1.0, 10.0), "0-10": (0.0, 10.0)}


def _as_text(rendered: str | list[dict]) -> str:
    if isinstance(rendered, str):
        return rendered
    return "\n".join(f"{m.get('role', '')}: {m.get('content', '')}" for m in rendered)


def parse_judge(text: str, low: float, high: float) -> tuple[float, str]:
    """``(score normalised to 0-1, reason)`` from the first JSON object with a ``score``.

    Raises ``ValueError`` saying what is wrong when there is none or it is off the scale.
    """
    decoder = json.JSONDecoder()
    for brace in _OPEN_BRACE.finditer(text):
        try:
            obj, _ = decoder.raw_decode(text, brace.start())
        except ValueError:
            continue
        if isinstance(obj, dict) and "score" in obj:
            raw = obj["score"]
            if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
                raise ValueError(f"score {raw!r} is not a number")
            value = float(raw)  # a numeric string such as "4" is accepted
            if not low <= value <= high:
                raise ValueError(f"score {value:g} is outside the scale {low:g}-{high:g}")
            return (value - low) / (high - low), str(obj.get("reason", ""))
    raise ValueError(f"no JSON object with a 'score' in {text[:80]!r}")


@dataclass(eq=False, repr=False)
class LlmJudge(OptionScorer):
    """Asks ``model`` to grade the output with ``rubric``; the value is normalised to 0-1.

    The rubric is a sandboxed template with ``{{ output }}``, ``{{ expected }}`` (from
    ``column``; empty when missing), ``{{ input }}`` (the rendered prompt as text) and the
    row's columns (these three names win over columns of the same name). ``scale`` is
    ``[low, high]`` or one of ``"0-1"``, ``"1-5"``, ``"1-10"``, ``"0-10"``. An unparsable
    answer, a failed call or a rubric that cannot be rendered gives ``Score(None, reason)``.
    """

    type = "llm_judge"
    needs_gateway = True
    model: str
    rubric: str = DEFAULT_RUBRIC
    scale: Any = "0-1"
    column: str = "expected"
    params: dict[str, Any] = field(default_factory=dict)

    def _setup(self) -> None:
        from ...prompts import detect_variables

        scale = _SCALES.get(self.scale, self.scale) if isinstance(self.scale, str) else self.scale
        ok = isinstance(scale, (list, tuple)) and len(scale) == 2
        ok = ok and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in scale)
        if not ok or float(scale[0]) >= float(scale[1]):
            raise InvalidInput(
                f"option 'scale' must be [low, high] or one of {sorted(_SCALES)}; "
                f"got {self.scale!r}",
                field="scale",
            )
        self.scale = [float(scale[0]), float(scale[1])]
        try:  # a syntax error fails now, not once per row
            detect_variables("text", self.rubric)
        except TemplateError as err:
            raise TemplateError(f"judge rubric: {err.message}", field="rubric") from err

    def score(self, inp: ScoreInput) -> Score:
        raise InvalidInput("llm_judge calls a model: use `await ascore(inp, gateway)`")

    def request(self, inp: ScoreInput) -> ChatRequest:
        """The :class:`ChatRequest` sent to the judge model for ``inp``."""
        from ...prompts import render

        expected = inp.lookup(self.column)
        variables = {
            **inp.row,
            "output": inp.output,
            "expected": "" if expected is None else expected,
            "input": _as_text(inp.rendered),
        }
        low, high = self.scale
        system = JUDGE_SYSTEM.format(lo=low, hi=high)
        messages = [
            {"role": "system", "content": system},
            {"role": "user", "content": render("text", self.rubric, variables)},
        ]
        return ChatRequest(self.model, messages, {"temperature": 0, **self.params})

    async def ascore(self, inp: ScoreInput, gateway: SupportsComplete | None = None) -> Score:
        if gateway is None:
            raise InvalidInput("llm_judge needs a gateway to call its model", field="gateway")
        try:
            request = self.request(inp)
        except TemplateError as err:
            return Score(None, f"judge rubric could not be rendered: {err.message}")
        try:
            completion = await gateway.complete(request)
        except ProviderError as err:
            return Score(None, f"judge call failed: {err.message}")
        cost = float(getattr(completion, "cost_usd", 0.0) or 0.0)
        try:
            value, reason = parse_judge(str(completion.text), *self.scale)
        except ValueError as err:
            return Score(None, f"judge output could not be parsed: {err}", cost)
        return Score(value, reason, cost)
