"""The state behind the comparison widget: rows × columns, filters, paging, diff, summary.

Pure Python (no ipywidgets), so it is tested and benchmarked without a kernel. A
*column* is one variant of one experiment; ``lab.compare(a, b)`` puts the variants of
two experiments on the same dataset version side by side.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import InvalidInput
from .diff import diff_html, text_html, wrap_pre

MAX_CELL_CHARS = 5_000
#: Above this many scores a normal-approximation CI replaces the bootstrap (same result, faster).
BOOTSTRAP_MAX_N = 2_000
DISAGREE_MODES = ("", "scores", "outputs")


@dataclass(frozen=True)
class Column:
    """One variant of one experiment."""

    key: int
    name: str
    experiment: str
    variant_idx: int


@dataclass
class Cell:
    """One result: a column's answer to one dataset row."""

    output: str | None
    error: str | None
    scores: dict[str, float | None]
    latency_ms: float
    cost_usd: float
    tokens: int


@dataclass
class Row:
    """One dataset row with its inputs and the cells of every column that has a result."""

    row_idx: int
    input: dict[str, Any]
    cells: dict[int, Cell] = field(default_factory=dict)
    haystack: str = ""
    has_error: bool = False
    scores_differ: bool = False
    outputs_differ: bool = False

    def finish(self) -> None:
        """Precompute what the filters look at (search text, errors, disagreement)."""
        parts = [f"{k} {v}" for k, v in self.input.items()]
        for cell in self.cells.values():
            parts.append(cell.output or "")
            parts.append(cell.error or "")
        self.haystack = "\x00".join(parts).casefold()
        self.has_error = any(c.error for c in self.cells.values())
        ok = [c for c in self.cells.values() if not c.error]
        self.outputs_differ = len({(c.output or "").strip() for c in ok}) > 1
        names = {n for c in ok for n in c.scores}
        self.scores_differ = any(len({c.scores.get(n) for c in ok}) > 1 for n in names)


def input_text(values: dict[str, Any]) -> str:
    """The inputs of a row as ``column: value`` lines."""
    return "\n".join(f"{k}: {v}" for k, v in values.items())


