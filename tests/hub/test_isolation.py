"""bob, from a cell of his own kernel on the Hub, can neither use the service's secrets
nor see or change alice's work: every credential he can read fails against PostgreSQL, S3
and the provider, and every call on alice's things is a 404 (not 403: nothing to learn)."""

from __future__ import annotations

import json

from hubharness.kernel import Kernel
from hubharness.postgres import DB_NAME, DB_USER
from hubharness.probe import probe_code
from hubharness.rows import project_checksums
from hubharness.run import HubRun
from hubharness.s3 import BUCKET
from hubharness.seed import CSV, Seeded


def _bob_calls(a: Seeded, model: str) -> list[tuple[str, str, dict]]:
    """Every read and write route on alice's project, prompt, dataset, experiment, job and
    schedule (by name and by id), with plausible bodies."""
    p = f"projects/{a.project}"
    pr, ds, ex = (
        f"{p}/prompts/{a.prompt}",
        f"{p}/datasets/{a.dataset}",
        f"{p}/experiments/{a.experiment}",
    )
    job, sc = f"{p}/jobs/{a.job_id}", f"{p}/schedules/{a.schedule}"
    experiment = {
        "dataset": f"{a.dataset}@1",
        "variants": [f"{a.prompt}@1"],
        "models": [model],
        "name": "bobs",
    }
    reads = [
        p,
        f"{p}/members",
        f"{p}/prompts",
        pr,
        f"{pr}/versions",
        f"{pr}/versions/1",
        f"{pr}/resolve",
        f"{pr}/diff?a=1&b=1",
        f"{pr}/labels/history",
        f"{p}/datasets",
        ds,
        f"{ds}/versions",
        f"{ds}/versions/1",
        f"{ds}/versions/1/rows",
        f"{p}/experiments",
        ex,
        f"{ex}/results",
        f"{ex}/summary",
        f"{ex}/compare?a=0&b=0&scorer=exact_match",
        f"{ex}/dry-run",
        f"{ex}/feedback",
        f"{p}/jobs",
        job,
        f"{job}/logs",
        f"{job}/report",
        f"{job}/notebook",
        f"{p}/schedules",
        sc,
        f"{p}/alerts",
        f"{p}/usage",
        f"{p}/experiments/{a.job_experiment}",
    ]
    calls: list[tuple[str, str, dict]] = [("GET", path, {}) for path in reads]
    calls += [
        ("POST", f"{pr}/versions", {"json": {"template": "bob was here"}}),
        ("PUT", f"{pr}/labels/production", {"json": {"version": 1}}),
        ("DELETE", f"{pr}/labels/production", {}),
        ("POST", f"{pr}/render", {"json": {"variables": {"question": "x"}}}),
        ("POST", f"{p}/render-preview", {"json": {"template": "x {{ y }}", "variables": {"y": 1}}}),
        ("PUT", f"{p}/members/bob", {"json": {"role": "owner"}}),
        ("DELETE", f"{p}/members/alice", {}),
        ("POST", f"{ds}/versions", {"content": CSV, "params": {"format": "csv"}}),
        ("POST", f"{p}/experiments", {"json": experiment}),
        ("POST", f"{ex}/start", {"json": {}}),
        ("POST", f"{ex}/cancel", {}),
        ("PUT", f"{ex}/results/0/0/feedback", {"json": {"rating": 1}}),
        ("POST", f"{p}/jobs", {"json": {"template": "builtin-sleep", "parameters": {}}}),
        ("POST", f"{job}/cancel", {}),
        (
            "POST",
            f"{p}/schedules",
            {"json": {"name": "bobs", "cron": "0 3 * * *", "template": "builtin-sleep"}},
        ),
        ("POST", f"{sc}/pause", {}),
        ("POST", f"{sc}/resume", {}),
        ("DELETE", sc, {}),
        (
            "POST",
            f"{p}/complete",
            {"json": {"model": model, "prompt": "hi"}},
        ),
        # alice's job by its id, asked in bob's own project
        ("GET", f"projects/bob/jobs/{a.job_id}", {}),
        ("GET", f"projects/bob/jobs/{a.job_id}/notebook", {}),
        ("POST", f"projects/bob/jobs/{a.job_id}/cancel", {}),
    ]
    return calls


def test_bobs_kernel_cannot_use_secrets_or_reach_alices_work(
    user_servers: HubRun, alice_work: Seeded
) -> None:
    run = user_servers
    hub, model = run.hub, "testprov/echo"
    before = project_checksums(run.pg.url, alice_work.project)
    assert before["prompts"].endswith(":1") and before["jobs"].endswith(":1")

    kernel = Kernel(hub, "bob", run.tokens["bob"])
    try:
        targets = {
            "pg_port": run.pg.port,
            "pg_user": DB_USER,
            "pg_db": DB_NAME,
            "s3_url": run.s3.url,
            "bucket": BUCKET,
            "key_id": run.s3.access_key_id,
            "provider_url": run.provider.url,
        }
        found = json.loads(kernel.execute(probe_code(targets), timeout=240).check().stdout)
        env = kernel.execute("import os, json; print(json.dumps(dict(os.environ)))").check()
        lab = kernel.execute(
            "import json\nfrom llmlab_jupyter import Lab\nlab = Lab()\n"
            "print(json.dumps({'user': lab.caller.user, 'project': lab.project,"
            " 'projects': sorted(p.slug for p in lab.projects.list()),"
            " 'prompts': [p.name for p in lab.prompts.list()]}))"
        ).check()
    finally:
        kernel.close()

    print(
        f"bob's kernel tried {found['values']} values from {found['files']} files and the "
        f"environment, with {found['key_ids']} access key ids"
    )
    assert found["values"] > 10 and found["files"] > 0
    assert found["pg_ok"] == [] and found["s3_ok"] == [] and found["provider_ok"] == []
    # the real secrets are accepted (the probe would have caught them)
    assert not run.s3.refuses(run.s3.access_key_id, run.s3.secret_access_key)
    assert run.s3.refuses(run.s3.access_key_id, "x" * 40)

    kernel_env = json.loads(env.stdout)
    assert "LLMLAB_DATABASE_URL" not in kernel_env and "AWS_SECRET_ACCESS_KEY" not in kernel_env
    for name, canary in run.canaries.items():
        assert canary not in env.stdout, f"the {name} is in bob's kernel environment"

    seen = json.loads(lab.stdout)
    assert seen["user"] == "bob" and seen["project"] == "bob"
    assert seen["projects"] == ["bob"] and seen["prompts"] == []

    wrong = []
    for method, path, kwargs in _bob_calls(alice_work, model):
        reply = hub.llmlab(method, path, run.tokens["bob"], **kwargs)
        if reply.status_code != 404:
            wrong.append(f"{method} {path}: {reply.status_code} {reply.text[:120]}")
    assert wrong == [], "\n".join(wrong)
    assert project_checksums(run.pg.url, alice_work.project) == before
    # and alice still sees her work
    mine = hub.llmlab("GET", f"projects/{alice_work.project}/prompts", run.tokens["alice"])
    assert [p["name"] for p in mine.json()["items"]] == ["ask"]
