"""Artifact stores: the same contract on the fake, a local folder and a real S3-protocol
server (moto's standalone server over HTTP); keys never leave their prefix."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from llmlab_jupyter.artifacts import MemoryArtifactStore, open_artifact_store, validate_key
from llmlab_jupyter.exceptions import InvalidInput, NotFound

TRAVERSALS = [
    "../outside.txt",
    "a/../../outside.txt",
    "/etc/passwd",
    "a//b",
    "./a",
    "a/./b",
    "a\\..\\b",
    "C:/windows",
    "a/b/..",
    "",
    "x" * 600,
    "bad\x00name",
    "new\nline",
]


def _s3(endpoint: str, bucket: str, prefix: str) -> Any:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-1")
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
    return open_artifact_store(f"s3://{bucket}/{prefix}", endpoint_url=endpoint, region="eu-west-1")


@pytest.fixture(params=["memory", "local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "memory":
        return MemoryArtifactStore()
    if request.param == "local":
        return open_artifact_store(str(tmp_path / "artifacts"))
    endpoint = request.getfixturevalue("moto_endpoint")
    return _s3(endpoint, "llmlab-test", f"tenant-{tmp_path.name}")


def test_put_get_list_delete(store: Any, tmp_path: Path) -> None:
    assert store.put_bytes("projects/p/jobs/1/report.html", b"<html>") == (
        "projects/p/jobs/1/report.html"
    )
    store.put_bytes("projects/p/jobs/1/report.html", b"<html>v2")  # replaced
    store.put_bytes("projects/p/jobs/2/result.json", b"{}")
    store.put_bytes("projects/q/x.bin", b"x")
    assert store.get_bytes("projects/p/jobs/1/report.html") == b"<html>v2"
    assert store.list("projects/p/") == [
        "projects/p/jobs/1/report.html",
        "projects/p/jobs/2/result.json",
    ]
    assert store.exists("projects/q/x.bin")
    store.delete("projects/q/x.bin")
    store.delete("projects/q/x.bin")  # missing: not an error
    assert not store.exists("projects/q/x.bin")
    with pytest.raises(NotFound):
        store.get_bytes("projects/q/x.bin")
    with pytest.raises(NotFound):
        store.get_file("projects/q/x.bin", tmp_path / "out")


def test_large_files_stream_in_and_out(store: Any, tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    chunk = b'{"text": "' + b"x" * 1000 + b'"}\n'
    with big.open("wb") as f:
        for _ in range(12 * 1024):  # ~12 MB: several multipart parts on S3
            f.write(chunk)
    store.put_file("datasets/big.jsonl", big, content_type="application/jsonl")
    out = store.get_file("datasets/big.jsonl", tmp_path / "copy.jsonl")
    assert out.stat().st_size == big.stat().st_size
    assert out.read_bytes()[-20:] == big.read_bytes()[-20:]


@pytest.mark.parametrize("key", TRAVERSALS)
def test_traversal_and_malformed_keys_are_refused(store: Any, key: str) -> None:
    with pytest.raises(InvalidInput):
        store.put_bytes(key, b"evil")
    with pytest.raises(InvalidInput):
        store.get_bytes(key)


def test_local_store_stays_inside_its_folder(tmp_path: Path) -> None:
    root = tmp_path / "artifacts"
    store = open_artifact_store(str(root))
    (tmp_path / "secret.txt").write_text("secret")
    for key in ("../secret.txt", "a/../../secret.txt"):
        with pytest.raises(InvalidInput):
            store.get_bytes(key)
    # a symlink inside the folder pointing outside is refused too
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(InvalidInput, match="leaves"):
        store.get_bytes("link/secret.txt")
    assert not list(tmp_path.glob("evil*"))


def test_s3_keys_are_confined_to_the_prefix(moto_endpoint: str) -> None:
    import boto3

    a = _s3(moto_endpoint, "shared", "team-a")
    b = _s3(moto_endpoint, "shared", "team-b")
    a.put_bytes("report.html", b"a")
    b.put_bytes("report.html", b"b")
    assert a.get_bytes("report.html") == b"a"
    assert a.list() == ["report.html"]
    raw = boto3.client("s3", endpoint_url=moto_endpoint, region_name="eu-west-1")
    keys = sorted(o["Key"] for o in raw.list_objects_v2(Bucket="shared")["Contents"])
    assert keys == ["team-a/report.html", "team-b/report.html"]
    with pytest.raises(InvalidInput):
        a.get_bytes("../team-b/report.html")


def test_validate_key_accepts_ordinary_keys() -> None:
    assert validate_key("projects/default/jobs/1/attempt-1/output.ipynb")
    assert validate_key("a b/c.d-e_f")


def test_open_artifact_store_rejects_unknown_schemes() -> None:
    with pytest.raises(InvalidInput):
        open_artifact_store("ftp://host/x")
