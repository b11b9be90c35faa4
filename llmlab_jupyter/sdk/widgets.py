"""The widget and chart part of the SDK: ``exp.compare()``, ``lab.compare(a, b)``,
``exp.charts()`` and ``lab.charts.history(...)``.

ipywidgets and bokeh are imported on first use, by :mod:`llmlab_jupyter.widgets`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..models import Experiment

if TYPE_CHECKING:
    from .session import ExperimentHandle, Session

FEEDBACK_COLUMNS = (
    "experiment",
    "variant_idx",
    "row_idx",
    "user",
    "thumbs",
    "rating",
    "label",
    "comment",
    "created_at",
    "updated_at",
)


class Charts:
    """Bokeh charts built by the SDK: ``.layout`` is the bokeh object, ``.show()`` shows it."""

    def __init__(self, layout: Any, what: str, *, show: bool = True) -> None:
        self.layout = layout
        self.what = what
        if show:
            self.show()

    def show(self) -> None:
        """Display in the notebook with BokehJS inlined (works offline and in exports)."""
        from ..widgets import charts

        charts.show(self.layout)

    def figures(self) -> list[Any]:
        from ..widgets import charts

        return charts.figures(self.layout)

    def __repr__(self) -> str:
        return f"<Charts of {self.what}: {len(self.figures())} figures>"


def scorer_names(experiments: Sequence[Experiment]) -> list[str]:
    names: list[str] = []
    for exp in experiments:
        for spec in exp.scorers:
            name = spec.get("name", spec["type"])
            if name not in names:
                names.append(name)
    return names


def compare_runs(
    lab: Session,
    runs: Sequence[ExperimentHandle],
    *,
    baseline: int = 0,
    other: int | None = None,
    page_size: int = 20,
) -> Any:
    """A :class:`~.widgets.compare.CompareWidget` over the variants of ``runs``.

    Several experiments must share the dataset version (same content hash): their rows
    are matched by index. Feedback is written as the lab's user.
    """
    from ..exceptions import InvalidInput
    from ..widgets.compare import CompareWidget
    from ..widgets.compare_state import Column, CompareState

    services, caller, project = lab.services, lab.caller, lab.project
    experiments = [run.refresh() for run in runs]
    hashes = {e.dataset_hash for e in experiments}
    if len(hashes) > 1:
        refs = ", ".join(f"{e.name} on {e.dataset_ref}" for e in experiments)
        raise InvalidInput(f"experiments must share a dataset version: {refs}", field="dataset")
    if len({e.name for e in experiments}) < len(experiments):
        raise InvalidInput("compare different experiments", field="experiments")
    sources = [
        (e.name, e.variants, services.experiments.results(caller, project, e.name))
        for e in experiments
    ]
    labels: list[str] = []
    for e in experiments:
        labels += [x for x in e.settings.get("feedback_labels") or [] if x not in labels]
    state = CompareState.from_results(
        sources,
        scorer_names(experiments),
        page_size=page_size,
        baseline=baseline,
        other=other,
        feedback_labels=labels,
    )
    key_of = {(c.experiment, c.variant_idx): c.key for c in state.columns}
    for e in experiments:
        for f in services.feedback.list(caller, project, e.name, user=caller.user):
            state.record_feedback(f.row_idx, key_of[(e.name, f.variant_idx)], f.model_dump())

    def write(column: Column, row_idx: int, fields: dict[str, Any]) -> dict[str, Any]:
        record = services.feedback.give(
            caller, project, column.experiment, column.variant_idx, row_idx, **fields
        )
        return record.model_dump()

    return CompareWidget(state, write_feedback=write)


def history_points(
    lab: Session, prompt: str, *, dataset: str, scorer: str | None = None
) -> tuple[str | None, list[dict[str, Any]]]:
    """``(scorer, points)``: one point per experiment (and model) that ran ``prompt`` on
    ``dataset`` (``"news"``: any version; ``"news@2"``: that version), oldest first."""
    services, caller, project = lab.services, lab.caller, lab.project
    name, _, version = dataset.partition("@")
    experiments: list[Experiment] = []
    cap = lab.config.max_page_size
    while True:
        page = services.experiments.list(caller, project, limit=cap, offset=len(experiments))
        experiments += page
        if len(page) < cap:
            break
    matching = [
        e
        for e in sorted(experiments, key=lambda e: e.created_at)
        if e.dataset == name
        and (not version or str(e.dataset_version) == version)
        and any(v.prompt == prompt for v in e.variants)
        and e.completed_items > 0
    ]
    if scorer is None:
        names = scorer_names(list(reversed(matching)))
        scorer = names[0] if names else None
    points: list[dict[str, Any]] = []
    if scorer is None:
        return None, points
    for e in matching:
        for entry in services.experiments.summary(caller, project, e.name):
            v = e.variants[entry["variant_idx"]]
            if v.prompt != prompt or f"{scorer}.mean" not in entry:
                continue
            points.append(
                {
                    "experiment": e.name,
                    "created_at": e.created_at,
                    "dataset": e.dataset_ref,
                    "prompt_version": v.prompt_version,
                    "model": v.model,
                    "mean": entry[f"{scorer}.mean"],
                    "ci_low": entry[f"{scorer}.ci_low"],
                    "ci_high": entry[f"{scorer}.ci_high"],
                    "results": entry["results"],
                }
            )
    return scorer, points


class ChartsAPI:
    """``lab.charts``: charts across experiments."""

    def __init__(self, lab: Session) -> None:
        self._lab = lab

    def history(
        self, prompt: str, *, dataset: str, scorer: str | None = None, show: bool = True
    ) -> Charts:
        """A prompt's mean score per experiment on ``dataset`` over time (one line per model).

        ``scorer`` defaults to the first scorer of the newest matching experiment.
        """
        from ..exceptions import NotFound
        from ..widgets import charts

        scorer, points = history_points(self._lab, prompt, dataset=dataset, scorer=scorer)
        if scorer is None:
            raise NotFound(
                f"no scored experiment ran prompt {prompt!r} on {dataset!r}", field="prompt"
            )
        layout = charts.history(points, prompt, scorer)
        return Charts(layout, f"prompt {prompt!r} on {dataset!r}", show=show)

    def history_data(self, prompt: str, *, dataset: str, scorer: str | None = None) -> Any:
        """The points of :meth:`history` as a DataFrame."""
        import pandas as pd

        _, points = history_points(self._lab, prompt, dataset=dataset, scorer=scorer)
        return pd.DataFrame.from_records(points)