def _clip(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_CELL_CHARS:
        return text
    return text[:MAX_CELL_CHARS] + f"… [{len(text) - MAX_CELL_CHARS} more characters]"


class CompareState:
    """Rows × columns with filters, paging, a diff pair and per-column summaries."""

    def __init__(
        self,
        columns: Sequence[Column],
        rows: Sequence[Row],
        scorers: Sequence[str],
        *,
        page_size: int = 20,
        baseline: int = 0,
        other: int | None = None,
        feedback: dict[tuple[int, int], dict[str, Any]] | None = None,
        feedback_labels: Sequence[str] = (),
    ) -> None:
        if not columns:
            raise InvalidInput("nothing to compare: no variants", field="variants")
        self.columns = list(columns)
        self.rows = list(rows)
        self.scorers = list(scorers)
        self.feedback: dict[tuple[int, int], dict[str, Any]] = dict(feedback or {})
        self.feedback_labels = list(feedback_labels)
        self._check_column(baseline, "baseline")
        self.baseline = baseline
        if other is None:
            other = next((c.key for c in self.columns if c.key != baseline), baseline)
        self._check_column(other, "other")
        self.diff_pair: tuple[int, int] | None = (baseline, other) if other != baseline else None
        self.page_size = self._check_page_size(page_size)
        self.page = 0
        self.disagree = ""
        self.failing_scorer = ""
        self.fail_below = 0.5
        self.search = ""
        self.only_errors = False
        self.visible: list[int] = list(range(len(self.rows)))
        self._stats: dict[tuple[int, str], tuple[float, float, float]] | None = None

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def from_results(
        cls,
        sources: Iterable[tuple[str, Sequence[Any], Sequence[dict[str, Any]]]],
        scorers: Sequence[str],
        **options: Any,
    ) -> CompareState:
        """Build from ``(experiment name, variants, result rows)`` per experiment.

        ``variants`` are records with ``idx`` and ``name``; result rows are the plain
        dicts of ``ExperimentService.results``. Variant names are prefixed with the
        experiment name when more than one experiment is compared.
        """
        sources = list(sources)
        columns: list[Column] = []
        by_row: dict[int, Row] = {}
        for exp_name, variants, results in sources:
            key_of: dict[int, int] = {}
            for v in variants:
                key_of[v.idx] = len(columns)
                name = f"{exp_name}: {v.name}" if len(sources) > 1 else v.name
                columns.append(Column(len(columns), name, exp_name, v.idx))
            for r in results:
                row = by_row.get(r["row_idx"])
                if row is None:
                    row = by_row[r["row_idx"]] = Row(r["row_idx"], dict(r["input"]))
                row.cells[key_of[r["variant_idx"]]] = Cell(
                    output=r.get("output"),
                    error=r.get("error"),
                    scores=dict(r.get("scores") or {}),
                    latency_ms=float(r.get("latency_ms") or 0.0),
                    cost_usd=float(r.get("cost_usd") or 0.0),
                    tokens=int(r.get("prompt_tokens") or 0) + int(r.get("completion_tokens") or 0),
                )
        rows = [by_row[i] for i in sorted(by_row)]
        for row in rows:
            row.finish()
        return cls(columns, rows, scorers, **options)

    def _check_column(self, key: int, name: str) -> None:
        if isinstance(key, bool) or not isinstance(key, int) or not 0 <= key < len(self.columns):
            raise InvalidInput(
                f"{name} must be a variant index 0..{len(self.columns) - 1}", field=name
            )

    @staticmethod
    def _check_page_size(size: int) -> int:
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 500:
            raise InvalidInput("page_size must be an integer from 1 to 500", field="page_size")
        return size

    # -- filters ---------------------------------------------------------------------------
    def set_filters(self, **filters: Any) -> None:
        """Change filters (``disagree``, ``failing_scorer``, ``fail_below``, ``search``,
        ``only_errors``) and re-apply them; the page goes back to the first one."""
        for name, value in filters.items():
            if name not in ("disagree", "failing_scorer", "fail_below", "search", "only_errors"):
                raise InvalidInput(f"unknown filter {name!r}", field=name)
            setattr(self, name, value)
        if self.disagree not in DISAGREE_MODES:
            raise InvalidInput("disagree must be '', 'scores' or 'outputs'", field="disagree")
        if self.failing_scorer and self.failing_scorer not in self.scorers:
            raise InvalidInput(f"no scorer {self.failing_scorer!r}", field="failing_scorer")
        self.apply()

    def _keep(self, row: Row, needle: str) -> bool:
        if self.only_errors and not row.has_error:
            return False
        if self.disagree == "scores" and not row.scores_differ:
            return False
        if self.disagree == "outputs" and not row.outputs_differ:
            return False
        if self.failing_scorer:
            name, bar = self.failing_scorer, self.fail_below
            failing = False
            for cell in row.cells.values():
                value = cell.scores.get(name)
                if value is not None and value < bar:
                    failing = True
                    break
            if not failing:
                return False
        return not needle or needle in row.haystack

    def apply(self) -> None:
        """Recompute the visible rows from the filters and go to the first page."""
        needle = self.search.strip().casefold()
        self.visible = [i for i, row in enumerate(self.rows) if self._keep(row, needle)]
        self.page = 0

    # -- paging ----------------------------------------------------------------------------
    @property
    def n_pages(self) -> int:
        return max(1, math.ceil(len(self.visible) / self.page_size))

    def set_page(self, page: int) -> None:
        """Go to ``page`` (clamped to the existing pages)."""
        self.page = min(max(0, int(page)), self.n_pages - 1)

    def set_page_size(self, size: int) -> None:
        first = self.page * self.page_size
        self.page_size = self._check_page_size(size)
        self.set_page(first // self.page_size)

    def page_rows(self) -> list[Row]:
        """The rows of the current page."""
        start = self.page * self.page_size
        return [self.rows[i] for i in self.visible[start : start + self.page_size]]

    def page_label(self) -> str:
        n = len(self.visible)
        if not n:
            return f"no rows match (of {len(self.rows)})"
        start = self.page * self.page_size
        end = min(n, start + self.page_size)
        page = f"page {self.page + 1}/{self.n_pages}"
        return f"rows {start + 1}–{end} of {n} (of {len(self.rows)}) · {page}"

    # -- diff and cell text ----------------------------------------------------------------
    def set_diff(self, a: int | None, b: int | None) -> None:
        """Highlight word differences between columns ``a`` and ``b`` (``None``: off)."""
        if a is None or b is None or a == b:
            self.diff_pair = None
            return
        self._check_column(a, "diff")
        self._check_column(b, "diff")
        self.diff_pair = (a, b)

    def cell_html(self, row: Row, key: int) -> str:
        """Escaped HTML of a cell's output (with diff marks when ``key`` is in the pair)."""
        cell = row.cells.get(key)
        if cell is None:
            return text_html("(no result yet)", muted=True)
        if cell.error:
            return text_html(f"error: {_clip(cell.error)}", muted=True)
        pair = self.diff_pair
        if pair and key in pair:
            a, b = row.cells.get(pair[0]), row.cells.get(pair[1])
            if a and b and not a.error and not b.error:
                left, right = diff_html(_clip(a.output) or "", _clip(b.output) or "")
                return wrap_pre(left if key == pair[0] else right)
        return text_html(_clip(cell.output))

    @staticmethod
    def input_html(row: Row) -> str:
        return text_html(_clip(input_text(row.input)))

    def meta_text(self, row: Row, key: int) -> str:
        """Scores, latency, tokens and cost of a cell as one line of text."""
        cell = row.cells.get(key)
        if cell is None:
            return ""
        scores = " ".join(
            f"{n}={'–' if cell.scores.get(n) is None else f'{cell.scores[n]:.3g}'}"
            for n in self.scorers
        )
        return (
            f"{scores}  {cell.latency_ms:.0f} ms · {cell.tokens} tok · ${cell.cost_usd:.5f}"
        ).strip()

    # -- feedback --------------------------------------------------------------------------
    def feedback_of(self, row_idx: int, key: int) -> dict[str, Any]:
        """The current user's feedback on a cell (empty when none)."""
        return self.feedback.get((key, row_idx), {})

    def record_feedback(self, row_idx: int, key: int, record: dict[str, Any]) -> None:
        self.feedback[(key, row_idx)] = {
            k: record.get(k) for k in ("thumbs", "rating", "label", "comment")
        }

    # -- summary ---------------------------------------------------------------------------
    def _score_stats(self) -> dict[tuple[int, str], tuple[float, float, float]]:
        if self._stats is None:
            from ..experiments.stats import mean_ci

            self._stats = {}
            for col in self.columns:
                for name in self.scorers:
                    values = [
                        c.scores.get(name)
                        for row in self.rows
                        if (c := row.cells.get(col.key)) is not None and not c.error
                    ]
                    self._stats[(col.key, name)] = _mean_ci(values, mean_ci)
        return self._stats

    def summary(self, baseline: int | None = None) -> list[dict[str, Any]]:
        """Per column: results, errors, score means with 95% CIs, win/loss/tie vs baseline."""
        base = self.baseline if baseline is None else baseline
        self._check_column(base, "baseline")
        stats = self._score_stats()
        out = []
        for col in self.columns:
            cells = [c for row in self.rows if (c := row.cells.get(col.key)) is not None]
            n = len(cells)
            thumbs = [self.feedback.get((col.key, r.row_idx), {}).get("thumbs") for r in self.rows]
            entry: dict[str, Any] = {
                "column": col.key,
                "name": col.name,
                "results": n,
                "errors": sum(1 for c in cells if c.error),
                "mean_latency_ms": sum(c.latency_ms for c in cells) / n if n else math.nan,
                "cost_usd": sum(c.cost_usd for c in cells),
                "thumbs_up": thumbs.count(1),
                "thumbs_down": thumbs.count(-1),
            }
            for name in self.scorers:
                mean, low, high = stats[(col.key, name)]
                entry[f"{name}.mean"], entry[f"{name}.ci_low"], entry[f"{name}.ci_high"] = (
                    mean,
                    low,
                    high,
                )
                if col.key != base:
                    entry.update(self._wlt(col.key, base, name))
            out.append(entry)
        return out

    def _wlt(self, key: int, base: int, name: str) -> dict[str, int]:
        wins = losses = ties = 0
        for row in self.rows:
            a, b = row.cells.get(key), row.cells.get(base)
            if a is None or b is None:
                continue
            va, vb = a.scores.get(name), b.scores.get(name)
            if va is None or vb is None:
                continue
            if va > vb:
                wins += 1
            elif va < vb:
                losses += 1
            else:
                ties += 1
        return {f"{name}.wins": wins, f"{name}.losses": losses, f"{name}.ties": ties}


def _mean_ci(
    values: list[float | None], bootstrap: Callable[..., tuple[float, float, float]]
) -> tuple[float, float, float]:
    """Mean and 95% CI: bootstrap for small samples, normal approximation for large ones."""
    clean = [v for v in values if v is not None and not math.isnan(v)]
    if len(clean) <= BOOTSTRAP_MAX_N:
        return bootstrap(clean)
    n = len(clean)
    mean = math.fsum(clean) / n
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in clean) / (n - 1))
    half = 1.959963984540054 * sd / math.sqrt(n)
    return mean, mean - half, mean + half


FeedbackWriter = Callable[[Column, int, dict[str, Any]], dict[str, Any]]
