"""Large dataset versions keep their rows in the artifact store: on SQLite and PostgreSQL, with
a local folder and with a real S3-protocol server (moto over HTTP). Nothing is mocked; the
threshold is 10 rows so the tests stay fast."""

from __future__ import annotations

import contextlib
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from traitlets import TraitError

from llmlab_jupyter.artifacts import open_artifact_store
from llmlab_jupyter.artifacts.datasets import (
    DatasetArtifactError,
    DatasetArtifacts,
    StoredRows,
    dataset_key,
)
from llmlab_jupyter.config import LlmLabConfig
from llmlab_jupyter.datasets import rows_hash
from llmlab_jupyter.exceptions import InvalidInput, LlmLabError, NotFound
from llmlab_jupyter.sdk.lab import Lab
from llmlab_jupyter.services import Caller, Services
from llmlab_jupyter.store.orm.catalog import ProjectRow
from llmlab_jupyter.store.orm.datasets import DatasetItemRow, DatasetRow, DatasetVersionRow

P = "default"
ALICE = Caller("alice")
THRESHOLD = 10
ROWS = [
    {
        "id": i,
        "text": f"row {i} — ünïcode",
        "score": i / 4,
        "ok": i % 3 == 0,
        "note": None if i % 5 else f"note {i}",
    }
    for i in range(25)
]


