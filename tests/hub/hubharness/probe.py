"""What a curious user's kernel tries: every credential-looking value it can read, against
the service's PostgreSQL, S3 and provider. ``PROBE`` is the cell's code; it prints one JSON
line with counts and what worked (never the values themselves)."""

from __future__ import annotations

import json
from typing import Any

PROBE = r"""
import json, os, re, sys, pathlib, urllib.request, urllib.error
from jupyter_core.paths import jupyter_config_path

T = json.loads(__TARGETS__)
dirs = [*jupyter_config_path(), os.path.expanduser("~/.jupyter"), "/etc/jupyter",
        "/usr/local/etc/jupyter", os.path.join(sys.prefix, "etc", "jupyter"), os.getcwd()]
files = []
for d in dict.fromkeys(dirs):
    root = pathlib.Path(d)
    if root.is_file():
        files.append(root)
    elif root.is_dir():
        files.extend(p for p in root.rglob("*") if p.is_file() and p.stat().st_size < 1_000_000)
values = set(v for v in os.environ.values() if len(v) >= 8)
for path in files:
    try:
        text = path.read_text(errors="ignore")
    except OSError:
        continue
    values.update(re.findall(r"[A-Za-z0-9+/=_.:@%~!#$&*?^|-]{8,}", text))
values = sorted(values)
key_ids = sorted({v for v in values if re.fullmatch(r"[A-Z0-9]{16,128}", v)} | {T["key_id"]})

import psycopg
pg_ok = []
for i, v in enumerate(values):
    try:
        psycopg.connect(host="127.0.0.1", port=T["pg_port"], user=T["pg_user"],
                        dbname=T["pg_db"], password=v, connect_timeout=3).close()
        pg_ok.append(i)
    except psycopg.Error:
        pass

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, BotoCoreError
s3_ok = []
cfg = Config(retries={"max_attempts": 1}, connect_timeout=3, read_timeout=5)
for kid in key_ids:
    for i, v in enumerate(values):
        client = boto3.client("s3", endpoint_url=T["s3_url"], region_name="us-east-1",
                              aws_access_key_id=kid, aws_secret_access_key=v, config=cfg)
        try:
            client.list_objects_v2(Bucket=T["bucket"], MaxKeys=1)
            s3_ok.append(i)
        except (ClientError, BotoCoreError):
            pass

provider_ok = []
body = json.dumps({"model": "echo", "messages": [{"role": "user", "content": "hi"}]}).encode()
for i, v in enumerate(values):
    req = urllib.request.Request(T["provider_url"] + "/chat/completions", data=body,
        headers={"Authorization": "Bearer " + v, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            provider_ok.append(i)
    except urllib.error.HTTPError:
        pass

print(json.dumps({"values": len(values), "files": len(files), "key_ids": len(key_ids),
                  "env_names": sorted(os.environ), "pg_ok": pg_ok, "s3_ok": sorted(set(s3_ok)),
                  "provider_ok": provider_ok}))
"""


def probe_code(targets: dict[str, Any]) -> str:
    """The probe cell with its targets (addresses and the non-secret access key id)."""
    return PROBE.replace("__TARGETS__", repr(json.dumps(targets)))
