"""Run last: the three secrets only the service holds (PostgreSQL password, S3 secret key,
provider key) appear nowhere else — not in any log of the run, any row of the llmlab
database, any object in the bucket or file in the data dirs, nor any response body."""

from __future__ import annotations

from pathlib import Path

from hubharness.run import HubRun
from hubharness.seed import Seeded


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]


def test_canaries_appear_nowhere(hub_run: HubRun, alice_work: Seeded) -> None:
    run = hub_run
    if run.pg.log.exists():
        (run.logs / "postgres.log").write_bytes(run.pg.log.read_bytes())
    logs = {str(p): p.read_bytes() for p in _files(run.logs)}
    rows = run.pg.dump_data()
    objects = run.s3.objects()
    data_dirs = [run.base / "service-data", run.base / "home", run.base / "hub-home"]
    data = {str(p): p.read_bytes() for d in data_dirs if d.exists() for p in _files(d)}
    bodies = [r.body for r in run.hub.client.responses]
    assert any(k.endswith(".ipynb") for k in objects), sorted(objects)  # the job's notebook
    assert alice_work.prompt in rows and len(bodies) > 10 and len(logs) >= 3

    counts: dict[str, dict[str, int]] = {}
    for name, canary in run.canaries.items():
        needle = canary.encode()
        counts[name] = {
            "log files": sum(needle in text for text in logs.values()),
            "database rows": rows.count(canary),
            "bucket objects": sum(needle in body for body in objects.values()),
            "data-dir files": sum(needle in body for body in data.values()),
            "response bodies": sum(canary in body for body in bodies),
        }
    searched = (
        f"{len(logs)} log files, {len(rows.splitlines())} dump lines, {len(objects)} objects, "
        f"{len(data)} data-dir files, {len(bodies)} response bodies"
    )
    print(f"searched {searched}")
    for name, where in counts.items():
        print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in where.items()))
    assert all(v == 0 for where in counts.values() for v in where.values()), counts
