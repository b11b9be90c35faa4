"""Cron schedules of templates, the scheduler tick, and alert rules with webhooks.

A schedule is ``cron`` (five fields, croniter) in an IANA ``timezone``. :meth:`tick` runs in
the server and in ``llmlab worker`` (any number of them): each tick of each schedule makes
exactly one job, whoever fires it. An alert rule compares a metric of the job's result with
the previous succeeded run of the schedule or a pinned baseline::

    {"metric": "exact_match", "max_drop": 0.05, "baseline": "previous" | 0.82,
     "webhook_url": "https://hooks.example.com/..."}

A drop larger than ``max_drop`` records an :class:`Alert` and POSTs it to the webhook. Webhook
URLs must resolve to public addresses unless ``webhook_allow_private`` is set.
"""

from __future__ import annotations

import builtins
import json
import math
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidInput
from ..models import Alert, Job, Schedule
from ..prompts import validate_slug
from .access import Caller
from .base import Service
from .jobs import validate_parameters, validate_timeout
from .webhooks import Resolver, check_webhook_url, post_webhook, resolve_webhook, system_resolver

if TYPE_CHECKING:
    from ..executors.host import Dispatcher
    from .jobs import JobService


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(name, str) or not name:
        raise InvalidInput("timezone must be an IANA name such as Europe/Paris", field="timezone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise InvalidInput(f"unknown time zone {name!r}", field="timezone") from err


def next_tick(cron: str, tz: str, after: datetime) -> datetime:
    """The first tick of ``cron`` in ``tz`` strictly after ``after``, as an aware UTC time."""
    from croniter import croniter

    zone = _zone(tz)
    start = after.astimezone(zone)
    nxt = croniter(cron, start).get_next(datetime)
    return nxt.astimezone(timezone.utc)


def validate_cron(cron: Any) -> str:
    from croniter import croniter

    if not isinstance(cron, str) or len(cron.split()) != 5 or not croniter.is_valid(cron):
        raise InvalidInput(
            f"cron must be five fields such as '0 6 * * 1-5', not {cron!r}", field="cron"
        )
    return cron


def validate_webhook_url(
    url: str, *, allow_private: bool, resolve: bool = True, resolver: Resolver = system_resolver
) -> str:
    """An http(s) URL whose host resolves only to public addresses (unless allowed).

    A check when a rule is saved; :meth:`ScheduleService.send_webhook` checks again at send
    time and connects to the addresses it checked (see :mod:`.webhooks`)."""
    if allow_private or not resolve:
        check_webhook_url(url)
        return url
    resolve_webhook(url, allow_private=False, resolver=resolver)
    return url


def validate_alert_rule(rule: Any, *, allow_private: bool) -> dict[str, Any] | None:
    if rule is None:
        return None
    if not isinstance(rule, dict):
        raise InvalidInput("alert_rule must be an object", field="alert_rule")
    unknown = set(rule) - {"metric", "max_drop", "baseline", "webhook_url"}
    if unknown:
        raise InvalidInput(f"unknown alert_rule fields: {sorted(unknown)}", field="alert_rule")
    metric = rule.get("metric")
    if not isinstance(metric, str) or not 1 <= len(metric) <= 200:
        raise InvalidInput("alert_rule.metric must name a metric", field="alert_rule.metric")
    drop = rule.get("max_drop", 0.0)
    if (
        isinstance(drop, bool)
        or not isinstance(drop, int | float)
        or not math.isfinite(drop)
        or drop < 0
    ):
        raise InvalidInput("alert_rule.max_drop must be a number >= 0", field="alert_rule.max_drop")
    baseline = rule.get("baseline", "previous")
    if baseline != "previous" and (
        isinstance(baseline, bool) or not isinstance(baseline, int | float)
    ):
        raise InvalidInput(
            "alert_rule.baseline must be 'previous' or a number", field="alert_rule.baseline"
        )
    out: dict[str, Any] = {"metric": metric, "max_drop": float(drop), "baseline": baseline}
    if rule.get("webhook_url"):
        out["webhook_url"] = validate_webhook_url(rule["webhook_url"], allow_private=allow_private)
    return out


def metric_of(result: dict[str, Any] | None, metric: str) -> float | None:
    """``result["metrics"][metric]`` as a float, if the notebook reported it."""
    if not isinstance(result, dict) or not isinstance(result.get("metrics"), dict):
        return None
    value = result["metrics"].get(metric)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


class ScheduleService(Service):
    """Schedules of a project (writers manage them), the tick, and alerts."""

    def __init__(self, store: Any, config: Any, jobs: JobService) -> None:
        super().__init__(store, config)
        self.jobs = jobs
        #: how webhook hosts are resolved (once per send); replaceable in tests
        self.resolver: Resolver = system_resolver

    def add(
        self,
        caller: Caller,
        project: str,
        name: str,
        *,
        cron: str,
        template: str,
        parameters: dict[str, Any] | None = None,
        timezone: str = "UTC",
        alert_rule: dict[str, Any] | None = None,
        timeout_s: float | None = None,
    ) -> Schedule:
        self.access.require(caller, project, "write")
        validate_slug(name, "name")
        validate_cron(cron)
        _zone(timezone)
        self.jobs.template_path(template)
        from ..store.orm.base import utcnow

        return self.store.create_schedule(
            project,
            name,
            cron=cron,
            timezone=timezone,
            template=template,
            parameters=validate_parameters(parameters),
            alert_rule=validate_alert_rule(
                alert_rule, allow_private=self.config.webhook_allow_private
            ),
            timeout_s=validate_timeout(timeout_s, self.config.job_timeout_s),
            next_run_at=next_tick(cron, timezone, utcnow()),
            user=caller.user,
        )

    def get(self, caller: Caller, project: str, name: str) -> Schedule:
        self.access.require(caller, project, "read")
        return self.store.get_schedule(project, name)

    def list(self, caller: Caller, project: str) -> builtins.list[Schedule]:
        self.access.require(caller, project, "read")
        return self.store.list_schedules(project)

    def pause(self, caller: Caller, project: str, name: str) -> Schedule:
        self.access.require(caller, project, "write")
        return self.store.set_schedule_paused(project, name, True, None)

    def resume(self, caller: Caller, project: str, name: str) -> Schedule:
        """Resume; ticks missed while paused are not run."""
        self.access.require(caller, project, "write")
        current = self.store.get_schedule(project, name)
        from ..store.orm.base import utcnow

        nxt = next_tick(current.cron, current.timezone, utcnow())
        return self.store.set_schedule_paused(project, name, False, nxt)

    def remove(self, caller: Caller, project: str, name: str) -> None:
        self.access.require(caller, project, "write")
        self.store.delete_schedule(project, name)

    def alerts(self, caller: Caller, project: str, *, limit: int = 100) -> builtins.list[Alert]:
        self.access.require(caller, project, "read")
        self.page(limit, 0)
        return self.store.list_alerts(project, limit=limit)

    # -- scheduler and alerts (no caller: run by the server and workers) -------------------
    def tick(self, executor: Dispatcher, now: datetime | None = None) -> builtins.list[Job]:
        """Fire due schedules, reap lost jobs, dispatch both; returns the jobs dispatched."""
        from ..leases import holder_is_dead

        jobs = self.store.fire_due_schedules(
            next_tick,
            executor=executor.kind,
            max_attempts=self.config.job_max_attempts,
            now=now,
        )
        jobs += self.store.reap_jobs(steal_if=holder_is_dead)
        for job in jobs:
            executor.dispatch(job)
        return jobs

    def after_job(self, job_id: int) -> Alert | None:
        """Apply the schedule's alert rule to a succeeded job; the alert, if one is raised."""
        schedule = self.store.schedule_of_job(job_id)
        if schedule is None or not schedule.alert_rule:
            return None
        rule = schedule.alert_rule
        job = self.store.job_by_id(job_id)
        value = metric_of(job.result, rule["metric"])
        if rule.get("baseline", "previous") == "previous":
            baseline = metric_of(self.store.previous_result(job_id), rule["metric"])
        else:
            baseline = float(rule["baseline"])
        if value is None and baseline is None:
            return None
        if value is not None and baseline is not None and baseline - value <= rule["max_drop"]:
            return None
        if value is None:
            message = f"{rule['metric']} missing from the result of job {job_id}"
        elif baseline is None:
            return None  # first run: nothing to compare with
        else:
            message = (
                f"{rule['metric']} dropped from {baseline:.4g} to {value:.4g} "
                f"(more than {rule['max_drop']:.4g}) in job {job_id} of schedule {schedule.name}"
            )
        alert, created = self.store.create_alert(
            job_id, metric=rule["metric"], value=value, baseline=baseline, message=message
        )
        if created and rule.get("webhook_url"):
            status = self.send_webhook(rule["webhook_url"], alert)
            self.store.set_alert_webhook_status(alert.id, status)
            alert = alert.model_copy(update={"webhook_status": status})
        return alert

    def send_webhook(self, url: str, alert: Alert) -> str:
        """POST the alert as JSON to the address its host was checked at; returns a short
        status. The host is resolved once, every address checked (unless
        ``webhook_allow_private``), and redirects are not followed (:mod:`.webhooks`)."""
        body = json.dumps({"alert": alert.model_dump(mode="json")}).encode("utf-8")
        return post_webhook(
            url,
            body,
            allow_private=self.config.webhook_allow_private,
            resolver=self.resolver,
        )
