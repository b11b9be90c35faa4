"""``llmlab run``, ``llmlab experiments …`` and ``llmlab usage``."""

from __future__ import annotations

import json
import math
from typing import Any

import click

from ..exceptions import InvalidInput
from .support import CliState, echo_json, pass_state, table, when


def _scorer_spec(text: str) -> Any:
    text = text.strip()
    if text.startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise InvalidInput(f"--scorer is not valid JSON: {err.msg}", field="scorers") from err
    return text


def _fmt(value: Any) -> Any:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.4g}"
    return value


def _print_summary(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    scorers = sorted({k.split(".")[0] for r in rows for k in r if k.endswith(".mean")})
    headers = ["VARIANT", "RESULTS", "ERRORS", "P50 MS", "P95 MS", "COST $", "CACHED"]
    for s in scorers:
        headers += [f"{s} MEAN [CI]", f"{s} W/L/T"]
    body = []
    for r in rows:
        line = [
            r["variant"],
            r["results"],
            r["errors"],
            _fmt(r["latency_p50_ms"]),
            _fmt(r["latency_p95_ms"]),
            _fmt(r["cost_usd"]),
            r["cache_hits"],
        ]
        for s in scorers:
            line.append(
                f"{_fmt(r.get(f'{s}.mean'))} [{_fmt(r.get(f'{s}.ci_low'))}, "
                f"{_fmt(r.get(f'{s}.ci_high'))}]"
            )
            line.append(
                f"{r[f'{s}.wins']}/{r[f'{s}.losses']}/{r[f'{s}.ties']}"
                if f"{s}.wins" in r
                else "baseline"
            )
        body.append(line)
    click.echo(table(headers, body))


def _run(state: CliState, name: str, *, progress: bool, budget: float | None) -> None:
    from ..experiments.planning import RunOptions

    svc = state.services(write=True).experiments
    exp = svc.get(state.caller, state.project, name)
    options = RunOptions(
        concurrency=int(exp.settings.get("concurrency", 16)),
        use_cache=bool(exp.settings.get("use_cache", True)),
        budget_usd=budget if budget is not None else exp.budget_usd,
        progress=progress,
    )
    try:
        exp = svc.run(state.caller, state.project, name, options=options)
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted; resume with: llmlab experiments resume {name}", err=True)
        raise SystemExit(130) from None
    click.echo(
        f"{exp.name}: {exp.status} ({exp.completed_items}/{exp.total_items}, "
        f"{exp.error_items} errors, ${exp.spent_usd:.4f})"
    )
    _print_summary(svc.summary(state.caller, state.project, name))


@click.command("run")
@click.option("--dataset", "-d", required=True, metavar="NAME[@N]", help="Dataset version.")
@click.option(
    "--prompt",
    "prompts",
    multiple=True,
    required=True,
    metavar="NAME[@N|@LABEL]",
    help="A prompt version; repeat for more variants.",
)
@click.option(
    "--model",
    "models",
    multiple=True,
    metavar="PROVIDER/MODEL",
    help="Model(s) crossed with every prompt [default: each version's model].",
)
@click.option(
    "--scorer",
    "scorers",
    multiple=True,
    metavar="NAME|JSON",
    help='A scorer name or JSON spec, e.g. \'{"type": "regex", "pattern": "^ok"}\'.',
)
@click.option("--name", default=None, help="Experiment name [default: generated].")
@click.option("--budget", type=float, default=None, help="Stop when this many USD are spent.")
@click.option("--concurrency", type=click.IntRange(1, 1000), default=16, show_default=True)
@click.option("--no-cache", is_flag=True, help="Call the models even for cached inputs.")
@click.option("--dry-run", is_flag=True, help="Only print the calls and the estimated cost.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@pass_state
def run(
    state: CliState,
    dataset: str,
    prompts: tuple[str, ...],
    models: tuple[str, ...],
    scorers: tuple[str, ...],
    name: str | None,
    budget: float | None,
    concurrency: int,
    no_cache: bool,
    dry_run: bool,
    no_progress: bool,
) -> None:
    """Run a prompt × model × dataset experiment and print its summary."""
    svc = state.services(write=True).experiments
    exp = svc.create(
        state.caller,
        state.project,
        dataset=dataset,
        variants=list(prompts),
        models=list(models) or None,
        scorers=[_scorer_spec(s) for s in scorers],
        name=name,
        budget_usd=budget,
        concurrency=concurrency,
        use_cache=not no_cache,
    )
    if dry_run:
        plan = svc.dry_run(state.caller, state.project, exp.name)
        click.echo(
            f"{exp.name}: {plan['calls']} calls to make, {plan['cached']} cached, "
            f"estimated ${plan['est_cost_usd']:.4f}"
        )
        click.echo(
            table(
                ["VARIANT", "CALLS", "CACHED", "EST $"],
                [
                    [v["variant"], v["calls"], v["cached"], _fmt(v["est_cost_usd"])]
                    for v in plan["variants"]
                ],
            )
        )
        click.echo(f"start it with: llmlab experiments resume {exp.name}")
        return
    _run(state, exp.name, progress=not no_progress, budget=None)


@click.group("experiments")
def experiments() -> None:
    """List, inspect, resume and cancel experiments."""


@experiments.command("list")
@click.option("--status", default=None)
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_state
def experiments_list(state: CliState, status: str | None, limit: int, as_json: bool) -> None:
    """Experiments of the project, newest first."""
    items = state.services().experiments.list(
        state.caller, state.project, status=status, limit=limit
    )
    if as_json:
        echo_json([e.model_dump(mode="json") for e in items])
        return
    click.echo(
        table(
            ["NAME", "STATUS", "DONE", "DATASET", "VARIANTS", "SPENT $", "CREATED"],
            [
                [
                    e.name,
                    e.status,
                    f"{e.completed_items}/{e.total_items}",
                    e.dataset_ref,
                    len(e.variants),
                    _fmt(e.spent_usd),
                    when(e.created_at),
                ]
                for e in items
            ],
        )
    )


@experiments.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@pass_state
def experiments_show(state: CliState, name: str, as_json: bool) -> None:
    """Status, provenance and summary of one experiment."""
    svc = state.services().experiments
    exp = svc.get(state.caller, state.project, name)
    summary = svc.summary(state.caller, state.project, name)
    if as_json:
        echo_json({**exp.model_dump(mode="json"), "summary": summary})
        return
    click.echo(f"name:     {exp.name}\nstatus:   {exp.status} {exp.message}".rstrip())
    click.echo(f"progress: {exp.completed_items}/{exp.total_items} ({exp.error_items} errors)")
    click.echo(f"dataset:  {exp.dataset_ref} {exp.dataset_hash}")
    click.echo(
        f"spent:    ${exp.spent_usd:.4f}" + (f" of ${exp.budget_usd:g}" if exp.budget_usd else "")
    )
    for v in exp.variants:
        click.echo(f"variant {v.idx}: {v.name}  {v.prompt_hash}  params={json.dumps(v.params)}")
    click.echo("")
    _print_summary(summary)


@experiments.command("resume")
@click.argument("name")
@click.option("--budget", type=float, default=None, help="A new budget in USD.")
@click.option("--no-progress", is_flag=True)
@pass_state
def experiments_resume(state: CliState, name: str, budget: float | None, no_progress: bool) -> None:
    """Run an experiment that was planned, interrupted or stopped by its budget."""
    _run(state, name, progress=not no_progress, budget=budget)


@experiments.command("cancel")
@click.argument("name")
@pass_state
def experiments_cancel(state: CliState, name: str) -> None:
    """Cancel an experiment (a running one stops after the calls in flight)."""
    exp = state.services(write=True).experiments.cancel(state.caller, state.project, name)
    click.echo(f"{exp.name}: {exp.status}")


@experiments.command("results")
@click.argument("name")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write all results to this CSV file instead of printing.",
)
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True)
@pass_state
def experiments_results(state: CliState, name: str, csv_path: str | None, limit: int) -> None:
    """Results with inputs, outputs, scores and provenance."""
    from ..sdk.experiments import results_frame

    svc = state.services().experiments
    rows = svc.results(state.caller, state.project, name, limit=None if csv_path else limit)
    if csv_path:
        results_frame(rows).to_csv(csv_path, index=False)
        click.echo(f"wrote {len(rows)} results to {csv_path}")
        return
    click.echo(
        table(
            ["ROW", "VARIANT", "OUTPUT", "ERROR", "SCORES"],
            [[r["row_idx"], r["variant"], r["output"], r["error"], r["scores"]] for r in rows],
        )
    )


@click.command("usage")
@click.option(
    "--by",
    default="model",
    show_default=True,
    help="Comma-separated: model, user, experiment, status, purpose, cache_hit.",
)
@click.option("--experiment", default=None)
@click.option("--json", "as_json", is_flag=True)
@pass_state
def usage(state: CliState, by: str, experiment: str | None, as_json: bool) -> None:
    """The usage ledger: calls, tokens, cost and savings."""
    groups = [g.strip() for g in by.split(",") if g.strip()]
    rows = state.services().experiments.usage(
        state.caller, state.project, by=groups, experiment=experiment
    )
    if as_json:
        echo_json(rows)
        return
    headers = [
        *groups,
        "calls",
        "prompt_tokens",
        "completion_tokens",
        "cost_usd",
        "saved_usd",
        "cache_hits",
        "errors",
    ]
    click.echo(table([h.upper() for h in headers], [[_fmt(r[h]) for h in headers] for r in rows]))