@pytest.fixture(params=["local", "s3"])
def artifact_settings(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """Config of the artifact store: a local folder, or a bucket prefix on moto's server."""
    if request.param == "local":
        return {"artifacts_url": str(tmp_path / "artifacts")}
    import boto3

    endpoint = request.getfixturevalue("moto_endpoint")
    client = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-1")
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(
            Bucket="llmlab-datasets", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
    return {
        "artifacts_url": f"s3://llmlab-datasets/{tmp_path.name}",
        "s3_endpoint_url": endpoint,
        "s3_region": "eu-west-1",
    }


def make_services(database_url: str, tmp_path: Path, **settings: Any) -> Services:
    settings.setdefault("dataset_inline_max_rows", THRESHOLD)
    config = LlmLabConfig(database_url=database_url, data_dir=str(tmp_path / "data"), **settings)
    services = Services.from_config(config)
    services.projects.ensure(ALICE, P)
    return services


@pytest.fixture
def big(database_url: str, tmp_path: Path, artifact_settings: dict[str, str]) -> Any:
    services = make_services(database_url, tmp_path, **artifact_settings)
    yield services
    services.close()


def stored(services: Services, project: str, name: str, number: int) -> tuple[str | None, int]:
    """``(artifact_key, dataset_items rows)`` of one version, straight from the database."""
    with services.store.engine.connect() as conn:
        version = conn.execute(
            select(DatasetVersionRow.id, DatasetVersionRow.artifact_key)
            .join(DatasetRow, DatasetRow.id == DatasetVersionRow.dataset_id)
            .join(ProjectRow, ProjectRow.id == DatasetRow.project_id)
            .where(
                ProjectRow.slug == project,
                DatasetRow.name == name,
                DatasetVersionRow.number == number,
            )
        ).one()
        items = conn.scalar(
            select(func.count())
            .select_from(DatasetItemRow)
            .where(DatasetItemRow.version_id == version.id)
        )
    return version.artifact_key, int(items or 0)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_large_version_is_one_artifact_and_reads_like_an_inline_one(big: Services) -> None:
    ds = big.datasets
    v1, created = ds.import_(ALICE, P, "big", ROWS, message="25 rows")
    assert created and (v1.number, v1.row_count) == (1, 25)
    key, items = stored(big, P, "big", 1)
    assert key == dataset_key(v1.content_hash) and key.startswith("datasets/")
    assert items == 0
    assert big.artifacts.list("datasets/") == [key]

    # every reader sees the input, in order, keys in column order
    assert ds.rows(ALICE, P, "big") == ROWS
    assert list(ds.rows(ALICE, P, "big")[0]) == ["id", "text", "score", "ok", "note"]
    assert ds.rows(ALICE, P, "big", offset=7, limit=5) == ROWS[7:12]
    assert ds.rows(ALICE, P, "big", offset=20, limit=10) == ROWS[20:]
    assert ds.rows(ALICE, P, "big", offset=25, limit=5) == []
    assert list(big.store.iter_dataset_rows(P, "big", 1, batch=4)) == ROWS
    frame = ds.to_pandas(ALICE, P, "big")
    assert list(frame.columns) == ["id", "text", "score", "ok", "note"]
    assert frame["text"].tolist() == [r["text"] for r in ROWS]
    lab = Lab(user="alice", services=big, config=big.config)
    assert lab.datasets.rows("big@1", offset=3, limit=2) == ROWS[3:5]

    # identical content: the same version; the same content elsewhere: the same artifact
    again, created = ds.import_(ALICE, P, "big", [dict(r) for r in ROWS])
    assert (again.number, created) == (1, False)
    _, created = ds.import_(ALICE, P, "big-copy", ROWS)
    assert created and stored(big, P, "big-copy", 1) == (key, 0)
    assert big.artifacts.list("datasets/") == [key]

    # at or below the threshold a version stays inline
    _, created = ds.import_(ALICE, P, "big", ROWS[:THRESHOLD])
    assert created and stored(big, P, "big", 2) == (None, THRESHOLD)
    assert ds.rows(ALICE, P, "big", version=2, offset=8, limit=5) == ROWS[8:THRESHOLD]
    assert big.artifacts.list("datasets/") == [key]


def test_an_experiment_runs_over_an_artifact_backed_version(big: Services) -> None:
    lab = Lab(user="alice", services=big, config=big.config)
    lab.prompts.save("echo", "{{ text }}", model="fake/echo")
    lab.prompts.save("needs-lang", "{{ text }} in {{ language }}", model="fake/echo")
    rows = [dict(r, expected=r["text"]) for r in ROWS]
    version = lab.datasets.import_("big", rows)
    assert stored(big, P, "big", version.number)[1] == 0

    lab.datasets.validate("big", "echo")
    with pytest.raises(InvalidInput, match="language"):
        lab.datasets.validate("big", "needs-lang")

    run = lab.experiment(dataset="big@1", variants=["echo@1"], scorers=["exact_match"]).run(
        progress=False
    )
    exp = run.refresh()
    assert (exp.status, exp.completed_items, exp.error_items) == ("completed", 25, 0)
    results = run.results().sort_values("row_idx")
    assert results["input.text"].tolist() == [r["text"] for r in ROWS]
    assert (results["score.exact_match"] == 1.0).all()
    assert results["dataset_hash"].unique().tolist() == [version.content_hash]


def test_export_import_round_trip_is_byte_identical(big: Services, tmp_path: Path) -> None:
    ds = big.datasets
    ds.import_(ALICE, P, "big", ROWS, message="first")
    ds.import_(ALICE, P, "big", ROWS[:5], message="small, inline")
    ds.import_(ALICE, P, "big", ROWS[::-1], message="reversed")
    first, second = tmp_path / "first", tmp_path / "second"
    big.portability.export(ALICE, P, first)
    lines = (first / "datasets/big/v0001.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == ROWS

    big.projects.ensure(ALICE, "copy")
    summary = big.portability.import_(ALICE, "copy", first)
    assert summary.dataset_versions == 3
    assert [stored(big, "copy", "big", n) for n in (1, 2, 3)] == [
        stored(big, P, "big", n) for n in (1, 2, 3)
    ]
    assert [stored(big, "copy", "big", n)[1] for n in (1, 2, 3)] == [0, 5, 0]
    assert len(big.artifacts.list("datasets/")) == 2  # shared by both projects
    big.portability.export(ALICE, "copy", second)
    assert tree(first) == tree(second)
    assert big.datasets.rows(ALICE, "copy", "big", version=3) == ROWS[::-1]


def test_a_missing_or_altered_artifact_is_a_clear_error(big: Services) -> None:
    v1, _ = big.datasets.import_(ALICE, P, "big", ROWS)
    key = dataset_key(v1.content_hash)
    original = big.artifacts.get_bytes(key)
    lines = gzip.decompress(original).splitlines(keepends=True)

    # nothing was read yet, so nothing is cached: every read below checks the artifact
    big.artifacts.put_bytes(key, gzip.compress(b"".join(lines[:-1])))
    with pytest.raises(DatasetArtifactError, match="holds 24 rows, the version has 25"):
        big.datasets.rows(ALICE, P, "big", limit=5)
    big.artifacts.put_bytes(key, gzip.compress(b"".join(lines).replace(b"row 3 ", b"row 9 ")))
    with pytest.raises(DatasetArtifactError, match="does not match its content hash"):
        list(big.store.iter_dataset_rows(P, "big", 1))
    big.artifacts.put_bytes(key, original[: len(original) // 2])
    with pytest.raises(DatasetArtifactError, match="unreadable"):
        big.datasets.to_pandas(ALICE, P, "big")
    big.artifacts.delete(key)
    with pytest.raises(DatasetArtifactError, match=r"big@1 are missing from the artifact store"):
        big.datasets.rows(ALICE, P, "big")

    big.artifacts.put_bytes(key, original)  # restored: readable again
    assert big.datasets.rows(ALICE, P, "big", offset=24) == ROWS[24:]


def test_a_failed_upload_stores_no_version(
    database_url: str, tmp_path: Path, artifact_settings: dict[str, str]
) -> None:
    settings = dict(artifact_settings)
    if settings["artifacts_url"].startswith("s3://"):
        settings["artifacts_url"] = "s3://no-such-bucket/x"
        expected: type[Exception] = LlmLabError
    else:
        root = Path(settings["artifacts_url"])
        root.mkdir()
        (root / "datasets").write_text("a file where the datasets folder should be")
        expected = OSError
    services = make_services(database_url, tmp_path, **settings)
    try:
        with pytest.raises(expected):
            services.datasets.import_(ALICE, P, "big", ROWS)
        with pytest.raises(NotFound):
            services.datasets.get(ALICE, P, "big")
        services.datasets.import_(ALICE, P, "small", ROWS[:THRESHOLD])  # inline still works
    finally:
        services.close()


def test_threshold_zero_keeps_every_version_inline(database_url: str, tmp_path: Path) -> None:
    services = make_services(
        database_url,
        tmp_path,
        artifacts_url=str(tmp_path / "artifacts"),
        dataset_inline_max_rows=0,
    )
    try:
        services.datasets.import_(ALICE, P, "big", ROWS)
        assert stored(services, P, "big", 1) == (None, len(ROWS))
        assert services.artifacts.list() == []
    finally:
        services.close()
    assert LlmLabConfig().dataset_inline_max_rows == 50_000
    with pytest.raises(TraitError):
        LlmLabConfig(dataset_inline_max_rows=-1)


def test_artifacts_are_content_addressed_deterministic_and_confined(tmp_path: Path) -> None:
    store = open_artifact_store(str(tmp_path / "artifacts"))
    blobs = DatasetArtifacts(lambda: store, inline_max_rows=THRESHOLD)
    columns = [{"name": n, "type": "string"} for n in ("id", "text", "score", "ok", "note")]
    digest = rows_hash(columns, ROWS)
    key = blobs.write(digest, columns, ROWS)
    assert key == f"datasets/sha256/{digest.removeprefix('sha256:')}.jsonl.gz"
    first = store.get_bytes(key)
    store.delete(key)
    assert blobs.write(digest, columns, [dict(reversed(list(r.items()))) for r in ROWS]) == key
    assert store.get_bytes(key) == first  # same content, same bytes, whatever the key order
    assert (blobs.offloads(THRESHOLD), blobs.offloads(THRESHOLD + 1)) == (False, True)

    good = StoredRows(key, "big@1", digest, columns, len(ROWS))
    assert blobs.rows(good, offset=2, limit=2) == ROWS[2:4]
    with pytest.raises(InvalidInput, match="content hash"):
        dataset_key("md5:abc")
    outside = StoredRows("jobs/1/output.ipynb", "big@1", digest, columns, len(ROWS))
    with pytest.raises(DatasetArtifactError, match="outside datasets/"):
        blobs.rows(outside)
