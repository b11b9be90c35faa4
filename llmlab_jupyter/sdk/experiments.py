"""The experiment part of the SDK: ``lab.experiment(...)``, ``lab.experiments``, ``lab.usage()``."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..models import Experiment

if TYPE_CHECKING:
    from .session import Session


def results_frame(rows: list[dict[str, Any]]) -> Any:
    """One DataFrame row per dataset row × variant; inputs and scores become columns."""
    import pandas as pd

    records = []
    for r in rows:
        rec = {k: v for k, v in r.items() if k not in ("input", "scores", "reasons")}
        for key, value in r["input"].items():
            rec[f"input.{key}"] = value
        for key, value in r["scores"].items():
            rec[f"score.{key}"] = value
        for key, value in r["reasons"].items():
            if value:
                rec[f"reason.{key}"] = value
        records.append(rec)
    return pd.DataFrame.from_records(records)


class ExperimentRun:
    """A stored experiment, bound to a ``Lab``: run it, resume it, read its results."""

    def __init__(
        self, lab: Session, experiment: Experiment, scorers: Sequence[Any] | None = None
    ) -> None:
        self._lab = lab
        self.experiment = experiment
        self._scorers = list(scorers or [])  # the objects given at creation (functions too)

    @property
    def name(self) -> str:
        return self.experiment.name

    @property
    def status(self) -> str:
        return self.refresh().status

    def refresh(self) -> Experiment:
        self.experiment = self._lab.services.experiments.get(
            self._lab.caller, self._lab.project, self.name
        )
        return self.experiment

    def dry_run(self) -> dict[str, Any]:
        """Calls still to make, how many the cache answers, and the estimated cost."""
        return self._lab.services.experiments.dry_run(
            self._lab.caller, self._lab.project, self.name
        )

    def run(
        self,
        *,
        scorers: Sequence[Any] | None = None,
        progress: bool = True,
        budget_usd: float | None = None,
        concurrency: int | None = None,
        use_cache: bool | None = None,
    ) -> ExperimentRun:
        """Run (or resume) the experiment with a progress bar; returns ``self``.

        Interrupted (KeyboardInterrupt, kernel restart, crash), ``run()`` again resumes:
        completed items are neither called again nor duplicated. Python-function scorers
        must be passed again to resume.
        """
        from ..experiments.planning import RunOptions

        exp = self.refresh()
        options = RunOptions(
            concurrency=concurrency or int(exp.settings.get("concurrency", 16)),
            use_cache=bool(exp.settings.get("use_cache", True)) if use_cache is None else use_cache,
            budget_usd=budget_usd if budget_usd is not None else exp.budget_usd,
            progress=progress,
        )
        self.experiment = self._lab.services.experiments.run(
            self._lab.caller,
            self._lab.project,
            self.name,
            scorers=scorers if scorers is not None else self._scorers,
            options=options,
        )
        return self

    def cancel(self) -> Experiment:
        self.experiment = self._lab.services.experiments.cancel(
            self._lab.caller, self._lab.project, self.name
        )
        return self.experiment

    def results(self, *, variant: int | None = None, as_frame: bool = True) -> Any:
        """Results as a DataFrame (or a list of dicts with ``as_frame=False``)."""
        rows = self._lab.services.experiments.results(
            self._lab.caller, self._lab.project, self.name, variant=variant
        )
        return results_frame(rows) if as_frame else rows

    def summary(self, *, baseline: int = 0, confidence: float = 0.95, as_frame: bool = True) -> Any:
        """Per variant: score means with CIs, win/loss/tie vs the baseline, latency, cost."""
        rows = self._lab.services.experiments.summary(
            self._lab.caller,
            self._lab.project,
            self.name,
            baseline=baseline,
            confidence=confidence,
        )
        if not as_frame:
            return rows
        import pandas as pd

        return pd.DataFrame.from_records(rows).set_index("variant")

    def compare(self, baseline: int = 0, other: int | None = None, page_size: int = 20) -> Any:
        """An interactive comparison of the variants (rows × variants) with feedback.

        ``baseline`` is the variant the summary's win/loss/tie counts refer to; ``other``
        the variant whose output is diffed word by word against the baseline's.
        """
        from .widgets import compare_runs

        return compare_runs(self._lab, [self], baseline=baseline, other=other, page_size=page_size)

    def charts(self, *, scorers: Sequence[str] | None = None, show: bool = True) -> Any:
        """Bokeh charts: score distributions, score vs cost and latency, cost and tokens.

        Shown with BokehJS inlined (offline, kept in exported HTML) unless ``show=False``;
        the returned :class:`Charts` holds the bokeh layout.
        """
        from ..widgets import charts
        from .widgets import Charts, scorer_names

        exp = self.refresh()
        services, caller, project = self._lab.services, self._lab.caller, self._lab.project
        results = services.experiments.results(caller, project, self.name)
        summary = services.experiments.summary(caller, project, self.name)
        names = list(scorers) if scorers is not None else scorer_names([exp])
        layout = charts.experiment_charts(results, summary, names)
        return Charts(layout, f"experiment {self.name!r}", show=show)

    def feedback(
        self,
        variant: int | None = None,
        row: int | None = None,
        *,
        as_frame: bool = True,
        **fields: Any,
    ) -> Any:
        """Give feedback on one result, or list the experiment's feedback.

        ``exp.feedback(1, 7, thumbs=1, rating=4, label="good", comment="...")`` stores the
        current user's feedback on variant 1, dataset row 7 (fields not given are kept;
        ``None`` clears one). ``exp.feedback()`` lists every record (a DataFrame).
        """
        services, caller, project = self._lab.services, self._lab.caller, self._lab.project
        if variant is None and row is None:
            if fields:
                from ..exceptions import InvalidInput

                raise InvalidInput("name the variant and row to give feedback on", field="row")
            items = services.feedback.list(caller, project, self.name)
            if not as_frame:
                return items
            import pandas as pd

            from .widgets import FEEDBACK_COLUMNS

            columns = list(FEEDBACK_COLUMNS)
            return pd.DataFrame([f.model_dump() for f in items], columns=columns)
        if variant is None or row is None:
            from ..exceptions import InvalidInput

            raise InvalidInput("give both variant and row", field="variant" if row else "row")
        return services.feedback.give(caller, project, self.name, variant, row, **fields)

    def usage(self, *, by: Sequence[str] = ("model",)) -> Any:
        import pandas as pd

        return pd.DataFrame.from_records(
            self._lab.services.experiments.usage(
                self._lab.caller, self._lab.project, by=by, experiment=self.name
            )
        )

    def __repr__(self) -> str:
        e = self.experiment
        return (
            f"<ExperimentRun {e.name!r} {e.status} {e.completed_items}/{e.total_items} "
            f"on {e.dataset_ref}, {len(e.variants)} variants>"
        )


class ExperimentsAPI:
    """``lab.experiments``: stored experiments of the current project."""

    def __init__(self, lab: Session) -> None:
        self._lab = lab

    def create(self, **kwargs: Any) -> ExperimentRun:
        """Plan an experiment (see :meth:`Lab.experiment`)."""
        exp = self._lab.services.experiments.create(self._lab.caller, self._lab.project, **kwargs)
        return ExperimentRun(self._lab, exp, kwargs.get("scorers"))

    def get(self, name: str) -> ExperimentRun:
        exp = self._lab.services.experiments.get(self._lab.caller, self._lab.project, name)
        return ExperimentRun(self._lab, exp)

    def list(self, *, status: str | None = None, limit: int = 100, as_frame: bool = False) -> Any:
        items: builtins.list[Experiment] = self._lab.services.experiments.list(
            self._lab.caller, self._lab.project, status=status, limit=limit
        )
        if not as_frame:
            return items
        import pandas as pd

        return pd.DataFrame(
            [e.model_dump(exclude={"variants", "scorers", "settings"}) for e in items]
        )
