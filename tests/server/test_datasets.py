"""Datasets over REST: upload (raw and multipart), versions, row pages, size cap, roles."""

from __future__ import annotations

import io
import json
import uuid

import pandas as pd

from .conftest import assert_error

BASE = "projects/default/datasets"
CSV = b"question,answer\nWhat is 2+2?,4\nCapital of France?,Paris\n"


async def test_upload_csv_jsonl_parquet_and_read_back(api):
    first = await api(
        "POST", f"{BASE}/qa/versions", raw=CSV, params={"format": "csv", "message": "v1"}
    )
    assert first.status == 201 and first.body["created"] is True
    assert first.body["version"]["row_count"] == 2 and first.body["version"]["message"] == "v1"
    again = await api("POST", f"{BASE}/qa/versions", raw=CSV, params={"format": "csv"})
    assert again.status == 200 and again.body["created"] is False
    lines = "".join(json.dumps({"q": f"q{i}", "n": i}) + "\n" for i in range(7)).encode()
    jsonl = await api("POST", f"{BASE}/qa/versions", raw=lines, params={"format": "jsonl"})
    assert jsonl.body["version"]["number"] == 2
    buf = io.BytesIO()
    pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}).to_parquet(buf, index=False)
    pq = await api("POST", f"{BASE}/pq/versions", raw=buf.getvalue(), params={"format": "parquet"})
    assert pq.status == 201 and pq.body["version"]["source_format"] == "parquet"

    assert (await api("GET", f"{BASE}/qa")).body["latest_version"] == 2
    listed = await api("GET", BASE)
    assert [d["name"] for d in listed.body["items"]] == ["pq", "qa"]
    assert [d["name"] for d in (await api("GET", BASE, params={"search": "q"})).body["items"]] == [
        "pq",
        "qa",
    ]
    versions = await api("GET", f"{BASE}/qa/versions")
    assert [v["number"] for v in versions.body["items"]] == [2, 1]
    assert (await api("GET", f"{BASE}/qa/versions/1")).body["columns"][0]["name"] == "question"
    rows = await api("GET", f"{BASE}/qa/versions/2/rows", params={"offset": 2, "limit": 3})
    assert rows.body["items"] == [{"q": "q2", "n": 2}, {"q": "q3", "n": 3}, {"q": "q4", "n": 4}]
    assert rows.body["total"] == 7 and rows.body["next_offset"] == 5
    last = await api("GET", f"{BASE}/qa/versions/2/rows", params={"offset": 5, "limit": 3})
    assert len(last.body["items"]) == 2 and last.body["next_offset"] is None
    assert_error(await api("GET", f"{BASE}/qa/versions/3/rows"), 404)


async def test_multipart_upload_takes_the_format_from_the_file_name(api):
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="qa.csv"\r\n'
            f"Content-Type: text/csv\r\n\r\n"
        ).encode()
        + CSV
        + f"\r\n--{boundary}--\r\n".encode()
    )
    reply = await api(
        "POST",
        f"{BASE}/multi/versions",
        raw=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert reply.status == 201, reply.body
    assert reply.body["version"]["source_format"] == "csv"


async def test_bad_uploads(api):
    assert_error(await api("POST", f"{BASE}/qa/versions", raw=CSV), 400, "invalid_input")
    assert_error(await api("POST", f"{BASE}/qa/versions", raw=b"", params={"format": "csv"}), 400)
    broken = await api("POST", f"{BASE}/qa/versions", raw=b"{nope\n", params={"format": "jsonl"})
    assert_error(broken, 400, "invalid_input")
    big = b"a\n" + b"x\n" * 150_000  # beyond the 200 kB cap of the test server
    assert_error(
        await api("POST", f"{BASE}/qa/versions", raw=big, params={"format": "csv"}),
        413,
        "payload_too_large",
    )
    assert_error(await api("GET", f"{BASE}/qa"), 404)  # nothing was stored


async def test_dataset_roles(api):
    await api("POST", f"{BASE}/qa/versions", raw=CSV, params={"format": "csv"})
    await api("PUT", "projects/default/members/bob", json_body={"role": "viewer"})
    assert (await api("GET", f"{BASE}/qa/versions/1/rows", user="bob")).status == 200
    denied = await api("POST", f"{BASE}/qa/versions", user="bob", raw=CSV, params={"format": "csv"})
    assert_error(denied, 403)
    for path in [BASE, f"{BASE}/qa", f"{BASE}/qa/versions", f"{BASE}/qa/versions/1/rows"]:
        assert_error(await api("GET", path, user="carol"), 404)
