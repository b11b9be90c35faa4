"""``llmlab jobs …``, ``llmlab schedules …`` and ``llmlab worker``.

::

    llmlab jobs submit experiment -P dataset=golden -P 'prompts=["greet@production"]' --wait
    llmlab jobs list --state running
    llmlab jobs show 12            llmlab jobs logs 12 --follow        llmlab jobs cancel 12
    llmlab schedules add nightly regression --cron "0 3 * * *" --tz Europe/Paris \\
        --alert exact_match --max-drop 0.05 --webhook https://hooks.example.com/x
    llmlab schedules list | pause NAME | resume NAME | remove NAME
    llmlab worker --count 2        llmlab worker --celery --count 4
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from typing import Any

import click

from ..models import FINAL_STATES, Job
from .support import CliState, echo_json, parse_pairs, pass_state, table, when


def _job_line(job: Job) -> list[Any]:
    return [
        job.id,
        job.template,
        job.state,
        job.attempts,
        job.created_by,
        when(job.created_at),
        job.schedule or "",
        job.error.splitlines()[0] if job.error else "",
    ]


JOB_HEADERS = ["ID", "TEMPLATE", "STATE", "ATTEMPTS", "OWNER", "CREATED", "SCHEDULE", "ERROR"]


@click.group("jobs")
def jobs() -> None:
    """Batch jobs: papermill runs of notebook templates."""


@jobs.command("submit")
@click.argument("template")
@click.option(
    "-P",
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help='A parameter; VALUE is JSON when it parses (0.5, true, ["a"]).',
)
@click.option("--params-json", help="All parameters as one JSON object.")
@click.option("--idempotency-key", help="Submitting again with this key returns the same job.")
@click.option("--timeout", "timeout_s", type=float, help="Time limit in seconds.")
@click.option("--wait", is_flag=True, help="Wait for the job to end; exit 1 unless it succeeds.")
@click.option("--json", "as_json", is_flag=True, help="Print the job as JSON.")
@pass_state
def submit(
    state: CliState,
    template: str,
    params: tuple[str, ...],
    params_json: str | None,
    idempotency_key: str | None,
    timeout_s: float | None,
    wait: bool,
    as_json: bool,
) -> None:
    """Queue a run of TEMPLATE (a notebook of the templates folder)."""
    parameters: dict[str, Any] = {}
    if params_json:
        try:
            parameters.update(json.loads(params_json))
        except json.JSONDecodeError as err:
            raise click.BadParameter(err.msg, param_hint="--params-json") from err
    parameters.update(parse_pairs(params, "--param", json_values=True))
    svc = state.services(write=True)
    job = svc.jobs.submit(
        state.caller,
        state.project,
        template,
        parameters,
        idempotency_key=idempotency_key,
        timeout_s=timeout_s,
    )
    if not wait:
        if as_json:
            echo_json(job.model_dump(mode="json"))
        else:
            click.echo(f"job {job.id} {job.state}")
        return
    while not job.final:
        time.sleep(0.5)
        job = svc.jobs.get(state.caller, state.project, job.id)
    if as_json:
        echo_json(job.model_dump(mode="json"))
    else:
        click.echo(f"job {job.id} {job.state}" + (f": {job.error}" if job.error else ""))
    if job.state != "succeeded":
        raise SystemExit(1)


@jobs.command("list")
@click.option("--state", "job_state", type=click.Choice(["queued", "running", *FINAL_STATES]))
@click.option("--schedule", help="Only the jobs of this schedule.")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_state
def list_jobs(
    state: CliState, job_state: str | None, schedule: str | None, limit: int, as_json: bool
) -> None:
    """Jobs of the project, newest first."""
    items = state.services().jobs.list(
        state.caller, state.project, state=job_state, schedule=schedule, limit=limit
    )
    if as_json:
        echo_json([j.model_dump(mode="json") for j in items])
    else:
        click.echo(table(JOB_HEADERS, [_job_line(j) for j in items]))


@jobs.command("show")
@click.argument("job_id", type=int)
@pass_state
def show(state: CliState, job_id: int) -> None:
    """A job with its parameters, result and artifacts, as JSON."""
    job = state.services().jobs.get(state.caller, state.project, job_id)
    echo_json(job.model_dump(mode="json"))


@jobs.command("logs")
@click.argument("job_id", type=int)
@click.option("-f", "--follow", is_flag=True, help="Keep printing until the job ends.")
@pass_state
def logs(state: CliState, job_id: int, follow: bool) -> None:
    """The job's log: worker events and the notebook's output."""
    svc = state.services().jobs
    seen = 0
    while True:
        chunks = svc.logs(state.caller, state.project, job_id, after=seen)
        for chunk in chunks:
            click.echo(chunk.text, nl=False)
        seen += len(chunks)
        if not follow or (svc.get(state.caller, state.project, job_id).final and not chunks):
            return
        time.sleep(0.5)


@jobs.command("cancel")
@click.argument("job_id", type=int)
@pass_state
def cancel(state: CliState, job_id: int) -> None:
    """Cancel a queued job now, or stop a running one."""
    job = state.services().jobs.cancel(state.caller, state.project, job_id)
    click.echo(f"job {job.id} {'cancelled' if job.state == 'cancelled' else 'cancel requested'}")


# -- schedules -------------------------------------------------------------------------------
@click.group("schedules")
def schedules() -> None:
    """Cron schedules of templates, with alert rules."""


@schedules.command("add")
@click.argument("name")
@click.argument("template")
@click.option("--cron", required=True, help="Five cron fields, e.g. '0 6 * * 1-5'.")
@click.option("--tz", "timezone", default="UTC", show_default=True, help="IANA time zone.")
@click.option("-P", "--param", "params", multiple=True, metavar="KEY=VALUE")
@click.option("--timeout", "timeout_s", type=float)
@click.option("--alert", "metric", help="Raise an alert when this metric drops.")
@click.option("--max-drop", type=float, default=0.0, show_default=True)
@click.option(
    "--baseline",
    default="previous",
    show_default=True,
    help="'previous' (the last succeeded run) or a pinned number.",
)
@click.option("--webhook", help="POST alerts to this URL.")
@pass_state
def add_schedule(
    state: CliState,
    name: str,
    template: str,
    cron: str,
    timezone: str,
    params: tuple[str, ...],
    timeout_s: float | None,
    metric: str | None,
    max_drop: float,
    baseline: str,
    webhook: str | None,
) -> None:
    """Run TEMPLATE on a cron schedule."""
    rule: dict[str, Any] | None = None
    if metric:
        rule = {
            "metric": metric,
            "max_drop": max_drop,
            "baseline": baseline if baseline == "previous" else float(baseline),
        }
        if webhook:
            rule["webhook_url"] = webhook
    sched = state.services(write=True).schedules.add(
        state.caller,
        state.project,
        name,
        cron=cron,
        template=template,
        parameters=parse_pairs(params, "--param", json_values=True),
        timezone=timezone,
        alert_rule=rule,
        timeout_s=timeout_s,
    )
    click.echo(f"schedule {sched.name} added; next run {when(sched.next_run_at)}")


@schedules.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_state
def list_schedules(state: CliState, as_json: bool) -> None:
    """Schedules of the project with their next run."""
    items = state.services().schedules.list(state.caller, state.project)
    if as_json:
        echo_json([s.model_dump(mode="json") for s in items])
        return
    click.echo(
        table(
            ["NAME", "CRON", "TZ", "TEMPLATE", "PAUSED", "NEXT RUN", "ALERT"],
            [
                [
                    s.name,
                    s.cron,
                    s.timezone,
                    s.template,
                    s.paused,
                    when(s.next_run_at),
                    (s.alert_rule or {}).get("metric", ""),
                ]
                for s in items
            ],
        )
    )


def _toggle(verb: str) -> Any:
    @schedules.command(verb, help=f"{verb.capitalize()} schedule NAME.")
    @click.argument("name")
    @pass_state
    def command(state: CliState, name: str) -> None:
        svc = state.services().schedules
        getattr(svc, verb)(state.caller, state.project, name)
        click.echo(f"schedule {name} {'paused' if verb == 'pause' else 'resumed'}")

    return command


pause_schedule, resume_schedule = _toggle("pause"), _toggle("resume")


@schedules.command("remove")
@click.argument("name")
@pass_state
def remove_schedule(state: CliState, name: str) -> None:
    """Delete schedule NAME (its past jobs stay)."""
    state.services().schedules.remove(state.caller, state.project, name)
    click.echo(f"schedule {name} removed")


# -- worker ----------------------------------------------------------------------------------
@click.command("worker")
@click.option("-c", "--count", default=1, show_default=True, help="Worker processes.")
@click.option("--celery", "use_celery", is_flag=True, help="Run Celery workers (broker_url).")
@click.option("--no-scheduler", is_flag=True, help="Do not fire schedules here.")
@pass_state
def worker(state: CliState, count: int, use_celery: bool, no_scheduler: bool) -> None:
    """Run job workers in the foreground (and the scheduler) until interrupted."""
    from ..executors.celery_app import CeleryExecutor
    from ..executors.local import CONFIG_ENV, LocalExecutor, config_to_env

    config = state.config
    config.scheduler_enabled = not no_scheduler
    config.worker_count = count
    services = state.services()
    stop = {"now": False}

    def _stop(*_: Any) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if not use_celery:
        executor = LocalExecutor(services)
        executor.start()
        click.echo(f"llmlab: {count} local workers running; Ctrl-C stops them", err=True)
        while not stop["now"]:
            time.sleep(0.3)
        executor.stop()
        return
    celery_executor = CeleryExecutor(services)
    import os

    env = dict(os.environ)
    env[CONFIG_ENV] = config_to_env(config)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            *celery_executor.worker_argv(count),
        ],
        env=env,
    )
    click.echo(f"llmlab: celery worker {proc.pid} started", err=True)
    celery_executor.start()  # scheduler and reaper; tasks run in the celery worker
    while not stop["now"] and proc.poll() is None:
        time.sleep(0.5)
    celery_executor.stop()
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
