#!/bin/sh
# One-shot (the compose service `createbucket`): the llmlab bucket, and an S3 user for llmlab
# that can only use that bucket (the service and the workers never get MinIO's root key).
# Idempotent: safe to run on every `docker compose up`.
set -eu
mc alias set local http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
mc mb --ignore-existing local/llmlab
cat > /tmp/llmlab-policy.json <<'JSON'
{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
     "Resource": ["arn:aws:s3:::llmlab"]},
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
     "Resource": ["arn:aws:s3:::llmlab/*"]}
  ]
}
JSON
mc admin policy create local llmlab-bucket /tmp/llmlab-policy.json
mc admin user add local "$LLMLAB_S3_ACCESS_KEY" "$LLMLAB_S3_SECRET_KEY"
# attaching twice is an error in mc; only attach when the user does not have it yet
if ! mc admin user info local "$LLMLAB_S3_ACCESS_KEY" | grep -q llmlab-bucket; then
  mc admin policy attach local llmlab-bucket --user "$LLMLAB_S3_ACCESS_KEY"
fi
echo "bucket llmlab ready"
