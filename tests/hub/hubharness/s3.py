"""moto's standalone S3/IAM server as a subprocess, with IAM authentication enforced.

``INITIAL_NO_AUTH_ACTION_COUNT`` (moto's settings) lets exactly the first N authorised
actions through unsigned; we spend them on creating an IAM user, its access key and its
policy, so from then on every request must be signed with a key moto knows and be allowed
by that key's policy. The secret of the key is the S3 canary.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .procs import Proc, free_port, wait_until

REGION = "us-east-1"
BUCKET = "llmlab-hub-artifacts"
BOOTSTRAP_ACTIONS = 3  # CreateUser, CreateAccessKey, PutUserPolicy


class MotoS3:
    """``python -m moto.server`` on a free port; :meth:`start` provisions user, key, bucket."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc: Proc | None = None
        self.access_key_id = ""
        self.secret_access_key = ""

    def client(self, service: str, key_id: str = "", secret: str = "") -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=key_id or "bootstrap",
            aws_secret_access_key=secret or "bootstrap",
            config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=20),
        )

    def s3(self, key_id: str | None = None, secret: str | None = None) -> Any:
        """An S3 client with the given (default: the real) credentials."""
        return self.client(
            "s3",
            self.access_key_id if key_id is None else key_id,
            self.secret_access_key if secret is None else secret,
        )

    def start(self) -> MotoS3:
        env = {
            "PATH": "/usr/bin:/bin",
            "INITIAL_NO_AUTH_ACTION_COUNT": str(BOOTSTRAP_ACTIONS),
            "MOTO_PORT": str(self.port),
        }
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        self.proc = Proc("moto", command, env=env, log=self.log)
        wait_until(self._answers, timeout=30, what="moto server", proc=self.proc)
        iam = self.client("iam")
        iam.create_user(UserName="llmlab-service")
        key = iam.create_access_key(UserName="llmlab-service")["AccessKey"]
        self.access_key_id, self.secret_access_key = key["AccessKeyId"], key["SecretAccessKey"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
                }
            ],
        }
        iam.put_user_policy(
            UserName="llmlab-service", PolicyName="artifacts", PolicyDocument=json.dumps(policy)
        )
        self.s3().create_bucket(Bucket=BUCKET)
        return self

    def _answers(self) -> bool:
        import urllib.request

        with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2) as reply:
            return reply.status == 200

    def refuses(self, key_id: str, secret: str) -> bool:
        """True when these credentials cannot list the bucket (403/InvalidAccessKeyId...)."""
        from botocore.exceptions import ClientError

        try:
            self.s3(key_id, secret).list_objects_v2(Bucket=BUCKET, MaxKeys=1)
        except ClientError as err:
            status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            return status in (400, 403)
        return False

    def objects(self) -> dict[str, bytes]:
        """Every object of the bucket, read with the real credentials."""
        client = self.s3()
        found: dict[str, bytes] = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            for item in page.get("Contents", []):
                found[item["Key"]] = client.get_object(Bucket=BUCKET, Key=item["Key"])[
                    "Body"
                ].read()
        return found

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop(grace=5)
            self.proc = None
